"""The supervisors' console's rules on their own: events as it lists them and whom they name, reading its
filters, and naming where a logged entry differs from its row."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from bidding.audit.model import ACTION_PATTERN
from bidding.identity import Role
from bidding.log.model import StoredEvent


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


#: What an event's ``actor_role`` may be: a role the actor held, ``self`` for a person acting on their own account
#: (signing in, a password, a token), the platform itself (commands, demo data), or someone not signed in.
ACTOR_ROLES = (*(role.value for role in Role), "self", "platform", "anonymous")

#: The start of an action, to find all of a kind (``tender.``).
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
