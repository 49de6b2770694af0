"""SQL for audit events and the transparency log: tiles, entry bundles, checkpoints, witnesses."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from bidding.audit.model import Event, RecordedEvent, StoredEvent
from bidding.db import Connection


async def insert_event(connection: Connection, event: Event) -> int:
    """Record ``event``; call inside the transaction that makes the change it describes."""
    event_id: int = await connection.fetchval(
        """INSERT INTO audit_events
               (actor_user_id, actor_role, organisation_id, action, subject, details, request_id, client_ip)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id""",
        event.actor_user_id,
        event.actor_role,
        event.organisation_id,
        event.action,
        event.subject,
        dict(event.details),
        event.request_id,
        event.client_ip,
    )
    return event_id


async def select_recent_events(connection: Connection, *, limit: int) -> list[RecordedEvent]:
    rows = await connection.fetch(
        """SELECT e.id, e.at, u.login AS actor_login, e.actor_role, e.action, e.subject, e.details,
                  e.request_id, host(e.client_ip) AS client_ip
           FROM audit_events e LEFT JOIN users u ON u.id = e.actor_user_id
           ORDER BY e.id DESC
           LIMIT $1""",
        limit,
    )
    return [RecordedEvent(**dict(row)) for row in rows]


# --- The transparency log -------------------------------------------------------------------------------------

_STORED_COLUMNS = """id, at, actor_user_id, actor_role, organisation_id, action, subject, details, request_id,
    host(client_ip) AS client_ip, salt, log_index"""


def _stored(row: asyncpg.Record) -> StoredEvent:
    values = dict(row)
    values["salt"] = bytes(values["salt"])
    return StoredEvent(**values)


async def select_unsequenced(connection: Connection, *, limit: int) -> list[StoredEvent]:
    """Committed events not in the log yet, oldest first."""
    rows = await connection.fetch(
        "SELECT " + _STORED_COLUMNS + " FROM audit_events WHERE log_index IS NULL ORDER BY id LIMIT $1", limit
    )
    return [_stored(row) for row in rows]


async def has_unsequenced(connection: Connection) -> bool:
    found: bool | None = await connection.fetchval("SELECT true FROM audit_events WHERE log_index IS NULL LIMIT 1")
    return bool(found)


async def select_stored_event(connection: Connection, event_id: int) -> StoredEvent | None:
    row = await connection.fetchrow("SELECT " + _STORED_COLUMNS + " FROM audit_events WHERE id = $1", event_id)
    return _stored(row) if row else None


async def set_log_indexes(connection: Connection, event_ids: Sequence[int], first_index: int) -> None:
    """Give the events their places in the log: ``first_index`` onwards, in the order given."""
    await connection.execute(
        """UPDATE audit_events e SET log_index = $2 + p.position - 1
           FROM unnest($1::bigint[]) WITH ORDINALITY AS p (id, position)
           WHERE e.id = p.id""",
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


async def insert_checkpoint(connection: Connection, size: int, root: bytes, note: bytes) -> None:
    await connection.execute("INSERT INTO log_checkpoints (size, root, note) VALUES ($1, $2, $3)", size, root, note)


async def select_latest_checkpoint(connection: Connection, *, quorum: int = 0) -> StoredCheckpoint | None:
    """The newest checkpoint with at least ``quorum`` cosignatures (0: the newest of all)."""
    row = await connection.fetchrow(
        """SELECT size, root, note, cosignatures, signed_at FROM log_checkpoints
           WHERE cosignatures >= $1 ORDER BY size DESC LIMIT 1""",
        quorum,
    )
    return _checkpoint(row) if row else None


async def update_checkpoint_cosignatures(connection: Connection, size: int, note: bytes, cosignatures: int) -> None:
    await connection.execute(
        "UPDATE log_checkpoints SET note = $2, cosignatures = $3 WHERE size = $1", size, note, cosignatures
    )


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
