"""Reading the audit trail."""

from __future__ import annotations

from bidding.audit import repo
from bidding.audit.model import RecordedEvent
from bidding.db import Database
from bidding.errors import Forbidden
from bidding.identity import Actor, Role

#: The most events one read returns.
MAX_EVENTS = 500


async def recent_events(db: Database, actor: Actor, *, limit: int) -> list[RecordedEvent]:
    """The newest events, newest first; for supervisors, who watch everything."""
    if not actor.has(Role.SUPERVISOR):
        raise Forbidden()
    async with db.connection() as connection:
        return await repo.select_recent_events(connection, limit=min(limit, MAX_EVENTS))
