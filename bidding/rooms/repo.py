"""SQL for the rooms' numbered events, and the notification that tells every process of a new one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from bidding.db import Connection
from bidding.rooms.model import EVENTS_PAGE, PRESENCE_TIMEOUT, RoomEvent

#: The channel on which processes tell each other of a room's new event: the payload is ``room:seq``.
ROOMS_CHANNEL = "room_events"


async def insert_event(connection: Connection, room: str, kind: str, payload: Mapping[str, Any]) -> int:
    """Add the room's next event and tell every process (delivered only if the transaction commits); returns its
    number.

    The caller holds a lock that orders the room's writers (the opening hall: its tender's row), so numbers are
    given out one at a time, without gaps.
    """
    seq: int = await connection.fetchval(
        """INSERT INTO room_events (room, seq, kind, payload)
           VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM room_events WHERE room = $1), $2, $3)
           RETURNING seq""",
        room,
        kind,
        dict(payload),
    )
    await connection.execute("SELECT pg_notify($1, $2)", ROOMS_CHANNEL, f"{room}:{seq}")
    return seq


async def select_events(connection: Connection, room: str, after: int, limit: int = EVENTS_PAGE) -> list[RoomEvent]:
    """The room's events numbered after ``after``, oldest first, at most ``limit`` of them."""
    rows = await connection.fetch(
        """SELECT room, seq, kind, payload, at FROM room_events WHERE room = $1 AND seq > $2
           ORDER BY seq LIMIT $3""",
        room,
        after,
        limit,
    )
    return [RoomEvent(**dict(row)) for row in rows]


async def insert_presence(connection: Connection, room: str, attendance: uuid.UUID, user_id: int | None) -> None:
    """Record that a connection (``attendance``) of ``user_id`` (``None``: nobody signed in) is in the room."""
    await connection.execute(
        "INSERT INTO room_presence (attendance, room, user_id) VALUES ($1, $2, $3)", attendance, room, user_id
    )


async def set_presence_seen(connection: Connection, attendance: uuid.UUID) -> None:
    await connection.execute("UPDATE room_presence SET seen_at = clock_timestamp() WHERE attendance = $1", attendance)


async def delete_presence(connection: Connection, attendance: uuid.UUID) -> None:
    await connection.execute("DELETE FROM room_presence WHERE attendance = $1", attendance)


async def select_present(connection: Connection, room: str) -> list[int]:
    """The people in the room now (seen within PRESENCE_TIMEOUT), by user id, each once, in the order they came."""
    rows = await connection.fetch(
        """SELECT user_id FROM room_presence
           WHERE room = $1 AND user_id IS NOT NULL AND seen_at > clock_timestamp() - make_interval(secs => $2)
           GROUP BY user_id ORDER BY min(joined_at), user_id""",
        room,
        PRESENCE_TIMEOUT,
    )
    return [row["user_id"] for row in rows]
