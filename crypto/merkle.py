"""Merkle trees of the audit log, as RFC 9162 §2.1 defines them (the same trees as RFC 6962).

A tree over entries ``D[0:n]`` hashes each entry to a leaf hash ``SHA-256(0x00 || entry)`` and each pair of
subtrees to ``SHA-256(0x01 || left || right)``; the split of ``n > 1`` leaves is at the largest power of two
smaller than ``n``. Every hash here is 32 bytes.

Tree sizes and indexes are the log's own numbers, so the tree is described by *nodes*: ``Node(level, index)`` is
the perfect subtree of ``2**level`` leaves starting at leaf ``index * 2**level``. Every proof element and every root
is either such a node or the fold of a few of them, which is what lets the audit log compute proofs from stored
hashes (tiles, see :mod:`crypto.tiles`) without holding the leaves: a :class:`HashStore` answers the hashes of
nodes, and the functions here say which nodes they need before they ask.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. The cases those algorithms leave open are
decided as transparency-dev/merkle decides them: an index at or beyond the size fails; sizes that go backwards
fail; equal sizes are consistent when the roots are equal and the proof is empty; the empty tree is consistent
with every tree, with an empty proof. Every failure, of any kind, is the one opaque :class:`MerkleError`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

#: Bytes in every hash: leaves, nodes, roots and proof elements are SHA-256 digests.
HASH_SIZE = 32
#: The root of the tree of no entries, ``SHA-256()`` (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Hashing 0x01 once and copying the state is the cheapest way CPython offers to hash ``0x01 || left || right``:
# no concatenation is allocated per node.
_LEAF_PREFIXED = hashlib.sha256(b"\x00")
_NODE_PREFIXED = hashlib.sha256(b"\x01")


class MerkleError(Exception):
    """A proof does not verify, a hash is not 32 bytes, or a size or index lies outside the tree.

    Deliberately one class whatever went wrong: a caller treats every case the same way (the proof or the
    request is refused). The message is for people reading logs, not for branching on.
    """


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Node:
    """The perfect subtree of ``2**level`` leaves that starts at leaf ``index * 2**level``."""

    level: int
    index: int

    @property
    def begin(self) -> int:
        """Index of its first leaf."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """Index one past its last leaf."""
        return (self.index + 1) << self.level


class HashStore(Protocol):
    """Where proofs and roots get the hashes of complete subtrees.

    The in-memory :class:`MemoryHashStore` implements it, and so does :class:`crypto.tiles.TileHashes` over tiles
    fetched from the log's storage. Callers that must fetch asynchronously first ask :func:`inclusion_proof_nodes`,
    :func:`consistency_proof_nodes` or :func:`range_nodes` which nodes will be needed, fetch them, then call the
    proof function with a store over what they fetched.
    """

    def node_hashes(self, nodes: Sequence[Node]) -> Sequence[bytes]:
        """The hash of each node, in order; raises the store's error for a node it does not hold."""
        ...


def leaf_hash(entry: bytes) -> bytes:
    """The leaf hash of one log entry: ``SHA-256(0x00 || entry)``."""
    hasher = _LEAF_PREFIXED.copy()
    hasher.update(entry)
    return hasher.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node from its children's hashes: ``SHA-256(0x01 || left || right)``.

    The lengths are not checked here, so that the hot paths stay fast; public entry points check them first.
    """
    hasher = _NODE_PREFIXED.copy()
    hasher.update(left)
    hasher.update(right)
    return hasher.digest()


def _check_hash(value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise MerkleError(f"a hash must be {HASH_SIZE} bytes, not {len(value)}")


def _check_hashes(values: Iterable[bytes]) -> None:
    for value in values:
        _check_hash(value)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root of consecutive perfect subtrees of decreasing size, as RFC 9162 splits them: right to left."""
    result = hashes[-1]
    for position in range(len(hashes) - 2, -1, -1):
        result = node_hash(hashes[position], result)
    return result


def range_nodes(begin: int, end: int) -> list[Node]:
    """The largest perfect subtrees that exactly cover leaves ``[begin, end)``, left to right.

    For ``[0, size)`` these are the subtrees whose fold is the tree's root (one per bit set in ``size``), and for a
    right edge ``[start, size)`` of a tree they are the subtrees whose fold is that edge's hash in the tree. Raises
    :class:`MerkleError` unless ``0 <= begin <= end``.
    """
    if not 0 <= begin <= end:
        raise MerkleError(f"no leaf range [{begin}, {end})")
    nodes = []
    while begin < end:
        # The largest subtree aligned at ``begin`` (any, when begin is 0) that still fits before ``end``.
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append(Node(level, begin >> level))
        begin += 1 << level
    return nodes


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 §2.1.1) of a whole tree from its leaf hashes; raises :class:`MerkleError`."""
    compact = CompactRange()
    compact.extend(leaf_hashes)
    return compact.root()


def _path_plan(level: int, index: int, size: int) -> list[tuple[Node, ...]]:
    """The audit path from a complete node up to the root of the tree of ``size`` leaves, bottom up.

    Each element is the nodes whose fold is one proof hash: a single node when the sibling is complete, or the
    nodes covering the tree's right edge when the sibling is cut short by the tree's size. A sibling wholly beyond
    the size contributes nothing: RFC 9162 promotes the node a level without hashing it.
    """
    plan: list[tuple[Node, ...]] = []
    while index or (1 << level) < size:
        sibling = index ^ 1
        start = sibling << level
        if start < size:
            stop = (sibling + 1) << level
            plan.append((Node(level, sibling),) if stop <= size else tuple(range_nodes(start, size)))
        level += 1
        index >>= 1
    return plan


def _inclusion_plan(index: int, size: int) -> list[tuple[Node, ...]]:
    if not 0 <= index < size:
        raise MerkleError(f"leaf {index} is not in a tree of {size} leaves")
    return _path_plan(0, index, size)


def _consistency_plan(old_size: int, new_size: int) -> list[tuple[Node, ...]]:
    if not 0 <= old_size <= new_size:
        raise MerkleError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    # RFC 9162 §2.1.4.1, SUBPROOF: the recursion stops at the last perfect subtree of the old tree, the one that
    # ends at old_size. Its hash comes first, unless the old tree is that very subtree (old_size a power of two),
    # whose hash the verifier already holds as the old root; then comes its audit path in the new tree.
    level = (old_size & -old_size).bit_length() - 1
    index = (old_size - 1) >> level
    head = [(Node(level, index),)] if index else []
    return head + _path_plan(level, index, new_size)


def _flatten(plan: list[tuple[Node, ...]]) -> list[Node]:
    return [node for element in plan for node in element]


def _hashes_from_plan(plan: list[tuple[Node, ...]], store: HashStore) -> list[bytes]:
    nodes = _flatten(plan)
    hashes = list(store.node_hashes(nodes))
    if len(hashes) != len(nodes):
        raise MerkleError("the hash store answered a different number of hashes than asked")
    _check_hashes(hashes)
    proof = []
    position = 0
    for element in plan:
        proof.append(_fold(hashes[position : position + len(element)]))
        position += len(element)
    return proof


def inclusion_proof_nodes(index: int, size: int) -> list[Node]:
    """The complete subtrees whose hashes :func:`inclusion_proof` will ask the store for, in the order it asks."""
    return _flatten(_inclusion_plan(index, size))


def inclusion_proof(index: int, size: int, store: HashStore) -> list[bytes]:
    """The RFC 9162 §2.1.3.1 audit path of leaf ``index`` in the tree of ``size`` leaves, bottom up.

    Raises :class:`MerkleError` unless ``0 <= index < size``; whatever the store raises for hashes it lacks.
    """
    return _hashes_from_plan(_inclusion_plan(index, size), store)


def consistency_proof_nodes(old_size: int, new_size: int) -> list[Node]:
    """The complete subtrees whose hashes :func:`consistency_proof` will ask the store for, in order."""
    return _flatten(_consistency_plan(old_size, new_size))


def consistency_proof(old_size: int, new_size: int, store: HashStore) -> list[bytes]:
    """The RFC 9162 §2.1.4.1 consistency proof between the trees of ``old_size`` and ``new_size`` leaves.

    It is empty when ``old_size`` is 0 or equals ``new_size``. Raises :class:`MerkleError` unless
    ``0 <= old_size <= new_size``; whatever the store raises for hashes it lacks.
    """
    return _hashes_from_plan(_consistency_plan(old_size, new_size), store)


def tree_hash(size: int, store: HashStore) -> bytes:
    """The root of the tree of the first ``size`` leaves, from the store (:data:`EMPTY_ROOT` for size 0)."""
    if size == 0:
        return EMPTY_ROOT
    return _hashes_from_plan([tuple(range_nodes(0, size))], store)[0]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` leaves and ``root``.

    Returns nothing when it does; raises :class:`MerkleError` otherwise, including for any hash that is not 32
    bytes and for a proof one hash too long or too short. Follows RFC 9162 §2.1.3.2.
    """
    _check_hash(leaf)
    _check_hash(root)
    _check_hashes(proof)
    # Step 1: an index at or beyond the size (which covers every index of the empty tree) proves nothing.
    if not 0 <= index < size:
        raise MerkleError(f"leaf {index} is not in a tree of {size} leaves")
    # Steps 2 and 3.
    fn, sn = index, size - 1
    r = leaf
    # Step 4.
    for p in proof:
        if sn == 0:
            raise MerkleError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                # The node is the last on its level: climb past the levels where it has no right sibling.
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # Step 5.
    if sn != 0:
        raise MerkleError("the inclusion proof is too short")
    if r != root:
        raise MerkleError("the inclusion proof does not lead to the root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that ``proof`` shows the tree of ``old_size`` leaves and ``old_root`` to be a prefix of the newer one.

    Returns nothing when it does; raises :class:`MerkleError` otherwise, including for any hash that is not 32
    bytes and for sizes that go backwards. Follows RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``; equal sizes
    need equal roots and no proof, and an empty old tree needs no proof.
    """
    _check_hash(old_root)
    _check_hash(new_root)
    _check_hashes(proof)
    if not 0 <= old_size <= new_size:
        raise MerkleError(f"a tree of {new_size} leaves cannot follow one of {old_size}")
    if old_size == new_size or old_size == 0:
        if proof:
            raise MerkleError("the consistency proof should be empty")
        if old_size == new_size and old_root != new_root:
            raise MerkleError("two trees of the same size have different roots")
        return
    # Step 1.
    if not proof:
        raise MerkleError("the consistency proof is empty")
    # Step 2: the old tree is itself a perfect subtree, and its root the proof's implicit first hash.
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Steps 3 and 4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise MerkleError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise MerkleError("the consistency proof is too short")
    if fr != old_root or sr != new_root:
        raise MerkleError("the consistency proof does not lead to the roots")


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``: all a log needs to keep appending.

    One hash per bit set in the size, largest subtree first. Appending a leaf merges the trailing subtrees of
    equal size, one hash per merge (one on average), and :meth:`root` folds the few that remain. A log restarting
    from storage rebuilds it with :meth:`from_store` instead of reading every leaf again.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """The range of a tree of ``size`` leaves from the hashes of its :func:`range_nodes` ``(0, size)``.

        Raises :class:`MerkleError` when the number of hashes does not match the size or a hash is not 32 bytes.
        """
        if size < 0 or len(hashes) != size.bit_count():
            raise MerkleError(f"a tree of {size} leaves has {max(size, 0).bit_count()} subtree roots")
        _check_hashes(hashes)
        compact = cls()
        compact._size = size
        compact._hashes = list(hashes)
        return compact

    @classmethod
    def from_store(cls, size: int, store: HashStore) -> CompactRange:
        """The range of the first ``size`` leaves, from the hashes of :func:`range_nodes` ``(0, size)`` in a store."""
        return cls.from_hashes(size, list(store.node_hashes(range_nodes(0, size))))

    @property
    def size(self) -> int:
        """How many leaves it covers."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The subtree roots, largest subtree first (the nodes of :func:`range_nodes` ``(0, size)``)."""
        return tuple(self._hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at the end; raises :class:`MerkleError` unless it is 32 bytes."""
        if len(leaf) != HASH_SIZE:
            raise MerkleError(f"a hash must be {HASH_SIZE} bytes, not {len(leaf)}")
        hashes = self._hashes
        size = self._size
        self._size = size + 1
        # Each trailing 1 bit of the old size is a subtree as large as the one being carried: merge them.
        while size & 1:
            hasher = _NODE_PREFIXED.copy()
            hasher.update(hashes.pop())
            hasher.update(leaf)
            leaf = hasher.digest()
            size >>= 1
        hashes.append(leaf)

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaf hashes at the end, in order; raises :class:`MerkleError` at the first that is not 32 bytes."""
        append = self.append
        for leaf in leaves:
            append(leaf)

    def root(self) -> bytes:
        """The root of the tree of the leaves covered so far (:data:`EMPTY_ROOT` when there are none)."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def copy(self) -> CompactRange:
        """An independent copy, to compute roots of later sizes without changing this one."""
        return CompactRange.from_hashes(self._size, self._hashes)


class MemoryHashStore:
    """Every complete subtree hash of a growing tree, in memory: a :class:`HashStore` for tests and small logs.

    Each level is one ``bytearray`` of consecutive 32-byte hashes, so a million leaves take about 64 MB.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self.extend(leaves)

    @property
    def size(self) -> int:
        """How many leaves it holds."""
        return len(self._levels[0]) // HASH_SIZE

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at the end; raises :class:`MerkleError` unless it is 32 bytes."""
        _check_hash(leaf)
        levels = self._levels
        level = 0
        levels[0] += leaf
        # A subtree completes at every level where the new node is a right child.
        while len(levels[level]) % (2 * HASH_SIZE) == 0:
            pair = bytes(levels[level][-2 * HASH_SIZE :])
            if level + 1 == len(levels):
                levels.append(bytearray())
            level += 1
            levels[level] += node_hash(pair[:HASH_SIZE], pair[HASH_SIZE:])

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaf hashes at the end, in order; raises :class:`MerkleError` at the first that is not 32 bytes."""
        for leaf in leaves:
            self.append(leaf)

    def node_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
        """The hash of each complete subtree; raises :class:`MerkleError` for a node the tree does not hold yet."""
        result = []
        for node in nodes:
            level, index = node.level, node.index
            if not (0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]) // HASH_SIZE):
                raise MerkleError(f"no complete subtree at level {level}, index {index}")
            offset = index * HASH_SIZE
            result.append(bytes(self._levels[level][offset : offset + HASH_SIZE]))
        return result

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first ``size`` leaves (all of them by default)."""
        return tree_hash(self.size if size is None else size, self)
