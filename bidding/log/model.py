"""The public log's entries: what an event shows to everyone, and what it only commits to."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from crypto.canonical import canonical_json

#: The format of an export of events with their receipts (the console writes it, ``bidding log verify`` reads it).
EXPORT_FORMAT = "bidding-log-export/1"
#: The version of the entry format, the first field every entry has.
ENTRY_VERSION = 1

#: Actions of which the public log shows only the time and a commitment. Who registers for a tender, downloads
#: its documents or bids must not be known before the opening (Tendering and Bidding Law art. 22: potential
#: bidders' names and number stay confidential), and people's own accounts are nobody else's business. A bidder's
#: receipt holds the private record too, so it still proves on its own what was submitted, and when. Registering a
#: key is sealed too: a key's name is chosen by its owner and often names the person or the organisation. Who is
#: in the expert pool, with what ties, is sealed as well: a bidder must not learn whom a draw could call.
SEALED_ACTIONS = frozenset(
    {
        "bid.submitted",
        "bid.replaced",
        "bid.withdrawn",
        "key.registered",
        "tender.registered",
        "tender.document_downloaded",
        "user.created",
        "user.updated",
        "user.disabled",
        "user.enabled",
        "user.password_reset",
        "user.signed_in",
        "user.signed_out",
        "user.language_changed",
        "user.password_changed",
        "api_token.created",
        "api_token.revoked",
        "expert.created",
        "expert.updated",
        "expert.suspended",
        "expert.retired",
        "expert.reinstated",
        "expert.declarations_changed",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredEvent:
    """An audit event as written, with the salt of its commitment and, once sequenced, its index in the log."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor_role: str
    organisation_id: int | None
    action: str
    subject: str
    details: Mapping[str, Any]
    request_id: str | None
    client_ip: str | None
    salt: bytes
    log_index: int | None

    @property
    def sealed(self) -> bool:
        return self.action in SEALED_ACTIONS


def log_time(moment: datetime) -> str:
    """A moment as entries write it: UTC, microseconds, ``Z`` (``2026-11-21T08:30:00.000000Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def private_record(event: StoredEvent) -> dict[str, Any]:
    """What the log commits to without showing: who acted, for which organisation, from where, with the salt;
    and, for a sealed action, what was done to what.

    Supervisors, and the actor for its own events, are given it: with it they check the entry's ``private``
    digest, and so that this event is the one the log holds.
    """
    record: dict[str, Any] = {
        "event_id": event.id,
        "salt": event.salt.hex(),
        "actor_user_id": event.actor_user_id,
        "actor_role": event.actor_role,
        "organisation_id": event.organisation_id,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }
    if event.sealed:
        record |= {"action": event.action, "subject": event.subject, "details": dict(event.details)}
    return record


def commitment(record: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a private record's canonical JSON: what the entry shows of it."""
    return hashlib.sha256(canonical_json(record)).hexdigest()


def log_entry(event: StoredEvent) -> bytes:
    """The public log entry of an event: canonical JSON (RFC 8785), at most 65,535 bytes.

    ``{"v", "at", "action", "subject", "role", "details", "private"}``, or for a sealed action only
    ``{"v", "at", "sealed": true, "private"}``. ``private`` is :func:`commitment` of :func:`private_record`.
    """
    entry: dict[str, Any] = {"v": ENTRY_VERSION, "at": log_time(event.at), "private": commitment(private_record(event))}
    if event.sealed:
        entry["sealed"] = True
    else:
        entry |= {"action": event.action, "subject": event.subject, "role": event.actor_role, "details": event.details}
    return canonical_json(entry)
