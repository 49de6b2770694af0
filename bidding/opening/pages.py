"""The opening hall page (``/tenders/{id}/opening``): the live opening of a tender's bids, for those who attend.

The page itself is a frame: ``/static/js/hall.js`` connects to the hall's websocket (``/ws/tenders/{id}/opening``,
see :mod:`bidding.opening.ws`) and draws every numbered message as it arrives (the sealed bids frozen, each share
handed in, the key rebuilt, each line of the record, confirmations, objections and answers, the record's digest),
reconnecting after a drop from the last number it saw. What each person may do there follows who they are: the
agency starts and closes the opening and answers objections, a custodian opens its sealed share with its key file
in the browser and hands it in, a bidder confirms or objects to its own lines and, when the custodians cannot reach
k, unwraps its bid's file key in the browser with its key file and hands in only that. The hall's services check
all of it again.

A status line says where the opening stands (waiting for the deadline, for the agency, for k − x shares; decrypting;
finished with the record's digest; closed without k; the tender cancelled): drawn here as the page is made, then
moved on by the script as the hall's messages arrive.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from bidding.accounts.guards import signed_in
from bidding.bids import service as bids_service
from bidding.bids.model import BidStatus, bid_id_text
from bidding.errors import Forbidden
from bidding.i18n import N_
from bidding.identity import Role
from bidding.opening import hall
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES, Status
from bidding.web import DB, PathId, actor_of, page, settings_of


@get("/tenders/{tender_id:int}/opening", include_in_schema=False, guards=[signed_in])
async def opening_hall(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Template:
    """The opening hall of a tender: its registered bidders, its agency's staff, its custodians, supervisors."""
    actor = actor_of(request)
    settings = settings_of(request)
    view = await tenders_reading.get_tender(db, actor, tender_id)
    if not await hall.may_attend(db, actor, tender_id):
        raise Forbidden(
            N_(
                "The opening is attended by the tender's registered bidders, the staff of its agency, its key "
                "custodians and supervisors."
            )
        )
    principal = actor.principal
    assert principal is not None
    tender = view.tender
    # The same test as the opening's use cases: staff of the agency that runs the tender.
    runs = principal.has(Role.AGENCY_STAFF) and principal.organisation_id == tender.agency.id
    own = await bids_service.own_bids(db, actor, tender_id) if view.access.registered else []
    # The fallback's form, for each of the bidder's bids still sealed: shown while the tender is being opened (the
    # page shows it when the opening starts, and takes it away once the bid is read or the key is rebuilt).
    may_open_own = view.status in (Status.PUBLISHED, Status.CLOSED, Status.OPENING)
    sealed_bids = [bid for bid in own if bid.status is BidStatus.SEALED] if may_open_own else []
    state = await hall.hall_state(db, tender_id, view.status)
    return page(
        request,
        "opening/hall.html",
        view=view,
        tender=tender,
        runs=runs,
        custodian=principal.user_id in tender.custodian_ids,
        own_bids=[bid_id_text(bid.id) for bid in own],
        sealed_bids=sealed_bids,
        can_start=runs and view.status is Status.CLOSED and view.opening_recipient is not None,
        status_names=STATUS_NAMES,
        timezone=settings.timezone,
        state=state,
    )


routes = [opening_hall]
