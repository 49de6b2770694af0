"""The inbox in the API (the dashboard shows it to people, see :mod:`bidding.accounts.http`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, get

from bidding.accounts.guards import signed_in
from bidding.notifications import service
from bidding.web import DB, actor_of


class NotificationOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    tender_id: int | None
    payload: dict[str, Any]
    created_at: dt.datetime
    read: bool


@get("/api/v1/notifications", tags=["tenders"], guards=[signed_in])
async def read_notifications(request: Request[Any, Any, Any], db: DB) -> list[NotificationOut]:
    """Your newest notifications (amendments, answers, invitations, cancellations about your organisation's tenders)."""
    found = await service.inbox(db, actor_of(request))
    return [NotificationOut(n.id, n.kind, n.tender_id, n.payload, n.created_at, n.read_at is not None) for n in found]


routes = [read_notifications]
