"""The bid page of a tender (``/tenders/{id}/bid``): the organisation's bids in it with their receipts and
private records, withdrawal, and the form that seals a bid in the browser and submits it.

Sealing, the resumable upload (tus) and the submission are done by ``/static/js/bid-page.js`` against the bidder
API, so that the documents are encrypted before they leave the machine. The page hands the script what it needs in
``data-`` attributes: the tender's reference and opening recipient, the organisation's credit code and registered
verifier key, and, per lot, the sealed bid a new one would replace. Without JavaScript the page explains the
offline path (``bidding keygen``, ``bidding seal``, then the API), and withdrawal still works as a plain form.

Withdrawing asks for a confirmation first, with or without the script: the form has a box to tick that says what
withdrawal means, and the route refuses a form without it. Once bids are no longer taken, the page says why (the
deadline passed, the opening under way or done, the tender cancelled or failed) instead of offering the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post

from bidding.accounts import service as accounts_service
from bidding.accounts.guards import requires
from bidding.bids import service
from bidding.bids.model import BID_STATUS_NAMES, BidStatus, bid_reference
from bidding.errors import InvalidInput, InvalidTransition, NotFound
from bidding.i18n import N_, Message
from bidding.identity import Role
from bidding.keys import service as keys_service
from bidding.keys.model import Purpose
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES, Status
from bidding.web import DB, PathId, actor_of, bulletin_of, page, see_other, settings_of

bidders = requires(Role.BIDDER)

#: The envelope slot the page seals: one envelope per lot (two-envelope tenders are sealed offline for now).
SLOT = "single"

#: What the page says after the withdrawal form worked without the script, by the ``done`` of the redirect.
DONE: Mapping[str, Message] = {
    "withdrawn": N_("The bid is withdrawn and will not be opened. Its withdrawal has a receipt of its own, below."),
}


async def _bid_page(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: int,
    *,
    status_code: int = 200,
    failure: Message | None = None,
    withdrawing: int | None = None,
) -> Any:
    """The page, or, for a bidder not registered for the tender, the notice (registering is there) saying why."""
    actor = actor_of(request)
    view = await tenders_reading.get_tender(db, actor, tender_id)
    principal = actor.principal
    if not view.access.registered or principal is None or principal.organisation_id is None:
        return see_other(f"/tenders/{tender_id}?register=first#bidding")
    organisation = await accounts_service.get_organisation(db, actor, principal.organisation_id)
    bids = await service.own_bids(db, actor, tender_id)
    key = next(
        (k for k in await keys_service.own_keys(db, actor) if k.purpose is Purpose.BIDDER and k.retired_at is None),
        None,
    )
    return page(
        request,
        "bids/bid.html",
        status_code=status_code,
        view=view,
        tender=view.tender,
        bids=bids,
        organisation=organisation,
        key=key,
        sealed={bid.lot: bid for bid in bids if bid.status is BidStatus.SEALED and bid.slot == SLOT},
        taking_bids=view.status is Status.PUBLISHED,
        before_documents=view.now < view.tender.documents_from,
        slot=SLOT,
        status_names=STATUS_NAMES,
        bid_status_names=BID_STATUS_NAMES,
        bid_reference=bid_reference,
        done=DONE.get(request.query_params.get("done", "")) if failure is None else None,
        failure=failure,
        withdrawing=withdrawing,
    )


@get("/tenders/{tender_id:int}/bid", include_in_schema=False, guards=[bidders])
async def bid_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    """Your organisation's bids in a tender, their receipts, and the form to seal and submit one."""
    return await _bid_page(request, db, tender_id)


@post("/tenders/{tender_id:int}/bids/{bid_id:int}/withdrawal", include_in_schema=False, guards=[bidders])
async def withdraw(request: Request[Any, Any, Any], db: DB, tender_id: PathId, bid_id: PathId) -> Any:
    """Withdraw a sealed bid, once confirmed (the form without the script; the script calls the API and offers the
    receipt). Without the confirmation's box ticked nothing is withdrawn: the page comes back saying so."""
    actor = actor_of(request)
    bid = await service.own_bid(db, actor, bid_id)
    if bid.tender_id != tender_id:
        raise NotFound(N_("There is no such bid of yours."))
    form = await request.form()
    try:
        if form.get("confirm") != "yes":
            raise InvalidInput(
                N_("Bid %(bid)s was not withdrawn: tick the box to confirm the withdrawal.", bid=bid.reference)
            )
        await service.withdraw_bid(db, settings_of(request), actor, bid_id, bulletin=bulletin_of(request))
    except (InvalidInput, InvalidTransition) as error:
        return await _bid_page(
            request,
            db,
            tender_id,
            status_code=error.status_code,
            failure=error.detail or error.title,
            withdrawing=bid_id,
        )
    return see_other(f"/tenders/{tender_id}/bid?done=withdrawn#my-bids")


routes = [bid_page, withdraw]
