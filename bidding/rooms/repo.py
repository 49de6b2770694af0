"""SQL for the rooms' numbered events, and the notification that tells every process of a new one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bidding.db import Connection
from bidding.rooms.model import EVENTS_PAGE, RoomEvent

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
