"""What an audit event holds, and its limits."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from bidding.identity import Actor, Role
from crypto.canonical import canonical_json

#: An event's details, as JSON, may not exceed this: events carry hashes and metadata, never documents. The
#: whole entry (details and the event's other fields) must fit the 65,535 bytes an entry bundle frames
#: (C2SP tlog-tiles), so the details keep some room for the rest.
MAX_DETAILS_BYTES = 60 * 1024


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


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An audit event as the supervisors' console lists it: with its actor's login and, once sequenced, its index."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor_login: str | None
    actor_role: str
    organisation_id: int | None
    action: str
    subject: str
    details: Mapping[str, Any]
    request_id: str | None
    client_ip: str | None
    log_index: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class NamedPerson:
    login: str
    display_name: str
    display_name_en: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class NamedOrganisation:
    name: str
    name_en: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Names:
    """The people, organisations and tenders some events name by number (as actors, for whom they acted, or as
    subjects), so that the console names them as people do; a number missing here is shown as a number."""

    people: Mapping[int, NamedPerson] = dataclasses.field(default_factory=dict)
    organisations: Mapping[int, NamedOrganisation] = dataclasses.field(default_factory=dict)
    #: Tender references (``SFJY-GC-2026-001``).
    tenders: Mapping[int, str] = dataclasses.field(default_factory=dict)


#: The subjects that name a person, an organisation or a tender by number.
_NUMBERED_SUBJECT = re.compile(r"(user|organisation|tender):(\d{1,18})")


def numbered_subject(subject: str) -> tuple[str, int] | None:
    """``("tender", 17)`` for ``tender:17``, or ``None`` for a subject of another kind."""
    found = _NUMBERED_SUBJECT.fullmatch(subject)
    return (found[1], int(found[2])) if found else None


def named_numbers(
    events: Sequence[RecordedEvent | StoredEvent],
) -> tuple[set[int], set[int], set[int]]:
    """The numbers of the people, organisations and tenders that ``events`` name, to look their names up."""
    people: set[int] = set()
    organisations: set[int] = set()
    tenders: set[int] = set()
    kinds = {"user": people, "organisation": organisations, "tender": tenders}
    for item in events:
        if item.actor_user_id is not None:
            people.add(item.actor_user_id)
        if item.organisation_id is not None:
            organisations.add(item.organisation_id)
        if subject := numbered_subject(item.subject):
            kinds[subject[0]].add(subject[1])
    return people, organisations, tenders


# --- The transparency log -------------------------------------------------------------------------------------

#: The version of the entry format, the first field every entry has.
ENTRY_VERSION = 1

#: Actions of which the public log shows only the time and a commitment. Who registers for a tender, downloads
#: its documents or bids must not be known before the opening (Tendering and Bidding Law art. 22: potential
#: bidders' names and number stay confidential), and people's own accounts are nobody else's business. A bidder's
#: receipt holds the private record too, so it still proves on its own what was submitted, and when. Registering a
#: key is sealed too: a key's name is chosen by its owner and often names the person or the organisation.
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


# --- Reading the trail: the supervisors' console ---------------------------------------------------------------

#: What an event's ``actor_role`` may be: a role the actor held, ``self`` for a person acting on their own account
#: (signing in, a password, a token), the platform itself (commands, demo data), or someone not signed in.
ACTOR_ROLES = (*(role.value for role in Role), "self", "platform", "anonymous")

#: An action as events name it (the table's CHECK), and the start of one to find all of a kind (``tender.``).
ACTION_PATTERN = re.compile(r"[a-z_]+\.[a-z_]+")
ACTION_KIND_PATTERN = re.compile(r"([a-z_]+)(?:\.\*?)?")
#: A subject as events name it: a kind and what identifies the thing, ``tender:17``, at most 200 characters.
SUBJECT_PATTERN = re.compile(r"[a-z_]+:\S{1,190}")

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})?"
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}" + _ZONE)
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}" + _ZONE)


def parse_action_filter(raw: str) -> tuple[str | None, str | None]:
    """An action filter as ``(exact, prefix)``: ``tender.published`` is exact; ``tender``, ``tender.`` and
    ``tender.*`` all mean every action of tenders (prefix ``tender.``). Raises ``ValueError`` for anything else."""
    text = raw.strip()
    if ACTION_PATTERN.fullmatch(text):
        return text, None
    if kind := ACTION_KIND_PATTERN.fullmatch(text):
        return None, kind[1] + "."
    raise ValueError(f"not an action: {raw!r}")


def parse_moment(raw: str, timezone: tzinfo, *, end: bool = False) -> datetime:
    """A moment typed into a filter: a day (``2026-07-01``) or a time (``2026-07-01 09:30``, seconds and an offset
    optional), in ``timezone`` unless it names its own offset. Raises ``ValueError``.

    With ``end``, the first moment after what was named, so that an end bound includes all of it: the whole day,
    the whole minute or the whole second (filters compare ``at < end``).
    """
    text = raw.strip()
    if _DAY.fullmatch(text):
        day = date.fromisoformat(text)
        start = datetime.combine(day, time(), timezone)
        return start + timedelta(days=1) if end else start
    if not (_MINUTE.fullmatch(text) or _SECOND.fullmatch(text)):
        raise ValueError(f"not a day or a time: {raw!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone)
    if not end:
        return moment
    return moment + (timedelta(minutes=1) if _MINUTE.fullmatch(text) else timedelta(seconds=1))


#: The fields of an entry, in the order a difference is reported.
ENTRY_FIELDS = ("v", "at", "sealed", "action", "subject", "role", "details", "private")


def entry_differences(logged: bytes, rebuilt: bytes) -> list[str]:
    """The fields in which an entry as the log holds it differs from the one rebuilt from the database row.

    Empty when they are the same bytes. ``private`` differing means the row's private record (who, for which
    organisation, from where, the salt; all of it for a sealed action) is not what the log committed to. An entry
    that is not JSON at all differs as a whole (``["entry"]``); one that holds the same values written otherwise,
    in its encoding (``["encoding"]``), since the log's hash is of the bytes.
    """
    if logged == rebuilt:
        return []
    try:
        unverified = json.loads(logged)
    except ValueError:
        return ["entry"]
    if not isinstance(unverified, dict):
        return ["entry"]
    expected = json.loads(rebuilt)
    keys = [key for key in ENTRY_FIELDS if key in unverified or key in expected]
    keys += sorted((unverified.keys() | expected.keys()) - set(ENTRY_FIELDS))
    differing = [key for key in keys if unverified.get(key) != expected.get(key)]
    return differing or ["encoding"]
