"""SQL for notifications: sent to people in the transaction of the change they announce.

News about a tender concerns organisations (invited, registered); each of their people gets a copy of their own,
read or unread on its own. Someone who joins an organisation later sees what comes after, as with mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bidding.db import Connection
from bidding.notifications.model import Notification


async def insert_notifications(
    connection: Connection, organisation_ids: Sequence[int], kind: str, tender_id: int, payload: dict[str, Any]
) -> None:
    """Notify every person of each of ``organisation_ids``."""
    await connection.execute(
        """INSERT INTO notifications (user_id, kind, tender_id, payload)
           SELECT id, $2, $3, $4 FROM users WHERE organisation_id = ANY($1::bigint[]) ORDER BY id""",
        list(organisation_ids),
        kind,
        tender_id,
        payload,
    )


async def insert_registered_notifications(
    connection: Connection, tender_id: int, kind: str, payload: dict[str, Any]
) -> None:
    """Notify every person of every organisation registered for a tender."""
    await connection.execute(
        """INSERT INTO notifications (user_id, kind, tender_id, payload)
           SELECT u.id, $2, $1, $3 FROM tender_registrations AS r JOIN users AS u USING (organisation_id)
           WHERE r.tender_id = $1 ORDER BY u.id""",
        tender_id,
        kind,
        payload,
    )


async def select_notifications(connection: Connection, user_id: int, *, limit: int) -> list[Notification]:
    rows = await connection.fetch(
        """SELECT id, kind, tender_id, payload, created_at, read_at FROM notifications
           WHERE user_id = $1 ORDER BY id DESC LIMIT $2""",
        user_id,
        limit,
    )
    return [Notification(**dict(row)) for row in rows]


async def mark_notifications_read(connection: Connection, user_id: int) -> None:
    await connection.execute("UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL", user_id)


async def insert_user_notification(connection: Connection, user_id: int, kind: str, payload: dict[str, Any]) -> None:
    """Notify one person of something that is not about a tender they may name yet (an expert's invitation)."""
    await connection.execute(
        "INSERT INTO notifications (user_id, kind, payload) VALUES ($1, $2, $3)", user_id, kind, payload
    )


async def insert_role_notifications(
    connection: Connection, role: str, kind: str, tender_id: int, payload: dict[str, Any]
) -> None:
    """Notify every person who holds ``role`` (supervisors, of a draw awaiting their contribution)."""
    await connection.execute(
        """INSERT INTO notifications (user_id, kind, tender_id, payload)
           SELECT user_id, $2, $3, $4 FROM user_roles WHERE role = $1 ORDER BY user_id""",
        role,
        kind,
        tender_id,
        payload,
    )
