"""SQL for notifications: sent to organisations in the transaction of the change they announce."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bidding.db import Connection
from bidding.notifications.model import Notification


async def insert_notifications(
    connection: Connection, organisation_ids: Sequence[int], kind: str, tender_id: int, payload: dict[str, Any]
) -> None:
    await connection.executemany(
        "INSERT INTO notifications (organisation_id, kind, tender_id, payload) VALUES ($1, $2, $3, $4)",
        [(organisation_id, kind, tender_id, payload) for organisation_id in organisation_ids],
    )


async def insert_registered_notifications(
    connection: Connection, tender_id: int, kind: str, payload: dict[str, Any]
) -> int:
    """Notify every organisation registered for a tender; return how many."""
    status: str = await connection.execute(
        """INSERT INTO notifications (organisation_id, kind, tender_id, payload)
           SELECT organisation_id, $2, $1, $3 FROM tender_registrations WHERE tender_id = $1""",
        tender_id,
        kind,
        payload,
    )
    return int(status.rsplit(" ", 1)[-1])


async def select_notifications(connection: Connection, organisation_id: int, *, limit: int) -> list[Notification]:
    rows = await connection.fetch(
        """SELECT id, kind, tender_id, payload, created_at, read_at FROM notifications
           WHERE organisation_id = $1 ORDER BY id DESC LIMIT $2""",
        organisation_id,
        limit,
    )
    return [Notification(**dict(row)) for row in rows]


async def mark_notifications_read(connection: Connection, organisation_id: int) -> None:
    await connection.execute(
        "UPDATE notifications SET read_at = now() WHERE organisation_id = $1 AND read_at IS NULL", organisation_id
    )
