"""The signed-in home page: one page with a section for each role the person holds.

Each role's section is gathered by its own function below, through the use cases of the domain it shows; each
of those checks again that the person may see it. A person with several roles (a bidder who is also a custodian)
sees every section that is theirs, in the order the template gives.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from bidding.accounts import service as accounts
from bidding.accounts.guards import signed_in
from bidding.accounts.model import KIND_NAMES, ROLE_NAMES
from bidding.db import Database
from bidding.identity import Actor, OrganisationKind, Principal, Role
from bidding.notifications import service as notifications
from bidding.notifications.model import notification_text
from bidding.opening import ceremony
from bidding.supervision import service as supervision
from bidding.supervision.pages import console_names
from bidding.tenders import reading as tenders
from bidding.tenders.model import STATUS_NAMES
from bidding.web import DB, actor_of, page, principal_of

#: The newest events a supervisor's section lists; the console has the rest.
RECENT_EVENTS = 10


async def _administrator(db: Database, actor: Actor) -> dict[str, Any]:
    """How many organisations of each kind, and people in each role, the platform has."""
    organisations = await accounts.list_organisations(db, actor)
    return {
        "organisation_counts": {kind: sum(1 for o in organisations if o.kind is kind) for kind in OrganisationKind},
        "role_counts": await accounts.count_users_by_role(db, actor),
    }


async def _supervisor(db: Database, actor: Actor) -> dict[str, Any]:
    """The newest events of the audit trail, with whom and what they name."""
    recent = await supervision.recent_events(db, actor, limit=RECENT_EVENTS)
    return {"recent_events": recent.items, **console_names(recent.names)}


async def _custodian(db: Database, actor: Actor) -> dict[str, Any]:
    """The key shares the person holds, and where each tender's opening stands."""
    return {"held_shares": await ceremony.held_shares(db, actor)}


async def _member(db: Database, actor: Actor, principal: Principal, organisation_id: int) -> dict[str, Any]:
    """The person's organisation and its people; its tenders for agency staff; for bidders, the tenders registered
    for and the notifications not yet seen."""
    context: dict[str, Any] = {
        "organisation": await accounts.get_organisation(db, actor, organisation_id),
        "members": await accounts.list_organisation_members(db, actor, organisation_id),
    }
    if principal.has(Role.AGENCY_STAFF):
        context["own_tenders"] = await tenders.list_own(db, actor)
    if principal.has(Role.BIDDER):
        context["registered_tenders"] = await tenders.list_registered(db, actor)
        # Shown once as new: reading them here marks them read.
        context["notifications"] = [
            (notification, notification_text(notification))
            for notification in await notifications.inbox(db, actor, mark_read=True)
        ]
    return context


@get("/dashboard", include_in_schema=False, guards=[signed_in])
async def dashboard(request: Request[Any, Any, Any], db: DB) -> Template:
    """One page, with a section for each role the person holds."""
    principal = principal_of(request)
    assert principal is not None
    actor = actor_of(request)
    context: dict[str, Any] = {}
    if principal.has(Role.ADMIN):
        context |= await _administrator(db, actor)
    if principal.has(Role.SUPERVISOR):
        context |= await _supervisor(db, actor)
    if principal.has(Role.CUSTODIAN):
        context |= await _custodian(db, actor)
    if principal.organisation_id is not None:
        context |= await _member(db, actor, principal, principal.organisation_id)
    return page(
        request,
        "dashboard.html",
        kind_names=KIND_NAMES,
        role_names=ROLE_NAMES,
        status_names=STATUS_NAMES,
        **context,
    )


routes = [dashboard]
