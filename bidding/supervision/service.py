"""The supervisors' console: the newest events, searching the trail, timelines, an event held against the log,
and exports that prove themselves offline."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bidding.accounts import repo as accounts_repo
from bidding.accounts.model import normalise_login
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, NotFound, TooLarge
from bidding.i18n import N_, Message
from bidding.identity import Actor, Role
from bidding.inputs import decode_cursor, encode_cursor, parse_id
from bidding.log import repo as log_repo
from bidding.log import tree
from bidding.log.model import EXPORT_FORMAT, StoredEvent, commitment, log_entry, log_time, private_record
from bidding.log.service import published_checkpoint
from bidding.settings import Settings
from bidding.supervision import model, repo
from bidding.supervision.model import RecordedEvent
from crypto import merkle, note

#: The most events one read returns.
MAX_EVENTS = 500


@dataclasses.dataclass(frozen=True, slots=True)
class EventPage:
    items: list[RecordedEvent]
    #: The cursor of the next (older) page, ``None`` on the last.
    next_cursor: str | None
    #: Who and what the events name by number.
    names: model.Names = dataclasses.field(default_factory=model.Names)


async def _names(connection: Connection, events: Sequence[RecordedEvent | StoredEvent]) -> model.Names:
    return await repo.select_names(connection, *model.named_numbers(events))


async def recent_events(db: Database, actor: Actor, *, limit: int) -> EventPage:
    """The newest events, newest first, with who and what they name; for supervisors, who watch everything."""
    if not actor.has(Role.SUPERVISOR):
        raise Forbidden()
    async with db.connection() as connection:
        items = await repo.select_recent_events(connection, limit=min(limit, MAX_EVENTS))
        return EventPage(items, None, await _names(connection, items))


#: Events on a page of the console, by default; a caller may ask for up to :data:`MAX_EVENTS`.
PAGE_SIZE = 100
#: The most events one export holds. A tender's whole history is a few hundred events; an export of more would
#: be tens of megabytes built in one request, and is refused rather than cut short (nothing is left out silently).
MAX_EXPORT_EVENTS = 10_000


def _require_supervisor(actor: Actor) -> None:
    if not actor.has(Role.SUPERVISOR):
        raise Forbidden(N_("Only supervisors can read the audit trail."))


@dataclasses.dataclass(frozen=True, slots=True)
class EventQuery:
    """A search of the audit trail as the console's form gives it: each filter as typed, empty when not used."""

    #: From and to: a day (``2026-07-01``, the whole day) or a time (``2026-07-01 09:30``), platform time zone.
    since: str = ""
    until: str = ""
    #: The login of the person who acted.
    actor: str = ""
    #: One of :data:`model.ACTOR_ROLES`.
    role: str = ""
    #: ``tender.published``, or ``tender.`` for every action of tenders.
    action: str = ""
    #: ``tender:17``, exactly.
    subject: str = ""
    #: The id of the organisation the actor acted for.
    organisation: str = ""
    cursor: str | None = None
    limit: int = PAGE_SIZE


def _encode_cursor(item: RecordedEvent) -> str:
    return encode_cursor(item.at, item.id)


def _page_errors(cursor: str | None, limit: int) -> tuple[tuple[datetime, int] | None, dict[str, Message]]:
    errors: dict[str, Message] = {}
    after = None
    if cursor:
        try:
            after = decode_cursor(cursor)
        except InvalidInput as error:
            errors |= error.errors
    if not 1 <= limit <= MAX_EVENTS:
        errors["limit"] = N_("A page has 1 to %(count)d events.", count=MAX_EVENTS)
    return after, errors


async def _event_filters(
    connection: Connection, query: EventQuery, timezone: ZoneInfo
) -> tuple[repo.EventFilters, dict[str, Message]]:
    """The filters of a query, and what is wrong with those that cannot be read."""
    errors: dict[str, Message] = {}
    moments: dict[str, datetime | None] = {"since": None, "until": None}
    for field in moments:
        raw = getattr(query, field).strip()
        try:
            moments[field] = model.parse_moment(raw, timezone, end=field == "until") if raw else None
        except ValueError:
            errors[field] = N_("Give a day such as 2026-07-01, or a time such as 2026-07-01 09:30.")
    since, until = moments["since"], moments["until"]
    if since is not None and until is not None and until <= since:
        errors["until"] = N_("The end of the period comes before its start.")
    actor_user_id = None
    if login := query.actor.strip():
        principal = await accounts_repo.select_principal(connection, normalise_login(login))
        if principal is None:
            errors["actor"] = N_("No one has the login %(login)s.", login=login)
        else:
            actor_user_id = principal.user_id
    role = query.role.strip() or None
    if role is not None and role not in model.ACTOR_ROLES:
        errors["role"] = N_("Choose a role from the list.")
    action = action_prefix = None
    if query.action.strip():
        try:
            action, action_prefix = model.parse_action_filter(query.action)
        except ValueError:
            errors["action"] = N_("Give an action such as tender.published, or tender. for every action of tenders.")
    subject = query.subject.strip() or None
    if subject is not None and not model.SUBJECT_PATTERN.fullmatch(subject):
        errors["subject"] = N_("Give a subject such as tender:17 or user:3.")
    organisation_id = None
    if raw_organisation := query.organisation.strip():
        organisation_id = parse_id(raw_organisation)
        if organisation_id is None:
            errors["organisation"] = N_("Give the organisation's number, such as 5.")
    filters = repo.EventFilters(
        since=since,
        until=until,
        actor_user_id=actor_user_id,
        actor_role=role,
        action=action,
        action_prefix=action_prefix,
        subject=subject,
        organisation_id=organisation_id,
    )
    return filters, errors


async def _events_page(
    connection: Connection, filters: repo.EventFilters, after: tuple[datetime, int] | None, limit: int
) -> EventPage:
    found = await repo.search_events(connection, filters, after=after, limit=limit + 1)
    items = found[:limit]
    next_cursor = _encode_cursor(items[-1]) if len(found) > limit else None
    return EventPage(items, next_cursor, await _names(connection, items))


async def search_events(db: Database, settings: Settings, actor: Actor, query: EventQuery) -> EventPage:
    """Events matching every filter of the query, newest first, a page at a time; for supervisors.

    Raises Forbidden, or InvalidInput naming each filter that cannot be read (all of them at once).
    """
    _require_supervisor(actor)
    async with db.connection() as connection:
        filters, errors = await _event_filters(connection, query, ZoneInfo(settings.timezone))
        after, page_errors = _page_errors(query.cursor, query.limit)
        if errors or page_errors:
            raise InvalidInput(errors=errors | page_errors)
        return await _events_page(connection, filters, after, query.limit)


async def _timeline(
    db: Database, actor: Actor, filters: repo.EventFilters, cursor: str | None, limit: int
) -> EventPage:
    _require_supervisor(actor)
    after, errors = _page_errors(cursor, limit)
    if errors:
        raise InvalidInput(errors=errors)
    async with db.connection() as connection:
        return await _events_page(connection, filters, after, limit)


async def tender_events(
    db: Database, actor: Actor, tender_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """A tender's timeline, newest first: every event whose subject is the tender."""
    return await _timeline(db, actor, repo.EventFilters(subject=f"tender:{tender_id}"), cursor, limit)


async def organisation_events(
    db: Database, actor: Actor, organisation_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """An organisation's timeline, newest first: what its people did for it, and what was done to it."""
    filters = repo.EventFilters(involving_organisation=organisation_id)
    return await _timeline(db, actor, filters, cursor, limit)


async def user_events(
    db: Database, actor: Actor, user_id: int, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> EventPage:
    """A person's timeline, newest first: what they did, in any role, and what was done to their account."""
    return await _timeline(db, actor, repo.EventFilters(involving_user=user_id), cursor, limit)


@dataclasses.dataclass(frozen=True, slots=True)
class EventInspection:
    """One event as the database holds it, held against the log.

    ``differences`` names the fields of the entry in which the log and the row disagree (see
    :func:`model.entry_differences`); ``in_tree`` says whether the log's own hashes lead from the logged entry to
    the root of :attr:`checkpoint`. Both are only meaningful once the event is sequenced.
    """

    event: StoredEvent
    #: Who and what the event names by number.
    names: model.Names
    record: dict[str, Any]
    #: The entry rebuilt from the row now (:func:`~bidding.log.model.log_entry`), and its commitment to its private
    #: record.
    rebuilt_entry: bytes
    commitment: str
    #: The entry as the log holds it at the event's index; ``None`` before sequencing, or if the log lacks it.
    logged_entry: bytes | None
    differences: tuple[str, ...]
    #: The first checkpoint that holds the event (signed when it was appended).
    checkpoint: log_repo.StoredCheckpoint | None
    in_tree: bool
    #: The published checkpoint, when it holds the event, and the event's receipt against it.
    published: log_repo.StoredCheckpoint | None
    receipt: bytes | None

    @property
    def sequenced(self) -> bool:
        return self.event.log_index is not None

    @property
    def matches(self) -> bool:
        """The log holds exactly the entry the row makes, committing to its private record, in its tree."""
        return self.logged_entry is not None and not self.differences and self.in_tree


async def _in_tree(connection: Connection, entry: bytes, index: int, checkpoint: log_repo.StoredCheckpoint) -> bool:
    """Whether the stored tiles prove ``entry`` at ``index`` in the checkpoint's tree."""
    try:
        proof = await tree.inclusion_proof(connection, index, checkpoint.size)
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, checkpoint.size, proof, checkpoint.root)
    except merkle.MerkleError:
        return False
    return True


async def inspect_event(db: Database, settings: Settings, actor: Actor, event_id: int) -> EventInspection:
    """An event with every field, its private record, and whether the log holds what the row says; for supervisors.

    Raises Forbidden, or NotFound. A row changed after it was logged (its details, its actor, its salt) shows as a
    difference; so does an entry changed in the log's bundles, which then no longer hashes into the tree either.
    """
    _require_supervisor(actor)
    async with db.connection() as connection:
        event = await log_repo.select_stored_event(connection, event_id)
        if event is None:
            raise NotFound(N_("There is no such event."))
        names = await _names(connection, [event])
        record = private_record(event)
        rebuilt = log_entry(event)
        logged = checkpoint = published = receipt = None
        differences: tuple[str, ...] = ()
        in_tree = False
        if event.log_index is not None:
            try:
                logged = await tree.entry_at(connection, event.log_index)
            except LookupError:
                logged = None
            differences = tuple(model.entry_differences(logged, rebuilt)) if logged is not None else ()
            checkpoint = await log_repo.select_checkpoint_holding(connection, event.log_index)
            if logged is not None and checkpoint is not None:
                in_tree = await _in_tree(connection, logged, event.log_index, checkpoint)
            latest = await log_repo.select_latest_checkpoint(connection, quorum=settings.quorum)
            if latest is not None and latest.size > event.log_index:
                published = latest
                receipt = await tree.receipt(connection, event, latest)
    return EventInspection(
        event=event,
        names=names,
        record=record,
        rebuilt_entry=rebuilt,
        commitment=commitment(record),
        logged_entry=logged,
        differences=differences,
        checkpoint=checkpoint,
        in_tree=in_tree,
        published=published,
        receipt=receipt,
    )


def _origin(checkpoint: log_repo.StoredCheckpoint) -> str:
    return note.parse_checkpoint(note.parse_unverified_note(checkpoint.note).text).origin


async def export_subject(db: Database, settings: Settings, actor: Actor, subject: str) -> bytes:
    """Every event of a subject (``tender:17``) as one export file that ``bidding log proof`` checks offline.

    JSON ``{"format": "bidding-log-export/1", "origin", "subject", "checkpoint_size", "events", "pending"}``: each
    event in the published checkpoint with its receipt, all against that ONE checkpoint, and its private record
    (so the entry's commitment is checked too); the events not in it yet (not sequenced, or waiting for
    witnesses) listed in ``pending`` by id, so that nothing is left out silently.

    Raises Forbidden, InvalidInput (not a subject), NotFound (no published checkpoint yet) or TooLarge.
    """
    _require_supervisor(actor)
    if not model.SUBJECT_PATTERN.fullmatch(subject):
        raise InvalidInput(errors={"subject": N_("Give a subject such as tender:17 or user:3.")})
    # The checkpoint first: every event read after it with an index below its size is in its tree, whatever the
    # sequencer appends meanwhile (tiles only grow, and a grown tile begins with the smaller one).
    checkpoint = await published_checkpoint(db, settings)
    async with db.connection() as connection:
        events = await log_repo.select_subject_events(connection, subject, limit=MAX_EXPORT_EVENTS + 1)
        if len(events) > MAX_EXPORT_EVENTS:
            raise TooLarge(N_("An export holds at most %(count)d events.", count=MAX_EXPORT_EVENTS))
        proven: list[dict[str, Any]] = []
        pending: list[dict[str, Any]] = []
        for event in events:
            if event.log_index is not None and event.log_index < checkpoint.size:
                receipt = await tree.receipt(connection, event, checkpoint)
                proven.append({"event_id": event.id, "receipt": receipt.decode(), "record": private_record(event)})
            else:
                pending.append({"event_id": event.id, "log_index": event.log_index, "at": log_time(event.at)})
    export = {
        "format": EXPORT_FORMAT,
        "origin": _origin(checkpoint),
        "subject": subject,
        "checkpoint_size": checkpoint.size,
        "events": proven,
        "pending": pending,
    }
    return json.dumps(export, ensure_ascii=False, indent=1).encode()
