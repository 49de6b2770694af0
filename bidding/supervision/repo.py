"""SQL that reads the audit trail for the supervisors' console: recent events, searches, whom they name."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime

from bidding.db import Connection
from bidding.supervision.model import NamedOrganisation, NamedPerson, Names, RecordedEvent

_RECORDED_COLUMNS = """e.id, e.at, e.actor_user_id, u.login AS actor_login, e.actor_role, e.organisation_id, e.action,
    e.subject, e.details, e.request_id, host(e.client_ip) AS client_ip, l.log_index"""
#: The events with their actors' logins and their places in the log.
_RECORDED_FROM = """ FROM audit_events e LEFT JOIN users u ON u.id = e.actor_user_id
    LEFT JOIN log_entries l ON l.event_id = e.id"""


async def select_recent_events(connection: Connection, *, limit: int) -> list[RecordedEvent]:
    rows = await connection.fetch(
        "SELECT "
        + _RECORDED_COLUMNS
        + _RECORDED_FROM
        + """
           ORDER BY e.id DESC
           LIMIT $1""",
        limit,
    )
    return [RecordedEvent(**dict(row)) for row in rows]


@dataclasses.dataclass(frozen=True, slots=True)
class EventFilters:
    """What the events searched for must all match; ``None`` matches anything."""

    since: datetime | None = None
    #: Exclusive: events before this moment.
    until: datetime | None = None
    actor_user_id: int | None = None
    actor_role: str | None = None
    action: str | None = None
    #: The start of the actions wanted, ``tender.`` for every action of tenders.
    action_prefix: str | None = None
    subject: str | None = None
    organisation_id: int | None = None
    #: Events done for this organisation, or to it (subject ``organisation:N``).
    involving_organisation: int | None = None
    #: Events done by this person, or to them (subject ``user:N``).
    involving_user: int | None = None


async def search_events(
    connection: Connection, filters: EventFilters, *, after: tuple[datetime, int] | None, limit: int
) -> list[RecordedEvent]:
    """Events matching every filter, newest first (by time, then id), after the keyset cursor ``after``.

    As in the tender search, the statement names only the filters given, each a fixed condition with its value
    as a parameter, so that each combination is planned for itself: most filters have an index ``(column, at)``
    that yields the newest matches first.
    """
    conditions = ["true"]
    values: list[object] = []

    def where(condition: str, *params: object) -> None:
        numbers = [f"${len(values) + i}" for i in range(1, len(params) + 1)]
        conditions.append(condition.format(*numbers))
        values.extend(params)

    if filters.since is not None:
        where("e.at >= {}", filters.since)
    if filters.until is not None:
        where("e.at < {}", filters.until)
    if filters.actor_user_id is not None:
        where("e.actor_user_id = {}", filters.actor_user_id)
    if filters.actor_role is not None:
        where("e.actor_role = {}", filters.actor_role)
    if filters.action is not None:
        where("e.action = {}", filters.action)
    if filters.action_prefix is not None:
        where("starts_with(e.action, {})", filters.action_prefix)
    if filters.subject is not None:
        where("e.subject = {}", filters.subject)
    if filters.organisation_id is not None:
        where("e.organisation_id = {}", filters.organisation_id)
    if filters.involving_organisation is not None:
        number = filters.involving_organisation
        where("(e.organisation_id = {} OR e.subject = {})", number, f"organisation:{number}")
    if filters.involving_user is not None:
        number = filters.involving_user
        where("(e.actor_user_id = {} OR e.subject = {})", number, f"user:{number}")
    if after is not None:
        where("(e.at, e.id) < ({}, {})", *after)
    values.append(limit)
    rows = await connection.fetch(
        "SELECT "
        + _RECORDED_COLUMNS
        + _RECORDED_FROM
        + " WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY e.at DESC, e.id DESC LIMIT ${len(values)}",
        *values,
    )
    return [RecordedEvent(**dict(row)) for row in rows]


async def select_names(
    connection: Connection, people: Collection[int], organisations: Collection[int], tenders: Collection[int]
) -> Names:
    """The names of the people, organisations and tenders with these numbers (those that exist)."""
    person_rows = await connection.fetch(
        "SELECT id, login, display_name, display_name_en FROM users WHERE id = ANY($1::bigint[])", list(people)
    )
    organisation_rows = await connection.fetch(
        "SELECT id, name, name_en FROM organisations WHERE id = ANY($1::bigint[])", list(organisations)
    )
    tender_rows = await connection.fetch(
        "SELECT id, reference FROM tenders WHERE id = ANY($1::bigint[])", list(tenders)
    )
    return Names(
        people={r["id"]: NamedPerson(r["login"], r["display_name"], r["display_name_en"]) for r in person_rows},
        organisations={r["id"]: NamedOrganisation(r["name"], r["name_en"]) for r in organisation_rows},
        tenders={r["id"]: r["reference"] for r in tender_rows},
    )
