"""The pages of tenders: the notice list and search, the notice, the draft and amendment forms, and the actions
on a notice (register, ask, answer, correct an answer, publish, cancel, upload).

Every page calls the same use cases as the API (:mod:`~bidding.tenders.reading`, :mod:`~bidding.tenders.drafting`,
:mod:`~bidding.tenders.documents`, :mod:`~bidding.tenders.questions`), which check every permission and rule again;
what a page offers follows the viewer's :class:`~bidding.tenders.policy.Access`. A refused
form is drawn again with status 422 (409 when the tender's state forbids it now), each problem next to its field
and in the summary at the top, what was typed kept. Anything else (no such tender, not allowed) becomes the error
page in ``app.py``. A form that worked answers 303 to the notice, so reloading does not send it again.

An answer, and a correction of one, is published in two steps: the form on the notice asks for a preview (the
answer as everyone will read it, and what publishing means), and only the preview's own form, which carries the
text previewed and ``confirmed=yes``, publishes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response import Template

from bidding.accounts.guards import requires
from bidding.errors import BiddingError, Conflict, Forbidden, InvalidInput, InvalidTransition, TooLarge
from bidding.i18n import N_, Message
from bidding.identity import Role
from bidding.opening import hall
from bidding.opening import reading as opening_reading
from bidding.settings import Settings
from bidding.tenders import documents, drafting, forms, model, questions, reading, search
from bidding.tenders.model import (
    CATEGORY_NAMES,
    METHOD_NAMES,
    PROCEDURE_NAMES,
    STATUS_NAMES,
    Category,
    Criterion,
    Method,
    Status,
)
from bidding.web import DB, PathId, actor_of, blobs_of, page, read_upload_form, see_other, settings_of

agency_staff = requires(Role.AGENCY_STAFF)
bidders = requires(Role.BIDDER)

#: What an upload form carries besides the file: the CSRF token, the summary (2,000 characters of up to four
#: bytes), the checkbox and the parts' headers.
UPLOAD_FORM_OVERHEAD = 64 * 1024

CRITERION_KIND_NAMES: Mapping[str, Message] = {
    "subjective": N_("Subjective"),
    "objective": N_("Objective"),
    "price": N_("Price"),
    "check": N_("Pass/fail"),
}
FORMULA_NAMES: Mapping[str, Message] = {
    "lowest_price_ratio": N_("Lowest-price ratio"),
    "benchmark_deviation": N_("Deviation from a benchmark price"),
}
BENCHMARK_NAMES: Mapping[str, Message] = {
    "average": N_("Average of the valid bid prices"),
    "lowest": N_("Lowest valid bid price"),
}
#: Shown for a benchmark formula saved without its benchmark (the rules refuse one; older data may have it).
NO_BENCHMARK = N_("not given")
#: The statuses the notice list filters on (``open`` and ``closed`` as people see them, then the later ones).
SEARCH_STATUS_NAMES: Mapping[str, Message] = {
    "open": STATUS_NAMES[Status.PUBLISHED],
    "closed": STATUS_NAMES[Status.CLOSED],
    **{value: STATUS_NAMES[Status(value)] for value in search.SEARCH_STATUSES if value not in ("open", "closed")},
}
#: What became of each bid read out at the opening (Measures for Electronic Bidding, art. 31), as the hall says it.
OUTCOME_NAMES: Mapping[str, Message] = {
    "opened": N_("Opened"),
    "revoked": N_("Revoked (the bidder’s fault)"),
    "withdrawn": N_("Withdrawn (not the bidder’s fault)"),
}
#: What the notice says after a form worked, by the ``done`` of the redirect.
DONE: Mapping[str, Message] = {
    "saved": N_("The draft is saved. Upload the tender documents, check the preview, then publish it."),
    "published": N_("The tender is published."),
    "amended": N_("The amendment is published and registered bidders were notified."),
    "cancelled": N_("The tender is cancelled and registered bidders were notified."),
    "uploaded": N_("The document is uploaded."),
    "registered": N_("Your organisation is registered: you can download the documents and ask questions."),
    "asked": N_("Your question was sent. It will be published with its answer, under a pseudonym."),
    "answered": N_("The answer is published and registered bidders were notified."),
    "corrected": N_("The correction is published beside the answer, and registered bidders were notified."),
}


def _timezone(request: Request[Any, Any, Any]) -> ZoneInfo:
    return ZoneInfo(settings_of(request).timezone)


def _names() -> dict[str, Any]:
    """The names of codes every tender template shows."""
    return {
        "category_names": CATEGORY_NAMES,
        "procedure_names": PROCEDURE_NAMES,
        "method_names": METHOD_NAMES,
        "status_names": STATUS_NAMES,
        "kind_names": CRITERION_KIND_NAMES,
        "formula_names": FORMULA_NAMES,
        "benchmark_names": BENCHMARK_NAMES,
    }


# --- The notice list ------------------------------------------------------------------------------------------

#: The filters of the notice list, as the form and the "next page" link send them.
SEARCH_FIELDS = ("q", "category", "region", "status", "budget_min", "budget_max", "deadline_from", "deadline_to")


def _search_query(raw: Mapping[str, str]) -> tuple[search.SearchQuery, dict[str, Message]]:
    """The search asked for, and the problems of the filters checked here (the use case checks the rest)."""
    errors: dict[str, Message] = {}
    category = None
    if raw.get("category"):
        try:
            category = Category(raw["category"])
        except ValueError:
            errors["category"] = N_("Choose a category from the list.")
    days: dict[str, dt.date | None] = {}
    for field in ("deadline_from", "deadline_to"):
        try:
            days[field] = dt.date.fromisoformat(raw[field]) if raw.get(field) else None
        except ValueError:
            days[field] = None
            errors[field] = N_("Give a date such as 2026-07-01.")
    query = search.SearchQuery(
        q=raw.get("q", ""),
        category=category,
        region=raw.get("region") or None,
        status=raw.get("status") or None,
        budget_min=raw.get("budget_min") or None,
        budget_max=raw.get("budget_max") or None,
        deadline_from=days["deadline_from"],
        deadline_to=days["deadline_to"],
        cursor=raw.get("cursor") or None,
    )
    return query, errors


@get("/tenders", include_in_schema=False)
async def tender_list(request: Request[Any, Any, Any], db: DB) -> Template:
    """Published tenders, newest first, with the search form; bad filters come back with 422 and their errors."""
    raw = {field: request.query_params.get(field, "").strip() for field in (*SEARCH_FIELDS, "cursor")}
    query, errors = _search_query(raw)
    found = None
    try:
        found = await search.search(db, settings_of(request), query)
    except BiddingError as error:
        if not error.errors:
            raise
        errors = error.errors | errors
    next_url = None
    if found is not None and found.next_cursor and not errors:
        filters = {field: raw[field] for field in SEARCH_FIELDS if raw[field]}
        next_url = "/tenders?" + urlencode(filters | {"cursor": found.next_cursor})
    return page(
        request,
        "tenders/list.html",
        status_code=422 if errors else 200,
        errors=errors,
        form=raw,
        found=None if errors else found,
        next_url=next_url,
        category_options=[(str(category), name) for category, name in CATEGORY_NAMES.items()],
        region_options=[(region, region) for region in await search.regions(db)],
        status_options=list(SEARCH_STATUS_NAMES.items()),
        **_names(),
    )


# --- The notice -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class LotView:
    lot: model.Lot
    criteria: list[Criterion]


@dataclasses.dataclass(frozen=True, slots=True)
class ChangeRow:
    """One changed term of an amendment, ready to show: ``kind`` says how its values are written."""

    label: Message
    kind: str
    before: Any
    after: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """A form of the notice page that was refused: which one, why, and what was wrong with each field."""

    form: str
    detail: Message | None
    errors: dict[str, Message]


def formula_text(criterion: Criterion) -> Message | None:
    """How a price criterion's points are computed, in words."""
    formula = criterion.formula
    if formula is None:
        return None
    if formula.type == "lowest_price_ratio":
        return N_("Price points = lowest valid bid price ÷ the bid's price × %(points)s.", points=criterion.points)
    return N_(
        "Benchmark price: %(benchmark)s. A bid at the benchmark gets %(points)s points, less %(above)s per 1%% "
        "above it and %(below)s per 1%% below it, never less than zero.",
        benchmark=BENCHMARK_NAMES.get(formula.benchmark or "", NO_BENCHMARK),
        points=criterion.points,
        above=formula.deduct_above or "0",
        below=formula.deduct_below or "0",
    )


def _change_value(kind: str, value: Any) -> Any:
    """A value of an amendment's record as the template writes it for ``kind``."""
    if value is None:
        return None
    if kind == "time":
        return dt.datetime.fromisoformat(str(value))
    if kind == "money":
        return Decimal(str(value))
    if kind == "criteria":
        return msgspec.convert(value, list[Criterion])
    if kind == "method":
        return METHOD_NAMES[Method(value)]
    if kind == "specialties":
        return "; ".join(f"{item['specialty']} × {item['count']}" for item in value)
    return str(value)


def change_rows(changes: Mapping[str, Any]) -> list[ChangeRow]:
    """The changes of an amendment (``{field: {"before", "after"}}`` of :func:`model.diff`) as labelled rows."""
    rows = []
    for key, change in changes.items():
        kind = "text"
        if key.startswith("lots."):
            _, number, rest = key.split(".", 2)
            field = forms.LOT_FIELD_LABELS.get(rest, Message(rest))
            label = N_("Lot %(number)s: %(field)s", number=number, field=field)
            kind = {"budget": "money", "bid_security": "money", "criteria": "criteria", "method": "method"}.get(
                rest, "text"
            )
        elif key.startswith("documents."):
            label = N_("Document “%(name)s”", name=key.removeprefix("documents."))
            kind = "document"
        else:
            label = forms.FIELD_LABELS.get(key, Message(key))
            if key in forms.TIMES:
                kind = "time"
            elif key == "specialties":
                kind = "specialties"
        rows.append(
            ChangeRow(label, kind, _change_value(kind, change.get("before")), _change_value(kind, change.get("after")))
        )
    return rows


async def _notice_page(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: int,
    *,
    status_code: int = 200,
    failure: Failure | None = None,
    form: Mapping[str, str] | None = None,
) -> Template:
    actor = actor_of(request)
    view = await reading.get_tender(db, actor, tender_id)
    done = request.query_params.get("done", "")
    return page(
        request,
        "tenders/notice.html",
        status_code=status_code,
        view=view,
        record=await opening_reading.published_record(db, tender_id),
        # Nobody attends the opening of a cancelled tender; its hall is not offered.
        attends=view.status is not Status.CANCELLED and await hall.may_attend(db, actor, tender_id),
        hall_url=f"{settings_of(request).base_url}/tenders/{tender_id}/opening",
        outcome_names=OUTCOME_NAMES,
        lots=[LotView(lot, msgspec.convert(lot.criteria, list[Criterion])) for lot in view.tender.lots],
        amendments=[(amendment, change_rows(amendment.changes)) for amendment in reversed(view.amendments)],
        failure=failure,
        errors=failure.errors if failure else {},
        form=form or {},
        done=DONE.get(done) if failure is None else None,
        # Sent here from the bid page, which opens once the organisation is registered.
        register_first=request.query_params.get("register") == "first",
        formula_text=formula_text,
        **_names(),
    )


@get("/tenders/{tender_id:int}", include_in_schema=False)
async def notice(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Template:
    """A tender notice: everyone sees a published one, its own staff and supervisors a draft (as a preview)."""
    return await _notice_page(request, db, tender_id)


async def _attempt(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: int,
    run: Callable[[], Awaitable[object]],
    *,
    form_name: str,
    done: str,
    anchor: str,
    form: Mapping[str, str] | None = None,
) -> Any:
    """Run an action of the notice page: on success back to the notice, else the notice with the reason at the form.

    Refusals the person can act on (a field, the tender's state, a file too large) stay on the notice; not being
    allowed, or no such tender, is the error page.
    """
    try:
        await run()
    except (InvalidInput, InvalidTransition, TooLarge) as error:
        failure = Failure(form_name, error.detail, error.errors)
        return await _notice_page(request, db, tender_id, status_code=error.status_code, failure=failure, form=form)
    return see_other(f"/tenders/{tender_id}?done={done}#{anchor}")


async def _fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@post("/tenders/{tender_id:int}/register", include_in_schema=False, guards=[bidders])
async def register(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    async def run() -> object:
        return await questions.register(db, actor_of(request), tender_id)

    return await _attempt(request, db, tender_id, run, form_name="register", done="registered", anchor="bidding")


@post("/tenders/{tender_id:int}/questions", include_in_schema=False, guards=[bidders])
async def ask(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    form = await _fields(request)

    async def run() -> object:
        return await questions.ask(db, actor_of(request), tender_id, form.get("question", ""))

    return await _attempt(request, db, tender_id, run, form_name="ask", done="asked", anchor="questions", form=form)


async def _publish_in_two_steps(
    request: Request[Any, Any, Any], db: DB, tender_id: int, question_id: int, *, correcting: bool
) -> Any:
    """The answer form's two steps: without ``confirmed=yes``, the preview (or the notice with what is wrong);
    with it, the publication of exactly the text previewed."""
    form = await _fields(request)
    text = form.get("answer", "")
    actor = actor_of(request)
    form_name = f"{'correct' if correcting else 'answer'}-{question_id}"
    if form.get("confirmed") != "yes":
        check = questions.check_correction if correcting else questions.check_answer
        try:
            draft = await check(db, actor, tender_id, question_id, text)
        except (InvalidInput, InvalidTransition) as error:
            failure = Failure(form_name, error.detail, error.errors)
            return await _notice_page(request, db, tender_id, status_code=error.status_code, failure=failure, form=form)
        rules = settings_of(request).rules_for(draft.tender.procedure)
        return page(
            request,
            "tenders/answer_preview.html",
            draft=draft,
            correcting=correcting,
            action=f"/tenders/{tender_id}/questions/{question_id}/answer" + ("/corrections" if correcting else ""),
            amendment_notice_days=rules.amendment_notice_days,
        )

    async def run() -> None:
        if correcting:
            await questions.correct_answer(db, actor, tender_id, question_id, text)
        else:
            await questions.answer(db, actor, tender_id, question_id, text)

    done = "corrected" if correcting else "answered"
    return await _attempt(request, db, tender_id, run, form_name=form_name, done=done, anchor="questions", form=form)


@post("/tenders/{tender_id:int}/questions/{question_id:int}/answer", include_in_schema=False, guards=[agency_staff])
async def answer(request: Request[Any, Any, Any], db: DB, tender_id: PathId, question_id: PathId) -> Any:
    """Preview an answer, or (confirmed from the preview) publish it."""
    return await _publish_in_two_steps(request, db, tender_id, question_id, correcting=False)


@post(
    "/tenders/{tender_id:int}/questions/{question_id:int}/answer/corrections",
    include_in_schema=False,
    guards=[agency_staff],
)
async def correct_answer(request: Request[Any, Any, Any], db: DB, tender_id: PathId, question_id: PathId) -> Any:
    """Preview a correction of a published answer, or (confirmed from the preview) publish it."""
    return await _publish_in_two_steps(request, db, tender_id, question_id, correcting=True)


@post("/tenders/{tender_id:int}/publish", include_in_schema=False, guards=[agency_staff])
async def publish(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    async def run() -> None:
        await drafting.publish(db, settings_of(request), actor_of(request), tender_id)

    return await _attempt(request, db, tender_id, run, form_name="publish", done="published", anchor="main")


@post("/tenders/{tender_id:int}/cancel", include_in_schema=False, guards=[agency_staff])
async def cancel(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    form = await _fields(request)

    async def run() -> None:
        await drafting.cancel(db, settings_of(request), actor_of(request), tender_id, form.get("reason", ""))

    return await _attempt(request, db, tender_id, run, form_name="cancel", done="cancelled", anchor="main", form=form)


async def upload_document(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    """A document from the upload form (multipart), streamed as it arrives into the blob store.

    Routed by :func:`routes` with a body limit of the largest document plus :data:`UPLOAD_FORM_OVERHEAD`, which
    holds from the first byte. The guard and the CSRF check come before any of the body is read (see
    :class:`bidding.web.BiddingCSRFMiddleware`); the form's fields precede its file, so nothing is spooled.
    """
    fields, upload = await read_upload_form(request, "file")

    async def run() -> None:
        if upload is None:
            raise InvalidInput(errors={"file": N_("Choose the file to upload.")})
        await documents.upload_document(
            db,
            settings_of(request),
            blobs_of(request),
            actor_of(request),
            tender_id,
            filename=upload.filename,
            chunks=upload.chunks,
            summary=fields.get("summary"),
            substantive=fields.get("substantive") == "yes",
        )

    return await _attempt(
        request, db, tender_id, run, form_name="upload", done="uploaded", anchor="documents", form=fields
    )


# --- The draft and amendment forms ------------------------------------------------------------------------------


async def _form_page(
    request: Request[Any, Any, Any],
    db: DB,
    *,
    mode: str,
    values: forms.Values,
    view: reading.TenderView | None = None,
    status_code: int = 200,
    error: BiddingError | None = None,
    form: Mapping[str, str] | None = None,
) -> Template:
    """The tender form: ``new``, ``edit`` (a draft) or ``amend`` (a published tender, with its fixed terms shown)."""
    choices = await drafting.draft_choices(db, actor_of(request))
    errors = dict(error.errors) if error else {}
    detail = error.detail if error else None
    if isinstance(error, Conflict) and detail is not None:
        # The one conflict a draft can meet: its reference is taken.
        errors.setdefault("reference", detail)
        detail = None
    action = "/tenders/new" if view is None else f"/tenders/{view.tender.id}/{mode}"
    return page(
        request,
        "tenders/form.html",
        status_code=status_code,
        mode=mode,
        action=action,
        view=view,
        values=forms.with_blank_rows(values),
        blank_lot=forms.with_blank_rows({**values, "lots": [forms.empty_lot()]})["lots"][0],
        blank_criterion=forms.empty_criterion(),
        choices=choices,
        errors=errors,
        summary=[(key, forms.field_label(key), problem) for key, problem in errors.items()],
        open_sections=forms.sections_with_errors(errors) if errors else set(forms.SECTIONS) if mode == "new" else set(),
        detail=detail,
        form=form or {},
        timezone_name=settings_of(request).timezone,
        **_names(),
    )


async def _submitted(request: Request[Any, Any, Any]) -> tuple[forms.Values, dict[str, str]]:
    form = await request.form()
    pairs = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    return forms.values_from_fields(pairs), dict(pairs)


@get("/tenders/new", include_in_schema=False, guards=[agency_staff])
async def new_tender(request: Request[Any, Any, Any], db: DB) -> Template:
    values = forms.empty_tender()
    choices = await drafting.draft_choices(db, actor_of(request))
    if choices.own_purchaser is not None:
        values["purchaser_id"] = str(choices.own_purchaser)
    return await _form_page(request, db, mode="new", values=values)


@post("/tenders/new", include_in_schema=False, guards=[agency_staff])
async def create_tender(request: Request[Any, Any, Any], db: DB) -> Any:
    values, _ = await _submitted(request)
    settings = settings_of(request)
    try:
        tender = forms.tender_from_values(values, _timezone(request), settings.rules_for(values["procedure"]))
        tender_id = await drafting.create_draft(db, settings, actor_of(request), tender)
    except (InvalidInput, Conflict) as error:
        return await _form_page(request, db, mode="new", values=values, status_code=error.status_code, error=error)
    return see_other(f"/tenders/{tender_id}?done=saved")


async def _own_view(request: Request[Any, Any, Any], db: DB, tender_id: int, mode: str) -> reading.TenderView:
    """The tender to edit or amend; refuses one the viewer may not change that way now."""
    view = await reading.get_tender(db, actor_of(request), tender_id)
    if mode == "edit" and not view.access.edit:
        raise Forbidden(N_("Only a draft can be edited, by the staff of the organisation running the tender."))
    if mode == "amend" and not view.access.amend:
        raise Forbidden(N_("Only the staff running a tender can amend it, while it is open for bids."))
    return view


@get("/tenders/{tender_id:int}/edit", include_in_schema=False, guards=[agency_staff])
async def edit_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    """The draft form, filled in; a published tender's staff are sent to the amendment form instead."""
    view = await reading.get_tender(db, actor_of(request), tender_id)
    if view.access.amend:
        return see_other(f"/tenders/{tender_id}/amend")
    if not view.access.edit:
        raise Forbidden(N_("Only a draft can be edited, by the staff of the organisation running the tender."))
    values = forms.values_from_tender(model.tender_input(view.tender), _timezone(request))
    return await _form_page(request, db, mode="edit", values=values, view=view)


@post("/tenders/{tender_id:int}/edit", include_in_schema=False, guards=[agency_staff])
async def update_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    view = await _own_view(request, db, tender_id, "edit")
    values, _ = await _submitted(request)
    current = model.tender_input(view.tender)
    rules = settings_of(request).rules_for(values["procedure"])
    try:
        tender = forms.tender_from_values(values, _timezone(request), rules, current=current)
        await drafting.update_draft(db, settings_of(request), actor_of(request), tender_id, tender)
    except (InvalidInput, Conflict, InvalidTransition) as error:
        return await _form_page(
            request, db, mode="edit", values=values, view=view, status_code=error.status_code, error=error
        )
    return see_other(f"/tenders/{tender_id}?done=saved")


@get("/tenders/{tender_id:int}/amend", include_in_schema=False, guards=[agency_staff])
async def amend_form(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    view = await _own_view(request, db, tender_id, "amend")
    values = forms.values_from_tender(model.tender_input(view.tender), _timezone(request))
    return await _form_page(request, db, mode="amend", values=values, view=view)


@post("/tenders/{tender_id:int}/amend", include_in_schema=False, guards=[agency_staff])
async def amend_tender(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    view = await _own_view(request, db, tender_id, "amend")
    values, form = await _submitted(request)
    current = model.tender_input(view.tender)
    rules = settings_of(request).rules_for(current.procedure)
    try:
        tender = forms.tender_from_values(values, _timezone(request), rules, current=current, amending=True)
        await drafting.amend(
            db,
            settings_of(request),
            actor_of(request),
            tender_id,
            tender,
            summary=form.get("summary", ""),
            substantive=form.get("substantive") == "yes",
        )
    except (InvalidInput, InvalidTransition) as error:
        return await _form_page(
            request, db, mode="amend", values=values, view=view, status_code=error.status_code, error=error, form=form
        )
    return see_other(f"/tenders/{tender_id}?done=amended#amendments")


def routes(settings: Settings) -> list[HTTPRouteHandler]:
    """The page routes; the upload's body limit depends on the largest document the settings allow."""
    upload = post(
        "/tenders/{tender_id:int}/documents",
        include_in_schema=False,
        guards=[agency_staff],
        request_max_body_size=settings.max_document_size + UPLOAD_FORM_OVERHEAD,
    )(upload_document)
    return [
        tender_list,
        notice,
        register,
        ask,
        answer,
        correct_answer,
        publish,
        cancel,
        new_tender,
        create_tender,
        edit_tender,
        update_tender,
        amend_form,
        amend_tender,
        upload,
    ]
