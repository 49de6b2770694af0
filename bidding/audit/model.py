"""What an audit event holds, and its limits: the one layer every service writes its events through."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from bidding.identity import Actor

#: An event's details, as JSON, may not exceed this: events carry hashes and metadata, never documents. The
#: whole entry (details and the event's other fields) must fit the 65,535 bytes an entry bundle frames
#: (C2SP tlog-tiles), so the details keep some room for the rest.
MAX_DETAILS_BYTES = 60 * 1024


#: An action as events name it (the table's CHECK): a kind and what happened, ``tender.published``.
ACTION_PATTERN = re.compile(r"[a-z_]+\.[a-z_]+")


class EventTooLarge(ValueError):
    """An event's details exceed :data:`MAX_DETAILS_BYTES`; a programming error, not a user's."""


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """A state change to record: ``action`` like ``user.created``, ``subject`` like ``user:42``."""

    action: str
    subject: str
    actor_user_id: int | None
    actor_role: str
    organisation_id: int | None
    details: Mapping[str, Any]
    request_id: str | None
    client_ip: str | None


def event(actor: Actor, role: str, action: str, subject: str, details: Mapping[str, Any]) -> Event:
    """An event made by ``actor`` acting in ``role`` (``platform`` when the platform itself acts)."""
    if len(json.dumps(details, ensure_ascii=False).encode()) > MAX_DETAILS_BYTES:
        raise EventTooLarge(f"{action} on {subject}: details over {MAX_DETAILS_BYTES} bytes")
    principal = actor.principal
    return Event(
        action=action,
        subject=subject,
        actor_user_id=principal.user_id if principal else None,
        actor_role=role if principal else ("platform" if actor.is_platform else "anonymous"),
        organisation_id=principal.organisation_id if principal else None,
        details=details,
        request_id=actor.request_id,
        client_ip=actor.client_ip,
    )
