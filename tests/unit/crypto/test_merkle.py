import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto import merkle
from crypto.merkle import CompactRange, MemoryHashStore, MerkleError, Node
from tests.vectors.load import load

VECTORS = load("rfc6962_tree")
LEAVES = [bytes.fromhex(leaf) for leaf in VECTORS["leaves"]]
LEAF_HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
ROOTS = [bytes.fromhex(root) for root in VECTORS["roots"]]
STORE = MemoryHashStore(LEAF_HASHES)
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def hashes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def distinct_leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(index.to_bytes(8, "big")) for index in range(count)]


# A direct transcription of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, recursion and all, as the oracle.
def reference_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256().digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [reference_root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), reference_root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_root(leaves[:k])]


# Vectors.


def test_leaf_and_empty_tree_hashes_are_rfc_6962s() -> None:
    assert bytes.fromhex(VECTORS["empty_root"]) == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"") == ROOTS[0]
    assert merkle.root_hash([]) == merkle.EMPTY_ROOT
    assert CompactRange().root() == merkle.EMPTY_ROOT
    assert merkle.tree_hash(0, STORE) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_tree_roots_of_every_size(size: int) -> None:
    assert merkle.root_hash(LEAF_HASHES[:size]) == ROOTS[size - 1]
    assert STORE.root(size) == ROOTS[size - 1]
    assert reference_root(LEAF_HASHES[:size]) == ROOTS[size - 1]
    compact = CompactRange()
    compact.extend(LEAF_HASHES[:size])
    assert compact.root() == ROOTS[size - 1]


@pytest.mark.parametrize("vector", VECTORS["inclusion"], ids=lambda v: f"{v['index']}-of-{v['size']}")
def test_reference_inclusion_proofs_are_generated_and_verify(vector: dict[str, object]) -> None:
    index, size, proof = vector["index"], vector["size"], vector["proof"]
    assert isinstance(index, int) and isinstance(size, int) and isinstance(proof, list)
    assert merkle.inclusion_proof(index, size, STORE) == hashes(proof)
    merkle.verify_inclusion(LEAF_HASHES[index], index, size, hashes(proof), ROOTS[size - 1])


@pytest.mark.parametrize("vector", VECTORS["consistency"], ids=lambda v: f"{v['old_size']}-to-{v['new_size']}")
def test_reference_consistency_proofs_are_generated_and_verify(vector: dict[str, object]) -> None:
    old, new, proof = vector["old_size"], vector["new_size"], vector["proof"]
    assert isinstance(old, int) and isinstance(new, int) and isinstance(proof, list)
    assert merkle.consistency_proof(old, new, STORE) == hashes(proof)
    merkle.verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], hashes(proof))


def inclusion_corruptions(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> list[tuple[int, int, bytes, list[bytes], bytes]]:
    """transparency-dev/merkle's corruptions of a valid inclusion proof (verify_test.go, corruptInclusionProof)."""
    probes = [
        (index - 1, size, leaf, proof, root),
        (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, b"WrongLeaf", proof, root),
        (index, size, leaf, proof, merkle.EMPTY_ROOT),
        (index, size, leaf, proof, SOME_HASH),
        (index, size, leaf, [*proof, b""], root),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, [b"", *proof], root),
        (index, size, leaf, [root, *proof], root),
    ]
    for position in range(len(proof)):
        flipped = list(proof)
        flipped[position] = bytes([flipped[position][0] ^ 8]) + flipped[position][1:]
        probes.append((index, size, leaf, flipped, root))
    if proof:
        probes.append((index, size, leaf, proof[:-1], root))
    if len(proof) > 1:
        probes.append((index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
    return probes


@pytest.mark.parametrize("vector", VECTORS["inclusion"][1:], ids=lambda v: f"{v['index']}-of-{v['size']}")
def test_corrupted_reference_inclusion_proofs_fail(vector: dict[str, int]) -> None:
    index, size = vector["index"], vector["size"]
    proof = merkle.inclusion_proof(index, size, STORE)
    for probe in inclusion_corruptions(index, size, LEAF_HASHES[index], proof, ROOTS[size - 1]):
        with pytest.raises(MerkleError):
            merkle.verify_inclusion(probe[2], probe[0], probe[1], probe[3], probe[4])


@pytest.mark.parametrize("vector", VECTORS["consistency"][1:], ids=lambda v: f"{v['old_size']}-to-{v['new_size']}")
def test_corrupted_reference_consistency_proofs_fail(vector: dict[str, int]) -> None:
    """transparency-dev/merkle's corruptions of a valid consistency proof (corruptConsistencyProof)."""
    old, new = vector["old_size"], vector["new_size"]
    old_root, new_root = ROOTS[old - 1], ROOTS[new - 1]
    proof = merkle.consistency_proof(old, new, STORE)
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, SOME_HASH, new_root, proof),
        (old, new, old_root, SOME_HASH, proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for position in range(len(proof)):
        flipped = list(proof)
        flipped[position] = bytes([flipped[position][0] ^ 16]) + flipped[position][1:]
        probes.append((old, new, old_root, new_root, flipped))
    for probe in probes:
        with pytest.raises(MerkleError):
            merkle.verify_consistency(*probe)


# Edge cases, as transparency-dev/merkle decides them (TestVerifyInclusion, TestVerifyConsistency).


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)])
def test_an_index_outside_the_tree_never_verifies(index: int, size: int) -> None:
    with pytest.raises(MerkleError):
        merkle.verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)


def test_a_one_leaf_tree_has_the_leaf_as_root_and_an_empty_proof() -> None:
    leaf = merkle.leaf_hash(b"data")
    merkle.verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(MerkleError):
        merkle.verify_inclusion(leaf, 0, 1, [], SOME_HASH)
    with pytest.raises(MerkleError):
        merkle.verify_inclusion(SOME_HASH, 0, 1, [], leaf)


@pytest.mark.parametrize(
    ("leaf", "root", "proof"),
    [
        (b"", ROOTS[0], []),
        (ROOTS[0], b"", []),
        (ROOTS[0], ROOTS[0] + b"\0", []),
        (LEAF_HASHES[0], ROOTS[1], [LEAF_HASHES[1][:31]]),
        (LEAF_HASHES[0], ROOTS[1], [LEAF_HASHES[1] + b"\0"]),
    ],
)
def test_hashes_of_the_wrong_length_never_verify_inclusion(leaf: bytes, root: bytes, proof: list[bytes]) -> None:
    with pytest.raises(MerkleError):
        merkle.verify_inclusion(leaf, 0, len(proof) + 1, proof, root)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, []),
        (0, 1, SOME_HASH, ROOTS[0], []),
        (0, 8, merkle.EMPTY_ROOT, ROOTS[7], []),
        (1, 1, ROOTS[0], ROOTS[0], []),
        (8, 8, ROOTS[7], ROOTS[7], []),
    ],
)
def test_always_consistent_sizes_need_an_empty_proof(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    with pytest.raises(MerkleError):
        merkle.verify_consistency(old, new, old_root, new_root, [merkle.EMPTY_ROOT])


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof"),
    [
        (0, 0, merkle.EMPTY_ROOT, SOME_HASH, []),
        (1, 1, ROOTS[0], SOME_HASH, []),
        (1, 0, ROOTS[0], merkle.EMPTY_ROOT, []),
        (2, 1, ROOTS[1], ROOTS[0], []),
        (-1, 1, ROOTS[0], ROOTS[0], []),
        (1, 2, ROOTS[0], ROOTS[1], []),
        (1, 2, ROOTS[0][:31], ROOTS[1], [LEAF_HASHES[1]]),
        (1, 2, ROOTS[0], ROOTS[1] + b"\0", [LEAF_HASHES[1]]),
        (1, 2, ROOTS[0], ROOTS[1], [LEAF_HASHES[1][:31]]),
    ],
)
def test_inconsistent_or_malformed_consistency_claims_fail(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(MerkleError):
        merkle.verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 3), (8, 8)])
def test_inclusion_proofs_are_not_made_for_leaves_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(MerkleError):
        merkle.inclusion_proof(index, size, STORE)
    with pytest.raises(MerkleError):
        merkle.inclusion_proof_nodes(index, size)


@pytest.mark.parametrize(("old", "new"), [(2, 1), (-1, 3), (3, 9)])
def test_consistency_proofs_are_not_made_backwards_or_beyond_the_store(old: int, new: int) -> None:
    with pytest.raises(MerkleError):
        merkle.consistency_proof(old, new, STORE)


def test_trivial_consistency_proofs_are_empty() -> None:
    assert merkle.consistency_proof(0, 8, STORE) == []
    assert merkle.consistency_proof(5, 5, STORE) == []
    assert merkle.consistency_proof_nodes(0, 0) == []


# Generation against the RFC's recursive definitions.


@given(st.integers(min_value=1, max_value=150), st.data())
def test_inclusion_proofs_are_rfc_9162_audit_paths(size: int, data: st.DataObject) -> None:
    leaves = distinct_leaves(size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    assert merkle.inclusion_proof(index, size, MemoryHashStore(leaves)) == reference_path(index, leaves)


@given(st.integers(min_value=1, max_value=150), st.data())
def test_consistency_proofs_are_rfc_9162_subproofs(new: int, data: st.DataObject) -> None:
    leaves = distinct_leaves(new)
    old = data.draw(st.integers(min_value=1, max_value=new))
    assert merkle.consistency_proof(old, new, MemoryHashStore(leaves)) == reference_subproof(old, leaves, True)


@given(st.integers(min_value=0, max_value=300))
def test_every_root_is_the_rfc_9162_tree_hash(size: int) -> None:
    leaves = distinct_leaves(size)
    expected = reference_root(leaves)
    assert merkle.root_hash(leaves) == expected
    assert MemoryHashStore(leaves).root() == expected


@given(st.integers(min_value=0, max_value=2**70), st.integers(min_value=0, max_value=2**20))
def test_range_nodes_cover_a_range_exactly_with_perfect_subtrees(begin: int, length: int) -> None:
    nodes = merkle.range_nodes(begin, begin + length)
    position = begin
    for node in nodes:
        assert node.begin == position
        assert node.end - node.begin == 1 << node.level
        position = node.end
    assert position == begin + length
    # Each subtree is the largest that fits: no two neighbours could merge into one.
    for left, right in zip(nodes, nodes[1:], strict=False):
        assert not (left.level == right.level and left.index % 2 == 0)


def test_range_nodes_refuse_reversed_ranges() -> None:
    with pytest.raises(MerkleError):
        merkle.range_nodes(5, 4)
    with pytest.raises(MerkleError):
        merkle.range_nodes(-1, 4)


# Verification of random proofs, and of every mutation of them.


def flip_bit(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    mutated = list(proof)
    value = bytearray(mutated[position])
    value[bit // 8] ^= 1 << (bit % 8)
    mutated[position] = bytes(value)
    return mutated


def mutations(proof: list[bytes], data: st.DataObject) -> list[list[bytes]]:
    """A bit flipped, a hash dropped, added or swapped with another: each must make the proof fail."""
    result = [[*proof, SOME_HASH], [SOME_HASH, *proof]]
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        result.append(flip_bit(proof, position, data.draw(st.integers(0, 255), label="bit")))
        result.append(proof[:position] + proof[position + 1 :])
        result.append(proof[:position] + [SOME_HASH] + proof[position:])
        other = data.draw(st.integers(0, len(proof) - 1), label="other")
        if proof[position] != proof[other]:
            swapped = list(proof)
            swapped[position], swapped[other] = swapped[other], swapped[position]
            result.append(swapped)
    return result


def assert_fails(check: Callable[[], None]) -> None:
    with pytest.raises(MerkleError):
        check()


@given(st.integers(min_value=1, max_value=600), st.data())
def test_every_inclusion_proof_verifies_and_every_mutation_fails(size: int, data: st.DataObject) -> None:
    leaves = distinct_leaves(size + 8)
    store = MemoryHashStore(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    root = store.root(size)
    proof = merkle.inclusion_proof(index, size, store)
    merkle.verify_inclusion(leaves[index], index, size, proof, root)

    for mutated in mutations(proof, data):
        with pytest.raises(MerkleError):
            merkle.verify_inclusion(leaves[index], index, size, mutated, root)
    other_index = data.draw(st.integers(0, size + 7).filter(lambda i: i != index), label="other index")
    assert_fails(lambda: merkle.verify_inclusion(leaves[index], other_index, size, proof, root))
    # Another size, with the genuine root of that size: the proof is for neither that tree nor that root.
    other_size = data.draw(st.integers(index + 1, size + 8).filter(lambda s: s != size), label="other size")
    assert_fails(lambda: merkle.verify_inclusion(leaves[index], index, other_size, proof, store.root(other_size)))
    other_leaf = leaves[size] if size < len(leaves) else SOME_HASH
    assert_fails(lambda: merkle.verify_inclusion(other_leaf, index, size, proof, root))
    assert_fails(lambda: merkle.verify_inclusion(leaves[index], index, size, proof, SOME_HASH))


@given(st.integers(min_value=2, max_value=600), st.data())
def test_every_consistency_proof_verifies_and_every_mutation_fails(new: int, data: st.DataObject) -> None:
    leaves = distinct_leaves(new + 8)
    store = MemoryHashStore(leaves)
    old = data.draw(st.integers(1, new - 1), label="old")
    old_root, new_root = store.root(old), store.root(new)
    proof = merkle.consistency_proof(old, new, store)
    merkle.verify_consistency(old, new, old_root, new_root, proof)

    for mutated in mutations(proof, data):
        with pytest.raises(MerkleError):
            merkle.verify_consistency(old, new, old_root, new_root, mutated)
    if new > 2:
        other_old = data.draw(st.integers(1, new - 1).filter(lambda s: s != old), label="other old")
        assert_fails(lambda: merkle.verify_consistency(other_old, new, store.root(other_old), new_root, proof))
    other_new = data.draw(st.integers(old + 1, new + 8).filter(lambda s: s != new), label="other new")
    assert_fails(lambda: merkle.verify_consistency(old, other_new, old_root, store.root(other_new), proof))
    assert_fails(lambda: merkle.verify_consistency(old, new, new_root, new_root, proof))
    assert_fails(lambda: merkle.verify_consistency(old, new, old_root, old_root, proof))


# The hash store seam.


def test_proof_nodes_name_what_the_store_is_asked_for() -> None:
    asked: list[Node] = []

    class RecordingStore:
        def node_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
            asked.extend(nodes)
            return STORE.node_hashes(nodes)

    merkle.inclusion_proof(2, 7, RecordingStore())
    assert asked == merkle.inclusion_proof_nodes(2, 7) == [Node(0, 3), Node(1, 0), Node(1, 2), Node(0, 6)]
    asked.clear()
    merkle.consistency_proof(3, 7, RecordingStore())
    assert asked == merkle.consistency_proof_nodes(3, 7)
    assert asked[0] == Node(0, 2)


def test_a_store_that_answers_wrongly_is_refused() -> None:
    class ShortStore:
        def node_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
            return STORE.node_hashes(nodes)[1:]

    class TruncatingStore:
        def node_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
            return [value[:16] for value in STORE.node_hashes(nodes)]

    for store in (ShortStore(), TruncatingStore()):
        with pytest.raises(MerkleError):
            merkle.inclusion_proof(0, 8, store)
        with pytest.raises(MerkleError):
            merkle.tree_hash(7, store)


def test_the_memory_store_holds_only_complete_subtrees() -> None:
    store = MemoryHashStore(LEAF_HASHES[:5])
    assert store.size == 5
    assert store.node_hashes([Node(2, 0), Node(0, 4)]) == [ROOTS[3], LEAF_HASHES[4]]
    for node in (Node(1, 2), Node(0, 5), Node(3, 0), Node(-1, 0), Node(0, -1)):
        with pytest.raises(MerkleError):
            store.node_hashes([node])
    with pytest.raises(MerkleError):
        store.root(6)
    with pytest.raises(MerkleError):
        store.append(b"short")


def test_nodes_know_their_leaf_range() -> None:
    assert (Node(3, 2).begin, Node(3, 2).end) == (16, 24)
    assert (Node(0, 7).begin, Node(0, 7).end) == (7, 8)


# The compact range.


@given(st.integers(min_value=0, max_value=1100), st.integers(min_value=0, max_value=40))
def test_a_compact_range_follows_the_tree_as_it_grows(size: int, more: int) -> None:
    leaves = distinct_leaves(size + more)
    store = MemoryHashStore(leaves)
    compact = CompactRange()
    compact.extend(leaves[:size])
    assert compact.size == size
    assert compact.hashes == tuple(store.node_hashes(merkle.range_nodes(0, size)))
    assert compact.root() == store.root(size)

    later = compact.copy()
    later.extend(leaves[size:])
    assert later.root() == store.root(size + more)
    assert compact.root() == store.root(size), "a copy grows on its own"

    resumed = CompactRange.from_store(size, store)
    resumed.extend(leaves[size:])
    assert resumed.root() == later.root()


def test_a_compact_range_refuses_what_does_not_fit() -> None:
    with pytest.raises(MerkleError):
        CompactRange().append(b"\0" * 31)
    with pytest.raises(MerkleError):
        CompactRange.from_hashes(3, [ROOTS[1]])
    with pytest.raises(MerkleError):
        CompactRange.from_hashes(-1, [])
    with pytest.raises(MerkleError):
        CompactRange.from_hashes(1, [b"short"])
    with pytest.raises(MerkleError):
        merkle.root_hash([LEAF_HASHES[0], b"short"])
