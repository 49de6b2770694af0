"""SQL for audit events."""

from __future__ import annotations

from bidding.audit.model import Event, RecordedEvent
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
