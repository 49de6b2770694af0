"""The supervisors' console: the audit trail searched and filtered, timelines of a tender, an organisation and a
person, one event held against the transparency log, and a tender's history exported as evidence.

Every route admits supervisors only, and every use case it calls checks again
(:mod:`bidding.supervision.service`). Filters that cannot be read come back on the search page with 422, each problem
next to its field; anything else (no such event, not allowed) is the error page of ``app.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.response import Template

from bidding.accounts import service as accounts
from bidding.accounts.guards import requires
from bidding.accounts.model import KIND_NAMES, ROLE_NAMES
from bidding.errors import BiddingError
from bidding.i18n import N_, Message
from bidding.identity import Role
from bidding.supervision import service
from bidding.supervision.actions import ACTION_NAMES
from bidding.supervision.model import Names
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES
from bidding.web import DB, PathId, actor_of, page, settings_of

supervisors = requires(Role.SUPERVISOR)

#: How the console names the role an event's actor acted in (see :data:`bidding.supervision.model.ACTOR_ROLES`).
ACTOR_ROLE_NAMES: Mapping[str, Message] = {
    **{role.value: name for role, name in ROLE_NAMES.items()},
    "self": N_("On their own account"),
    "platform": N_("The platform"),
    "anonymous": N_("Not signed in"),
}
#: What a field of a log entry is, for the warning that names where the log and the database disagree.
ENTRY_FIELD_NAMES: Mapping[str, Message] = {
    "v": N_("the entry format"),
    "at": N_("the time"),
    "sealed": N_("whether the entry is sealed"),
    "action": N_("the action"),
    "subject": N_("the subject"),
    "role": N_("the role"),
    "details": N_("the details"),
    "private": N_("the commitment to the private record (who acted, for which organisation, from where, the salt)"),
    "entry": N_("the whole entry, which is not JSON"),
    "encoding": N_("the encoding of the entry"),
}
#: The filters of the search, as the form and the "next page" link send them.
SEARCH_FIELDS = ("since", "until", "actor", "role", "action", "subject", "organisation")


def console_names(names: Names) -> dict[str, Any]:
    """What the console's macros (supervision/_macros.html) read to name roles, actions, people, organisations and
    tenders, for a page of events naming ``names``."""
    return {"actor_role_names": ACTOR_ROLE_NAMES, "action_names": ACTION_NAMES, "names": names}


def _next_url(path: str, found: service.EventPage, filters: Mapping[str, str] | None = None) -> str | None:
    if found.next_cursor is None:
        return None
    return path + "?" + urlencode({**(filters or {}), "cursor": found.next_cursor})


@get("/supervision/events", include_in_schema=False, guards=[supervisors])
async def events_page(request: Request[Any, Any, Any], db: DB) -> Template:
    """The audit trail, newest first, filtered by time, actor, role, action, subject and organisation."""
    raw = {field: request.query_params.get(field, "").strip() for field in (*SEARCH_FIELDS, "cursor")}
    query = service.EventQuery(
        since=raw["since"],
        until=raw["until"],
        actor=raw["actor"],
        role=raw["role"],
        action=raw["action"],
        subject=raw["subject"],
        organisation=raw["organisation"],
        cursor=raw["cursor"] or None,
    )
    found = None
    errors: dict[str, Message] = {}
    try:
        found = await service.search_events(db, settings_of(request), actor_of(request), query)
    except BiddingError as error:
        if not error.errors:
            raise
        errors = error.errors
    filters = {field: raw[field] for field in SEARCH_FIELDS if raw[field]}
    return page(
        request,
        "supervision/events.html",
        status_code=422 if errors else 200,
        errors=errors,
        form=raw,
        found=found,
        filtered=bool(filters),
        next_url=_next_url("/supervision/events", found, filters) if found else None,
        role_options=list(ACTOR_ROLE_NAMES.items()),
        **console_names(found.names if found else Names()),
    )


def _cursor(request: Request[Any, Any, Any]) -> str | None:
    return request.query_params.get("cursor") or None


def _timeline(request: Request[Any, Any, Any], kind: str, found: service.EventPage, **context: Any) -> Template:
    """A timeline page of a tender, an organisation or a person, its next page at the same path."""
    return page(
        request,
        "supervision/timeline.html",
        kind=kind,
        found=found,
        next_url=_next_url(request.url.path, found),
        **context,
        **console_names(found.names),
    )


@get("/supervision/tenders/{tender_id:int}/events", include_in_schema=False, guards=[supervisors])
async def tender_events_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Template:
    """A tender's timeline, with its history to download as evidence."""
    actor = actor_of(request)
    view = await tenders_reading.get_tender(db, actor, tender_id)
    found = await service.tender_events(db, actor, tender_id, cursor=_cursor(request))
    return _timeline(request, "tender", found, tender=view.tender, status=view.status, status_names=STATUS_NAMES)


@get("/supervision/organisations/{organisation_id:int}/events", include_in_schema=False, guards=[supervisors])
async def organisation_events_page(request: Request[Any, Any, Any], db: DB, organisation_id: PathId) -> Template:
    """An organisation's timeline: what its people did for it, and what was done to it."""
    actor = actor_of(request)
    organisation = await accounts.get_organisation(db, actor, organisation_id)
    found = await service.organisation_events(db, actor, organisation_id, cursor=_cursor(request))
    return _timeline(request, "organisation", found, organisation=organisation, kind_names=KIND_NAMES)


@get("/supervision/users/{user_id:int}/events", include_in_schema=False, guards=[supervisors])
async def user_events_page(request: Request[Any, Any, Any], db: DB, user_id: PathId) -> Template:
    """A person's timeline: what they did, in whichever role, and what was done to their account."""
    actor = actor_of(request)
    user = await accounts.get_user(db, actor, user_id)
    found = await service.user_events(db, actor, user_id, cursor=_cursor(request))
    return _timeline(request, "user", found, user=user, role_names=ROLE_NAMES)


@get("/supervision/events/{event_id:int}", include_in_schema=False, guards=[supervisors])
async def event_page(request: Request[Any, Any, Any], db: DB, event_id: PathId) -> Template:
    """One event with every field, and whether the transparency log holds exactly what the database says."""
    inspection = await service.inspect_event(db, settings_of(request), actor_of(request), event_id)
    return page(
        request,
        "supervision/event.html",
        inspection=inspection,
        event=inspection.event,
        details_json=json.dumps(dict(inspection.event.details), ensure_ascii=False, indent=2),
        record_json=json.dumps(inspection.record, ensure_ascii=False, indent=2),
        entry_field_names=ENTRY_FIELD_NAMES,
        **console_names(inspection.names),
    )


@get("/supervision/tenders/{tender_id:int}/export", include_in_schema=False, guards=[supervisors])
async def tender_export(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Response[bytes]:
    """A tender's whole history as one export file: ``bidding log proof FILE --key KEY`` checks it offline."""
    actor = actor_of(request)
    await tenders_reading.get_tender(db, actor, tender_id)
    export = await service.export_subject(db, settings_of(request), actor, f"tender:{tender_id}")
    return Response(
        export,
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="tender-{tender_id}-events.json"',
            "cache-control": "no-store",
        },
    )


routes = [
    events_page,
    tender_events_page,
    organisation_events_page,
    user_events_page,
    event_page,
    tender_export,
]
