"""The transparency log on PostgreSQL: its key, appending events, and proofs from the stored tiles.

The tree is kept as C2SP tlog-tiles (``log_tiles``, ``log_bundles``); :func:`sequence` appends a batch of
committed events and signs a checkpoint of the new size, all in one transaction. A crash anywhere in it leaves
the log exactly as it was, and the next batch starts from there: no gap, no duplicate, no reordering. Only the
process holding the sequencer's lock (:mod:`bidding.log.sequencer`) calls it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from bidding.db import Connection
from bidding.faults import crash_point
from bidding.log import model, repo
from bidding.log.model import StoredEvent
from bidding.settings import Settings, SettingsError, write_once
from crypto import merkle, note, tiles
from crypto.note import Ed25519Signer

#: Events appended under one checkpoint at most; a backlog is worked off a batch at a time.
BATCH_SIZE = 4096


@dataclasses.dataclass(frozen=True, slots=True)
class LogKey:
    """The log's signing key. Its name is the log's origin, the first line of every checkpoint."""

    signer: Ed25519Signer

    @property
    def origin(self) -> str:
        return self.signer.name

    @property
    def verifier_key(self) -> str:
        """The verifier key line that checks the checkpoints (``origin+keyid+base64``), published at ``/log/key``."""
        return self.signer.verifier().verifier_key()


def load_log_key(settings: Settings) -> LogKey:
    """The log key in ``settings.log_key_path``, made on first use with the configured or default origin.

    Raises :class:`SettingsError` for a file that is not an Ed25519 signer key, or one whose origin differs from
    an explicitly configured ``log_origin`` (a log cannot change its name: every checkpoint carries it).
    """
    path = settings.log_key_path
    write_once(path, lambda: note.generate_signer_key(settings.default_log_origin))
    try:
        signer = note.parse_signer_key(path.read_text(encoding="ascii").strip())
    except (note.NoteError, UnicodeDecodeError):
        raise SettingsError(f"{path} is not a signed-note signer key") from None
    if not isinstance(signer, Ed25519Signer):
        raise SettingsError(f"{path} is a cosignature key, not a log key")
    if settings.log_origin is not None and settings.log_origin != signer.name:
        raise SettingsError(f"the log key in {path} is for {signer.name!r}, not {settings.log_origin!r}")
    return LogKey(signer)


# --- Reading the tree -----------------------------------------------------------------------------------------


async def tile_hashes(connection: Connection, size: int, nodes: Sequence[merkle.Node]) -> tiles.TileHashes:
    """The stored tiles holding ``nodes`` of the tree of ``size`` leaves, cut to that size: a merkle hash store.

    Stored tiles may have grown since; each is a prefix-extension of the tile of the smaller tree.
    """
    wanted = tiles.tiles_for_nodes(nodes, size)
    stored = await repo.select_tiles(connection, [(tile.level, tile.index) for tile in wanted])
    found = {}
    for tile in wanted:
        hashes = stored.get((tile.level, tile.index), b"")
        if len(hashes) >= tile.width * merkle.HASH_SIZE:
            found[tile] = hashes[: tile.width * merkle.HASH_SIZE]
    return tiles.TileHashes(size, found)


async def tree_root(connection: Connection, size: int) -> bytes:
    return merkle.tree_hash(size, await tile_hashes(connection, size, merkle.range_nodes(0, size)))


async def entry_at(connection: Connection, index: int) -> bytes:
    """The entry at ``index``, as its bundle holds it; raises ``LookupError`` beyond the log."""
    stored = await repo.select_bundle(connection, index // tiles.TILE_WIDTH)
    offset = index % tiles.TILE_WIDTH
    if stored is None or stored[0] <= offset:
        raise LookupError(f"no entry {index}")
    return tiles.bundle_entries(stored[1], stored[0])[offset]


async def inclusion_proof(connection: Connection, index: int, size: int) -> list[bytes]:
    store = await tile_hashes(connection, size, merkle.inclusion_proof_nodes(index, size))
    return merkle.inclusion_proof(index, size, store)


async def consistency_proof(connection: Connection, old_size: int, new_size: int) -> list[bytes]:
    store = await tile_hashes(connection, new_size, merkle.consistency_proof_nodes(old_size, new_size))
    return merkle.consistency_proof(old_size, new_size, store)


async def receipt(connection: Connection, event: StoredEvent, checkpoint: repo.StoredCheckpoint) -> bytes:
    """The C2SP tlog-proof of an event in a checkpoint's tree, carrying the entry itself as its ``extra``.

    Verified offline with the log's verifier key alone (``bidding log proof``): the entry hashes to the leaf the
    inclusion proof starts from, and the proof leads to the signed root.
    """
    assert event.log_index is not None and event.log_index < checkpoint.size, "the event is in the checkpoint"
    proof = await inclusion_proof(connection, event.log_index, checkpoint.size)
    entry = await entry_at(connection, event.log_index)
    return note.format_log_proof(event.log_index, proof, checkpoint.note, extra=entry)


# --- Appending ------------------------------------------------------------------------------------------------


async def sequence(connection: Connection, key: LogKey, *, limit: int = BATCH_SIZE) -> repo.StoredCheckpoint | None:
    """Append the committed events not yet in the log, oldest first, and sign a checkpoint of the new size.

    Returns the new checkpoint, or ``None`` when there was nothing to append (the first call on an empty log
    signs the empty tree, so that a checkpoint always exists). One transaction: all of it or none of it.
    """
    async with connection.transaction():
        latest = await repo.select_latest_checkpoint(connection)
        size = latest.size if latest else 0
        events = await repo.select_unsequenced(connection, limit=limit)
        if latest is not None and not events:
            return None
        entries = [model.log_entry(event) for event in events]
        crash_point("sequencer.read")
        if entries:
            edge_tiles = tiles.partial_tiles(size)
            stored = await repo.select_tiles(connection, [(tile.level, tile.index) for tile in edge_tiles])
            edge = {
                tile.level: stored[(tile.level, tile.index)][: tile.width * merkle.HASH_SIZE] for tile in edge_tiles
            }
            grown = tiles.append_tiles(size, edge, [merkle.leaf_hash(entry) for entry in entries])
            await repo.upsert_tiles(connection, [(tile.level, tile.index, data) for tile, data in grown])
            crash_point("sequencer.tiles")
            edge_bundle = tiles.partial_bundle(size)
            stored_bundle = await repo.select_bundle(connection, edge_bundle.index) if edge_bundle else None
            bundles = tiles.append_bundles(size, stored_bundle[1] if stored_bundle else b"", entries)
            await repo.upsert_bundles(connection, [(bundle.index, bundle.width, data) for bundle, data in bundles])
            crash_point("sequencer.bundles")
            await repo.set_log_indexes(connection, [event.id for event in events], size)
            crash_point("sequencer.indexes")
        new_size = size + len(entries)
        root = await tree_root(connection, new_size)
        signed = note.sign_checkpoint(note.Checkpoint(key.origin, new_size, root), [key.signer])
        await repo.insert_checkpoint(connection, new_size, root, signed)
        crash_point("sequencer.checkpoint")
        checkpoint = await repo.select_latest_checkpoint(connection)
    crash_point("sequencer.committed")
    return checkpoint
