"""SQL for the transparency log: events as entries, tiles, entry bundles, checkpoints, witnesses."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bidding.db import Connection
from bidding.log.model import StoredEvent

_STORED_COLUMNS = """e.id, e.at, e.actor_user_id, e.actor_role, e.organisation_id, e.action, e.subject, e.details,
    e.request_id, host(e.client_ip) AS client_ip, e.salt"""
#: The events with their places in the log, if they have them.
_STORED = "SELECT " + _STORED_COLUMNS + ", l.log_index FROM audit_events e LEFT JOIN log_entries l ON l.event_id = e.id"


def _stored(row: asyncpg.Record) -> StoredEvent:
    values = dict(row)
    values["salt"] = bytes(values["salt"])
    return StoredEvent(**values)


async def select_unsequenced(connection: Connection, *, limit: int) -> list[StoredEvent]:
    """Committed events not in the log yet, oldest first (the order of their ids, not quite that of their commits:
    an event committed after a batch was taken goes into the next, whatever its id)."""
    rows = await connection.fetch(
        "SELECT "
        + _STORED_COLUMNS
        + ", NULL::bigint AS log_index FROM log_queue q JOIN audit_events e ON e.id = q.event_id"
        + " ORDER BY q.event_id LIMIT $1",
        limit,
    )
    return [_stored(row) for row in rows]


async def select_stored_event(connection: Connection, event_id: int) -> StoredEvent | None:
    row = await connection.fetchrow(_STORED + " WHERE e.id = $1", event_id)
    return _stored(row) if row else None


async def select_subject_events(connection: Connection, subject: str, *, limit: int) -> list[StoredEvent]:
    """The events of one subject, oldest first: in log order, then those not sequenced yet in the order written."""
    rows = await connection.fetch(
        _STORED + " WHERE e.subject = $1 ORDER BY l.log_index NULLS LAST, e.id LIMIT $2",
        subject,
        limit,
    )
    return [_stored(row) for row in rows]


async def set_log_indexes(connection: Connection, event_ids: Sequence[int], first_index: int) -> None:
    """Give the events their places in the log, ``first_index`` onwards in the order given, and take them off the
    queue."""
    await connection.execute(
        """WITH dequeued AS (DELETE FROM log_queue WHERE event_id = ANY($1::bigint[]))
           INSERT INTO log_entries (log_index, event_id)
           SELECT $2 + p.position - 1, p.id FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, position)""",
        event_ids,
        first_index,
    )


async def select_tiles(connection: Connection, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored hashes of tiles ``(level, index)``, each as long as it has grown."""
    rows = await connection.fetch(
        """SELECT t.level, t.index, t.hashes FROM log_tiles t
           JOIN unnest($1::smallint[], $2::bigint[]) AS k (level, index) USING (level, index)""",
        [level for level, _ in keys],
        [index for _, index in keys],
    )
    return {(row["level"], row["index"]): bytes(row["hashes"]) for row in rows}


async def upsert_tiles(connection: Connection, tiles: Sequence[tuple[int, int, bytes]]) -> None:
    await connection.executemany(
        """INSERT INTO log_tiles (level, index, hashes) VALUES ($1, $2, $3)
           ON CONFLICT (level, index) DO UPDATE SET hashes = excluded.hashes""",
        tiles,
    )


async def select_bundle(connection: Connection, index: int) -> tuple[int, bytes] | None:
    """Entry bundle ``index`` as stored: its width and its bytes."""
    row = await connection.fetchrow("SELECT width, entries FROM log_bundles WHERE index = $1", index)
    return (row["width"], bytes(row["entries"])) if row else None


async def upsert_bundles(connection: Connection, bundles: Sequence[tuple[int, int, bytes]]) -> None:
    await connection.executemany(
        """INSERT INTO log_bundles (index, width, entries) VALUES ($1, $2, $3)
           ON CONFLICT (index) DO UPDATE SET width = excluded.width, entries = excluded.entries""",
        bundles,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    #: The signed checkpoint note with the cosignatures gathered so far.
    note: bytes
    cosignatures: int
    signed_at: datetime


def _checkpoint(row: asyncpg.Record) -> StoredCheckpoint:
    return StoredCheckpoint(row["size"], bytes(row["root"]), bytes(row["note"]), row["cosignatures"], row["signed_at"])


#: The channel on which processes tell each other of a new or newly cosigned checkpoint: ``log:size``.
CHECKPOINT_CHANNEL = "log_checkpoint"


async def insert_checkpoint(connection: Connection, size: int, root: bytes, note: bytes) -> None:
    await connection.execute("INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, $3)", size, root, note)
    await _notify_checkpoint(connection, size)


async def select_latest_checkpoint(connection: Connection, *, quorum: int = 0) -> StoredCheckpoint | None:
    """The newest checkpoint with at least ``quorum`` cosignatures (0: the newest of all)."""
    row = await connection.fetchrow(
        """SELECT size, root, note, cosignatures, signed_at FROM log_checkpoints
           WHERE cosignatures >= $1 ORDER BY size DESC LIMIT 1""",
        quorum,
    )
    return _checkpoint(row) if row else None


async def select_checkpoint_holding(connection: Connection, index: int) -> StoredCheckpoint | None:
    """The first checkpoint whose tree holds entry ``index``: the one signed when the entry was appended."""
    row = await connection.fetchrow(
        """SELECT size, root, note, cosignatures, signed_at FROM log_checkpoints
           WHERE size > $1 ORDER BY size LIMIT 1""",
        index,
    )
    return _checkpoint(row) if row else None


async def update_checkpoint_cosignatures(connection: Connection, size: int, note: bytes, cosignatures: int) -> None:
    await connection.execute(
        "UPDATE log_checkpoints SET note = $2, cosignatures = $3 WHERE size = $1", size, note, cosignatures
    )
    await _notify_checkpoint(connection, size)


async def _notify_checkpoint(connection: Connection, size: int) -> None:
    """Wake whoever waits for a receipt (delivered when the transaction commits)."""
    await connection.execute("SELECT pg_notify($1, $2)", CHECKPOINT_CHANNEL, f"log:{size}")


async def select_witness_sizes(connection: Connection) -> dict[str, int]:
    rows = await connection.fetch("SELECT name, size FROM log_witnesses")
    return {row["name"]: row["size"] for row in rows}


async def set_witness_size(connection: Connection, name: str, size: int) -> None:
    await connection.execute(
        """INSERT INTO log_witnesses (name, size) VALUES ($1, $2)
           ON CONFLICT (name) DO UPDATE SET size = excluded.size, updated_at = now()""",
        name,
        size,
    )
