"""The custody ceremony's page, ``/tenders/{id}/custody``, for the staff running the tender.

It shows the custody request (the custodians, which have registered keys, and k) and, once recorded, the opening
recipient and each share's commitments. The ceremony itself runs in the browser (``frontend/static/js/ceremony.js``),
which makes the opening key, splits and seals it, and records the ceremony file through the API, so the key never
reaches the platform. Without JavaScript, or on an offline machine, the page explains ``bidding custody ceremony``
and takes the file it writes through a form, which records it with the same use case
(:func:`bidding.opening.ceremony.record_ceremony`). A refused file draws the page again with the reasons (422, or 409
when the tender's state forbids a ceremony now); one recorded answers 303 back to the page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from bidding.accounts.guards import requires
from bidding.errors import BiddingError, InvalidInput, InvalidTransition
from bidding.i18n import N_, Message
from bidding.identity import Role
from bidding.opening import ceremony
from bidding.opening.http import MAX_CEREMONY
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES
from bidding.web import DB, PathId, actor_of, page, see_other

agency_staff = requires(Role.AGENCY_STAFF)

#: What the upload form carries besides the ceremony file: the CSRF token and the part headers.
UPLOAD_FORM_OVERHEAD = 16 * 1024

#: What the page says after the ceremony was recorded, by the ``done`` of the redirect.
DONE: dict[str, Message] = {
    "recorded": N_(
        "The ceremony is recorded. Each custodian can now fetch its sealed share and check that its key opens it."
    ),
}


async def _custody_page(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: int,
    *,
    status_code: int = 200,
    error: BiddingError | None = None,
) -> Template:
    actor = actor_of(request)
    tender_view = await tenders_reading.get_tender(db, actor, tender_id)
    custody = await ceremony.custody_view(db, actor, tender_id)
    access = tender_view.access
    return page(
        request,
        "custody/ceremony.html",
        status_code=status_code,
        tender=tender_view.tender,
        status=tender_view.status,
        status_names=STATUS_NAMES,
        custody=custody,
        missing=[c for c in custody.custodians if c.recipient is None],
        # A draft's ceremony may be run again; publication fixes it (the use case checks this again).
        can_run=access.edit,
        error=error,
        errors=error.errors if error else {},
        done=DONE.get(request.query_params.get("done", "")) if error is None else None,
    )


@get("/tenders/{tender_id:int}/custody", include_in_schema=False, guards=[agency_staff])
async def custody_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Template:
    """The custody request and outcome, and the ceremony to run; for the staff of the agency running the tender."""
    return await _custody_page(request, db, tender_id)


@post(
    "/tenders/{tender_id:int}/custody",
    include_in_schema=False,
    guards=[agency_staff],
    # The CSRF check reads the whole form before the handler runs, so the limit has to hold there already.
    request_max_body_size=MAX_CEREMONY + UPLOAD_FORM_OVERHEAD,
)
async def upload_ceremony(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    """Record a ceremony file written by ``bidding custody ceremony`` (multipart, field ``ceremony``)."""
    form = await request.form()
    upload = form.get("ceremony")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(errors={"ceremony": N_("Choose the ceremony file to upload.")})
        data = await upload.read(MAX_CEREMONY + 1)
        if len(data) > MAX_CEREMONY:
            raise InvalidInput(
                errors={"ceremony": N_("A ceremony file has at most %(size)d KiB.", size=MAX_CEREMONY // 1024)}
            )
        await ceremony.record_ceremony(db, actor_of(request), tender_id, data)
    except (InvalidInput, InvalidTransition) as error:
        return await _custody_page(request, db, tender_id, status_code=error.status_code, error=error)
    finally:
        if isinstance(upload, UploadFile):
            await upload.close()
    return see_other(f"/tenders/{tender_id}/custody?done=recorded")


routes: list[Any] = [custody_page, upload_ceremony]
