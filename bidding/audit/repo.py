"""SQL that writes audit events: every service records its changes through :func:`insert_event`."""

from __future__ import annotations

from bidding.audit.model import Event
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
