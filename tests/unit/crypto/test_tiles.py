import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import merkle, tiles
from crypto.merkle import MemoryHashStore, Node
from crypto.tiles import Bundle, Tile, TileError, TileHashes
from tests.vectors.load import load

VECTORS = load("tlog_tiles")


def leaf_hashes(count: int) -> list[bytes]:
    return [merkle.leaf_hash(index.to_bytes(8, "big")) for index in range(count)]


@functools.cache
def grown_log(batches: tuple[int, ...]) -> tuple[dict[Tile, bytes], MemoryHashStore, list[int]]:
    """A log grown batch by batch as the audit log grows it: every tile written, and the sizes checkpointed."""
    hashes = leaf_hashes(sum(batches))
    written: dict[Tile, bytes] = {}
    sizes = []
    size = 0
    for batch in batches:
        edge = {tile.level: written[tile] for tile in tiles.partial_tiles(size)}
        for tile, data in tiles.append_tiles(size, edge, hashes[size : size + batch]):
            written[tile] = data
        size += batch
        sizes.append(size)
    return written, MemoryHashStore(hashes), sizes


def fetch(written: dict[Tile, bytes], needed: list[Tile]) -> dict[Tile, bytes]:
    """What a client gets: each tile asked for, or the full tile when the partial one is gone."""
    return {
        tile if tile in written else tile.full_tile: written.get(tile) or written[tile.full_tile] for tile in needed
    }


# Paths.


@pytest.mark.parametrize("vector", VECTORS["index_paths"], ids=lambda v: v["path"])
def test_the_specifications_index_example(vector: dict[str, object]) -> None:
    assert tiles.encode_index(vector["index"]) == vector["path"]  # type: ignore[arg-type]  # the vector file gives an int


@pytest.mark.parametrize(
    ("index", "text"),
    [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (2**64 - 1, "x018/x446/x744/x073/x709/x551/615")],
)
def test_indexes_are_written_in_three_digit_groups(index: int, text: str) -> None:
    assert tiles.encode_index(index) == text


@pytest.mark.parametrize("index", [-1, 2**64])
def test_indexes_outside_64_bits_are_refused(index: int) -> None:
    with pytest.raises(TileError):
        tiles.encode_index(index)


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        (Tile(0, 1234067), "tile/0/x001/x234/067"),
        (Tile(0, 1234067, 8), "tile/0/x001/x234/067.p/8"),
        (Tile(63, 0, 255), "tile/63/000.p/255"),
        (Tile(2, 0, 1), "tile/2/000.p/1"),
        (Bundle(0), "tile/entries/000"),
        (Bundle(1000, 17), "tile/entries/x001/000.p/17"),
    ],
)
def test_paths_are_written_and_read_back(resource: Tile | Bundle, path: str) -> None:
    assert resource.path == path
    assert tiles.parse_path(path) == resource


@given(st.integers(0, 63), st.integers(0, 2**64 - 1), st.integers(1, 256), st.booleans())
def test_every_tile_and_bundle_path_round_trips(level: int, index: int, width: int, entries: bool) -> None:
    resource: Tile | Bundle = Bundle(index, width) if entries else Tile(level, index, width)
    assert tiles.parse_path(resource.path) == resource


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile/0/1",
        "tile/0/01",
        "tile/0/0001",
        "tile/0/x000/001",
        "tile/0/x001",
        "tile/0/001/002",
        "tile/0/x001/x002",
        "tile/0/X001/002",
        "tile/0/x001/234/",
        "tile//001",
        "tile/00/001",
        "tile/01/001",
        "tile/64/001",
        "tile/-1/001",
        "tile/+1/001",
        "tile/\N{ARABIC-INDIC DIGIT ONE}/001",
        "tile/0/\N{ARABIC-INDIC DIGIT ONE}23",
        "tile/0/001.p/0",
        "tile/0/001.p/256",
        "tile/0/001.p/08",
        "tile/0/001.p/",
        "tile/0/001.p",
        "tile/0/001.p/5/",
        "tile/0/001.P/5",
        "tile/0/001.q/5",
        "tile/0/001\n",
        "/tile/0/001",
        "tile/entry/001",
        "tile/entries/x000/001",
        "tile/entries/001.p/256",
        "tile/data/001",
        "tiles/0/001",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
        "tile/0/" + "x999/" * 7 + "999",
        "tile/" + "9" * 5000 + "/001",
    ],
)
def test_malformed_paths_are_refused(path: str) -> None:
    with pytest.raises(TileError):
        tiles.parse_path(path)


@pytest.mark.parametrize(("level", "index", "width"), [(0, 0, 0), (0, 0, 257), (0, 0, -1), (-1, 0, 1), (64, 0, 1)])
def test_tiles_without_a_path_cannot_be_made(level: int, index: int, width: int) -> None:
    with pytest.raises(TileError):
        Tile(level, index, width)


@pytest.mark.parametrize(("index", "width"), [(0, 0), (0, 257), (-1, 1), (2**64, 1)])
def test_bundles_without_a_path_cannot_be_made(index: int, width: int) -> None:
    with pytest.raises(TileError):
        Bundle(index, width)


# Which tiles a tree has.


@pytest.mark.parametrize("vector", VECTORS["trees"], ids=lambda v: str(v["size"]))
def test_the_specifications_example_trees(vector: dict[str, object]) -> None:
    size = vector["size"]
    assert isinstance(size, int)
    expected_partial = [Tile(p["level"], 0, p["width"]) for p in vector["partial"]]  # type: ignore[attr-defined]  # the vector file gives a list of objects
    partial = tiles.partial_tiles(size)
    assert [(tile.level, tile.width) for tile in partial] == [(tile.level, tile.width) for tile in expected_partial]

    written = tiles.append_tiles(0, {}, leaf_hashes(size))
    full_counts: dict[str, int] = {}
    for tile, data in written:
        assert len(data) == tile.width * merkle.HASH_SIZE
        if tile.width == tiles.TILE_WIDTH:
            full_counts[str(tile.level)] = full_counts.get(str(tile.level), 0) + 1
    assert {level: full_counts.get(level, 0) for level in vector["full"]} == vector["full"]  # type: ignore[attr-defined]  # the vector file gives an object
    assert [tile for tile, _ in written if tile.width < tiles.TILE_WIDTH] == partial


def test_trees_of_whole_tiles_have_no_partial_tiles_at_the_bottom() -> None:
    assert tiles.partial_tiles(0) == []
    assert tiles.partial_tiles(256 * 256) == [Tile(2, 0, 1)]
    assert tiles.partial_bundle(0) is None
    assert tiles.partial_bundle(512) is None
    assert tiles.partial_bundle(70000) == Bundle(273, 112)
    with pytest.raises(TileError):
        tiles.partial_tiles(-1)
    with pytest.raises(TileError):
        tiles.partial_bundle(-1)


def test_nodes_are_found_in_the_tile_of_their_level() -> None:
    size = 70000
    # A leaf, a node inside a level 0 tile, a level 1 hash, and the last complete node of level 8 in a partial tile.
    assert tiles.tiles_for_nodes([Node(0, 300)], size) == [Tile(0, 1)]
    assert tiles.tiles_for_nodes([Node(3, 40)], size) == [Tile(0, 1)]
    assert tiles.tiles_for_nodes([Node(8, 272)], size) == [Tile(1, 1, 17)]
    assert tiles.tiles_for_nodes([Node(0, 69999), Node(0, 69998)], size) == [Tile(0, 273, 112)]
    for node in (Node(0, 70000), Node(4, 4375), Node(-1, 0), Node(0, -1)):
        with pytest.raises(TileError):
            tiles.tiles_for_nodes([node], size)


# Building tiles, and reading hashes back from them.


@given(st.lists(st.integers(1, 700), min_size=1, max_size=6), st.data())
def test_tiles_grown_in_batches_give_every_root_and_proof(batches: list[int], data: st.DataObject) -> None:
    written, store, sizes = grown_log(tuple(batches))
    for size in sizes:
        needed = tiles.tiles_for_nodes(merkle.range_nodes(0, size), size)
        assert sorted(needed) == sorted(tiles.partial_tiles(size))
        assert tiles.tree_hash(size, fetch(written, needed)) == store.root(size)

    size = data.draw(st.sampled_from(sizes), label="checkpointed size")
    index = data.draw(st.integers(0, size - 1), label="index")
    needed = tiles.tiles_for_nodes(merkle.inclusion_proof_nodes(index, size), size)
    from_tiles = merkle.inclusion_proof(index, size, TileHashes(size, fetch(written, needed)))
    assert from_tiles == merkle.inclusion_proof(index, size, store)

    old = data.draw(st.sampled_from([0, *sizes]).filter(lambda s: s <= size), label="old size")
    needed = tiles.tiles_for_nodes(merkle.consistency_proof_nodes(old, size), size)
    from_tiles = merkle.consistency_proof(old, size, TileHashes(size, fetch(written, needed)))
    assert from_tiles == merkle.consistency_proof(old, size, store)


def test_tiles_of_a_large_tree_match_its_hashes() -> None:
    written, store, sizes = grown_log((1, 300, 65_000, 5_000))
    size = sizes[-1]
    assert tiles.tree_hash(size, written) == store.root(size)
    reader = TileHashes(size, written)
    for node in (Node(0, 0), Node(8, 0), Node(16, 0), Node(9, 100), Node(15, 1), Node(10, 67), Node(0, size - 1)):
        assert reader.node_hash(node.level, node.index) == store.node_hashes([node])[0]
    # Level 1 tile 0 is full, and its hashes are the roots of the first 256 level 0 tiles.
    assert tiles.tile_hashes(written[Tile(1, 0)]) == store.node_hashes([Node(8, i) for i in range(256)])


def test_a_missing_or_damaged_tile_is_an_error() -> None:
    written, _, sizes = grown_log((600,))
    size = sizes[-1]
    needed = tiles.tiles_for_nodes(merkle.range_nodes(0, size), size)
    # 600 leaves: a level 9 node, read from two hashes of level 1, then three nodes inside the last level 0 tile.
    assert needed == [Tile(1, 0, 2), Tile(0, 2, 88)]
    with pytest.raises(TileError):
        tiles.tree_hash(size, {Tile(1, 0, 2): written[Tile(1, 0, 2)]})
    with pytest.raises(TileError):
        tiles.tree_hash(size, {Tile(1, 0, 2): written[Tile(1, 0, 2)][:-1], Tile(0, 2, 88): written[Tile(0, 2, 88)]})
    # A full tile standing in for a partial one must be full.
    with pytest.raises(TileError):
        tiles.tree_hash(size, {Tile(1, 0, 2): written[Tile(1, 0, 2)], Tile(0, 2): written[Tile(0, 2, 88)]})


def test_there_is_no_tree_of_negative_size() -> None:
    with pytest.raises(TileError):
        tiles.tree_hash(-1, {})


def test_the_full_tile_stands_in_for_a_partial_one_it_extends() -> None:
    written, store, _ = grown_log((100, 400))
    at_100 = {Tile(0, 0): written[Tile(0, 0)]}
    assert tiles.tree_hash(100, at_100) == store.root(100)


def test_appending_needs_the_edge_tiles_of_the_old_size() -> None:
    hashes = leaf_hashes(300)
    first = dict(tiles.append_tiles(0, {}, hashes[:10]))
    assert list(first) == [Tile(0, 0, 10)]
    with pytest.raises(TileError):
        tiles.append_tiles(10, {}, hashes[10:20])
    with pytest.raises(TileError):
        tiles.append_tiles(10, {0: first[Tile(0, 0, 10)][:-32]}, hashes[10:20])
    with pytest.raises(TileError):
        tiles.append_tiles(10, {0: first[Tile(0, 0, 10)]}, [b"short"])
    with pytest.raises(TileError):
        tiles.append_tiles(-1, {}, hashes)
    assert tiles.append_tiles(10, {}, []) == []


def test_tile_contents_are_checked() -> None:
    hashes = leaf_hashes(3)
    assert tiles.tile_hashes(tiles.tile_bytes(hashes), 3) == hashes
    for bad in ([], [b"short"], leaf_hashes(257)):
        with pytest.raises(TileError):
            tiles.tile_bytes(bad)
    for data, width in ((b"\0" * 64, 3), (b"\0" * 64, 0), (b"\0" * 8224, 257), (b"\0" * 65, 2)):
        with pytest.raises(TileError):
            tiles.tile_hashes(data, width)


# Entry bundles.


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=256))
def test_bundles_round_trip(entries: list[bytes]) -> None:
    data = tiles.bundle_bytes(entries)
    assert tiles.bundle_entries(data, len(entries)) == entries


def test_bundle_entries_carry_big_endian_16_bit_lengths() -> None:
    assert tiles.bundle_bytes([b"", b"ab", b"\xff" * 258]) == b"\0\0\0\x02ab\x01\x02" + b"\xff" * 258
    assert tiles.bundle_entries(b"\xff\xff" + b"x" * 65535, 1) == [b"x" * 65535]


@pytest.mark.parametrize(
    ("data", "width"),
    [
        (b"", 1),
        (b"\0", 1),
        (b"\0\x02a", 1),
        (b"\0\0\0\0", 1),
        (b"\0\0", 2),
        (b"\0\0", 0),
        (b"\0\0" * 257, 257),
        (b"\0\x01a\0", 1),
    ],
)
def test_malformed_bundles_are_refused(data: bytes, width: int) -> None:
    with pytest.raises(TileError):
        tiles.bundle_entries(data, width)


@pytest.mark.parametrize("entries", [[], [b"x" * 65536], [b""] * 257])
def test_bundles_hold_1_to_256_entries_of_at_most_65535_bytes(entries: list[bytes]) -> None:
    with pytest.raises(TileError):
        tiles.bundle_bytes(entries)


def test_bundles_grow_with_the_log() -> None:
    entries = [index.to_bytes(2, "big") for index in range(600)]
    first = tiles.append_bundles(0, b"", entries[:100])
    assert first == [(Bundle(0, 100), tiles.bundle_bytes(entries[:100]))]
    second = tiles.append_bundles(100, first[0][1], entries[100:600])
    assert [bundle for bundle, _ in second] == [Bundle(0), Bundle(1), Bundle(2, 88)]
    collected = [entry for bundle, data in second for entry in tiles.bundle_entries(data, bundle.width)]
    assert collected == entries
    assert tiles.append_bundles(512, b"", entries[:1]) == [(Bundle(2, 1), tiles.bundle_bytes(entries[:1]))]
    assert tiles.append_bundles(100, first[0][1], []) == []
    with pytest.raises(TileError):
        tiles.append_bundles(512, first[0][1], entries[:1])
    with pytest.raises(TileError):
        tiles.append_bundles(101, first[0][1], entries[:1])
    with pytest.raises(TileError):
        tiles.append_bundles(-1, b"", entries[:1])


@given(st.text(alphabet="tile/entrsx0123456789.p", max_size=40) | st.text(max_size=40))
def test_any_text_either_parses_as_a_tile_path_or_raises_tile_error(path: str) -> None:
    try:
        resource = tiles.parse_path(path)
    except TileError:
        return
    assert resource.path == path


@given(st.binary(max_size=600), st.integers(-1, 300))
def test_any_bytes_either_parse_as_a_bundle_or_raise_tile_error(data: bytes, width: int) -> None:
    try:
        entries = tiles.bundle_entries(data, width)
    except TileError:
        return
    assert tiles.bundle_bytes(entries) == data
