"""Use cases of the inbox. Notifications are written by the use cases that make the news (a tender amended,
answered, cancelled, an invitation), in their own transaction, through :mod:`bidding.notifications.repo`."""

from __future__ import annotations

from bidding.db import Database
from bidding.identity import Actor
from bidding.notifications import repo
from bidding.notifications.model import Notification

#: Notifications shown at once.
MAX_NOTIFICATIONS = 50


async def inbox(db: Database, actor: Actor, *, mark_read: bool = False) -> list[Notification]:
    """The actor's newest notifications; ``mark_read`` marks all of theirs read after reading."""
    principal = actor.principal
    if principal is None:
        return []
    async with db.transaction() as connection:
        found = await repo.select_notifications(connection, principal.user_id, limit=MAX_NOTIFICATIONS)
        if mark_read:
            await repo.mark_notifications_read(connection, principal.user_id)
    return found
