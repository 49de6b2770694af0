"""The log's Merkle tree and entries as static tiles, in the C2SP ``tlog-tiles`` layout.

A tile at level ``L`` with index ``N`` holds up to 256 consecutive hashes of Merkle level ``8 * L``: hash ``i`` is
the root of the complete subtree of ``256**L`` leaves starting at leaf ``(N * 256 + i) * 256**L``. Level 0 holds
the leaf hashes; every hash of level ``L + 1`` is the root of a full tile of level ``L``. A tile of fewer than 256
hashes is *partial*: the tree of size ``s`` has, at level ``L``, ``(s // 256**L) // 256`` full tiles and one
partial tile of ``(s // 256**L) % 256`` hashes when that number is not 0. Entry bundles hold the entries
themselves, 256 to a full bundle, each behind its length as a big-endian 16-bit number.

Resources are named by paths relative to the log's prefix: ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]``, with ``N`` written in three-digit groups, all but the last prefixed with ``x``
(1234067 is ``x001/x234/067``). :func:`parse_path` accepts only what :attr:`Tile.path` would write.

Everything that is wrong (a malformed path, a tile of the wrong length, a tile missing for a hash) raises the one
opaque :class:`TileError`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence

from crypto import merkle
from crypto.merkle import HASH_SIZE, Node

#: Merkle levels in one tile: a tile is a subtree of height 8 whose leaves are its hashes.
TILE_HEIGHT = 8
#: Hashes in a full tile, and entries in a full entry bundle.
TILE_WIDTH = 1 << TILE_HEIGHT
#: Tile levels the path grammar allows (0 to 63).
MAX_LEVEL = 63
#: Tile indexes above this are refused: no log of 2**64 entries needs one.
MAX_INDEX = (1 << 64) - 1
#: The longest entry a bundle can frame behind its 16-bit length.
MAX_ENTRY_SIZE = 0xFFFF

# ``[0-9]`` rather than ``\d``, which also matches digits of other scripts. The lengths are bounded so that no
# path, however long, turns into an unbounded integer: two digits of level, three of width, seven index groups
# (2**64 has twenty digits).
_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/){0,6}[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


class TileError(Exception):
    """A tile path, tile or entry bundle is malformed, or the tiles at hand lack a hash that was asked for.

    One class whatever went wrong; the message is for people reading logs, not for branching on.
    """


def encode_index(index: int) -> str:
    """A tile index in the path form: three-digit groups, all but the last with an ``x`` (``x001/x234/067``)."""
    if not 0 <= index <= MAX_INDEX:
        raise TileError(f"no tile index {index}")
    groups = [f"{index % 1000:03d}"]
    index //= 1000
    while index:
        groups.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(groups))


def _check_index_and_width(index: int, width: int) -> None:
    if not 0 <= index <= MAX_INDEX:
        raise TileError(f"no tile index {index}")
    if not 0 < width <= TILE_WIDTH:
        raise TileError(f"no tile of width {width}")


def _width_suffix(width: int) -> str:
    return "" if width == TILE_WIDTH else f".p/{width}"


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Tile:
    """Tile ``index`` of tile level ``level``, holding ``width`` hashes (256 for a full tile).

    Constructing one that has no path (a level outside 0 to 63, a width outside 1 to 256) raises :class:`TileError`.
    """

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_LEVEL:
            raise TileError(f"no tile level {self.level}")
        _check_index_and_width(self.index, self.width)

    @property
    def path(self) -> str:
        """Its path below the log's prefix, such as ``tile/0/x001/234`` or ``tile/1/007.p/17``."""
        return f"tile/{self.level}/{encode_index(self.index)}{_width_suffix(self.width)}"

    @property
    def full_tile(self) -> Tile:
        """The full tile this one is a prefix of (itself when it is full)."""
        return Tile(self.level, self.index)


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Bundle:
    """Entry bundle ``index``, holding entries ``index * 256`` onwards, ``width`` of them (256 when full).

    Constructing one that has no path (a width outside 1 to 256) raises :class:`TileError`.
    """

    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        _check_index_and_width(self.index, self.width)

    @property
    def path(self) -> str:
        """Its path below the log's prefix, such as ``tile/entries/x001/234`` or ``tile/entries/000.p/3``."""
        return f"tile/entries/{encode_index(self.index)}{_width_suffix(self.width)}"


def parse_path(path: str) -> Tile | Bundle:
    """The tile or entry bundle a path names, for paths exactly as :attr:`Tile.path` and :attr:`Bundle.path` write.

    The level is 0 to 63 or ``entries``, the width 1 to 255, all in decimal without leading zeros, and the index
    in its one canonical group form (``x000/001`` is refused: it is written ``001``). Raises :class:`TileError`.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError("not a tile path")
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = TILE_WIDTH if match["width"] is None else int(match["width"])
    # A partial tile is 1 to 255 wide; a full one has no suffix at all.
    if width > TILE_WIDTH - 1 and match["width"] is not None or encode_index(index) != match["index"]:
        raise TileError("not a tile path")
    if match["level"] == "entries":
        return Bundle(index, width)
    return Tile(int(match["level"]), index, width)


def partial_tiles(size: int) -> list[Tile]:
    """The partial tiles of the tree of ``size`` leaves, lowest level first (none when every tile is full)."""
    if size < 0:
        raise TileError(f"no tree of {size} leaves")
    tiles = []
    level = 0
    count = size
    while count:
        if count % TILE_WIDTH:
            tiles.append(Tile(level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
        count >>= TILE_HEIGHT
    return tiles


def partial_bundle(size: int) -> Bundle | None:
    """The partial entry bundle of a log of ``size`` entries, or None when every bundle is full."""
    if size < 0:
        raise TileError(f"no log of {size} entries")
    return Bundle(size // TILE_WIDTH, size % TILE_WIDTH) if size % TILE_WIDTH else None


def _tile_for_node(node: Node, size: int) -> tuple[Tile, int, int]:
    """The tile of the tree of ``size`` leaves holding a complete node, and the span of its hashes in that tile."""
    level, index = node.level, node.index
    if not (level >= 0 and index >= 0 and (index + 1) << level <= size):
        raise TileError(f"no complete subtree at level {level}, index {index} in a tree of {size} leaves")
    tile_level, height = divmod(level, TILE_HEIGHT)
    # The node is the root of 2**height consecutive hashes of the tile level, all in one tile.
    first = index << height
    tile_index = first // TILE_WIDTH
    stored = size >> (TILE_HEIGHT * tile_level)
    width = min(stored - tile_index * TILE_WIDTH, TILE_WIDTH)
    start = first - tile_index * TILE_WIDTH
    return Tile(tile_level, tile_index, width), start, start + (1 << height)


def tiles_for_nodes(nodes: Iterable[Node], size: int) -> list[Tile]:
    """The tiles of the tree of ``size`` leaves that hold the given complete nodes, in order, without repeats.

    With :func:`crypto.merkle.inclusion_proof_nodes`, :func:`~crypto.merkle.consistency_proof_nodes` or
    :func:`~crypto.merkle.range_nodes` ``(0, size)``, these are the tiles to fetch for a proof or a root.
    Raises :class:`TileError` for a node that is not complete in that tree.
    """
    return list(dict.fromkeys(_tile_for_node(node, size)[0] for node in nodes))


def tile_bytes(hashes: Sequence[bytes]) -> bytes:
    """A tile's contents: 1 to 256 hashes of 32 bytes, concatenated; raises :class:`TileError` otherwise."""
    if not 0 < len(hashes) <= TILE_WIDTH or any(len(value) != HASH_SIZE for value in hashes):
        raise TileError("a tile holds 1 to 256 hashes of 32 bytes")
    return b"".join(hashes)


def tile_hashes(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """The hashes in a tile of ``width`` hashes; raises :class:`TileError` unless it is exactly that long."""
    if not 0 < width <= TILE_WIDTH or len(data) != width * HASH_SIZE:
        raise TileError(f"a tile of width {width} is {width * HASH_SIZE} bytes, not {len(data)}")
    return [data[offset : offset + HASH_SIZE] for offset in range(0, len(data), HASH_SIZE)]


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree (a power-of-two count of hashes), level by level."""
    level = list(hashes)
    while len(level) > 1:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class TileHashes:
    """The hashes of complete subtrees of the tree of ``size`` leaves, read from tiles: a merkle ``HashStore``.

    ``tiles`` maps each tile to its contents, as :func:`tiles_for_nodes` named them; where a partial tile is
    missing, the full tile of the same level and index serves instead (it begins with the same hashes). A node
    above a tile level is recomputed from the tile's hashes, as the specification intends.
    """

    __slots__ = ("_size", "_tiles")

    def __init__(self, size: int, tiles: Mapping[Tile, bytes]) -> None:
        self._size = size
        self._tiles = tiles

    def _read(self, tile: Tile) -> bytes:
        data = self._tiles.get(tile)
        if data is None:
            data = self._tiles.get(tile.full_tile)
            if data is None:
                raise TileError(f"tile {tile.path} is missing")
            tile = tile.full_tile
        if len(data) != tile.width * HASH_SIZE:
            raise TileError(f"tile {tile.path} is {len(data)} bytes, not {tile.width * HASH_SIZE}")
        return data

    def node_hash(self, level: int, index: int) -> bytes:
        """The hash of one complete subtree; raises :class:`TileError` if its tile is missing or malformed."""
        tile, start, stop = _tile_for_node(Node(level, index), self._size)
        data = self._read(tile)
        return subtree_root([data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(start, stop)])

    def node_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
        """The hash of each complete subtree, in order; raises :class:`TileError` as :meth:`node_hash` does."""
        return [self.node_hash(node.level, node.index) for node in nodes]


def tree_hash(size: int, tiles: Mapping[Tile, bytes]) -> bytes:
    """The root of the tree of ``size`` leaves from its tiles, to check a checkpoint; raises :class:`TileError`.

    The tiles needed are exactly :func:`partial_tiles` ``(size)``: every subtree the root folds together lies in the
    partial tile of its level.
    """
    if size < 0:
        raise TileError(f"no tree of {size} leaves")
    return merkle.tree_hash(size, TileHashes(size, tiles))


def append_tiles(old_size: int, edge: Mapping[int, bytes], leaf_hashes: Sequence[bytes]) -> list[tuple[Tile, bytes]]:
    """The tiles that appending leaf hashes to the tree of ``old_size`` leaves creates or extends, with contents.

    ``edge`` maps each level of :func:`partial_tiles` ``(old_size)`` to that partial tile's contents (levels that
    end on a full tile need no entry). The result holds, level by level, every tile of the new size that differs
    from the old one: new full tiles, and the partial tiles of the new size. Partial tiles of sizes in between are
    not made; the specification asks only for those of sizes that get a checkpoint. Raises :class:`TileError` for
    a leaf hash that is not 32 bytes or an edge tile that does not fit ``old_size``.
    """
    if old_size < 0:
        raise TileError(f"no tree of {old_size} leaves")
    if any(len(value) != HASH_SIZE for value in leaf_hashes):
        raise TileError("a leaf hash is 32 bytes")
    result = []
    level = 0
    count = old_size
    added: Sequence[bytes] = leaf_hashes
    while added:
        first_tile, kept = divmod(count, TILE_WIDTH)
        old = edge.get(level, b"")
        if len(old) != kept * HASH_SIZE:
            raise TileError(f"the partial tile at level {level} should hold {kept} hashes")
        data = old + b"".join(added)
        full_tiles: list[bytes] = []
        for number, offset in enumerate(range(0, len(data), TILE_WIDTH * HASH_SIZE)):
            chunk = data[offset : offset + TILE_WIDTH * HASH_SIZE]
            result.append((Tile(level, first_tile + number, len(chunk) // HASH_SIZE), chunk))
            if len(chunk) == TILE_WIDTH * HASH_SIZE:
                full_tiles.append(subtree_root(tile_hashes(chunk)))
        # Only full tiles are hashed into the level above.
        added = full_tiles
        count //= TILE_WIDTH
        level += 1
    return result


def bundle_bytes(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: 1 to 256 entries, each behind its big-endian 16-bit length; raises :class:`TileError`."""
    if not 0 < len(entries) <= TILE_WIDTH or any(len(entry) > MAX_ENTRY_SIZE for entry in entries):
        raise TileError(f"a bundle holds 1 to 256 entries of at most {MAX_ENTRY_SIZE} bytes")
    return b"".join(len(entry).to_bytes(2, "big") + entry for entry in entries)


def bundle_entries(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """The entries of a bundle of ``width`` entries; raises :class:`TileError` for any other count or a stray byte.

    Each entry is for the caller to check against the level 0 tile (:func:`crypto.merkle.leaf_hash`).
    """
    if not 0 < width <= TILE_WIDTH:
        raise TileError(f"no bundle of width {width}")
    entries = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 2:
            raise TileError("the bundle ends inside a length")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if len(data) - offset < length:
            raise TileError("the bundle ends inside an entry")
        entries.append(data[offset : offset + length])
        offset += length
        if len(entries) > width:
            raise TileError(f"the bundle holds more than {width} entries")
    if len(entries) != width:
        raise TileError(f"the bundle holds {len(entries)} entries, not {width}")
    return entries


def append_bundles(old_size: int, edge: bytes, entries: Sequence[bytes]) -> list[tuple[Bundle, bytes]]:
    """The entry bundles that appending entries to a log of ``old_size`` entries creates or extends.

    ``edge`` is the contents of :func:`partial_bundle` ``(old_size)`` (empty when the log ends on a full bundle).
    Raises :class:`TileError` for an entry over 65,535 bytes or an edge bundle that does not fit ``old_size``.
    """
    if old_size < 0:
        raise TileError(f"no log of {old_size} entries")
    first, kept = divmod(old_size, TILE_WIDTH)
    existing = bundle_entries(edge, kept) if kept else []
    if not kept and edge:
        raise TileError("the log ends on a full bundle; there is no partial one")
    if not entries:
        return []
    combined = [*existing, *entries]
    return [
        (Bundle(first + number, len(chunk)), bundle_bytes(chunk))
        for number, chunk in enumerate(
            combined[offset : offset + TILE_WIDTH] for offset in range(0, len(combined), TILE_WIDTH)
        )
    ]
