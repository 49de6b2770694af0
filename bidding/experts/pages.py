"""The expert pool's pages: the pool for administrators (supervisors read it), the expert's workspace and
declarations, and a tender's committee for its agency and for supervisors.

Every page calls the use cases the API calls (:mod:`~bidding.experts.service`, :mod:`~bidding.experts.draws`), which
check every permission and rule again. A refused form comes back with what was typed and each problem next to its
field (422), or with the reason at the top (409: the state of the draw or the invitation forbids it now); a form
that worked answers 303, so reloading does not send it again.

The agency's committee page names seats ("专家 1…n"), never experts: the names are the supervisors' alone until the
award (Tendering and Bidding Law, art. 37). A supervisor's contribution to a draw is made in its browser by
``/static/js/draw.js``: the secret is drawn and kept there, and only its commitment, then the secret itself, are
posted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.response import Template

from bidding.accounts import service as accounts
from bidding.accounts.guards import requires
from bidding.errors import BiddingError, Conflict, InvalidInput, InvalidTransition, NotFound
from bidding.experts import draws, model, service
from bidding.experts.model import (
    REASONS,
    RELATION_NAMES,
    ConflictInput,
    Declarations,
    DrawRequest,
    NewExpert,
    ProfileInput,
    QuotaInput,
    RegionRule,
    Relation,
    Status,
    StatusChange,
)
from bidding.i18n import N_, Message
from bidding.identity import Role
from bidding.inputs import field_error
from bidding.tenders import reading as tenders_reading
from bidding.tenders.model import STATUS_NAMES as TENDER_STATUS_NAMES
from bidding.web import DB, PathId, actor_of, page, principal_of, see_other, settings_of

administrators = requires(Role.ADMIN)
pool_readers = requires(Role.ADMIN, Role.SUPERVISOR)
experts = requires(Role.EXPERT)
agency_staff = requires(Role.AGENCY_STAFF)
supervisors = requires(Role.SUPERVISOR)
committee_readers = requires(Role.AGENCY_STAFF, Role.SUPERVISOR)

#: Blank rows a form offers besides those filled in: quotas of a draw, conflicts of an expert.
BLANK_ROWS = 3
#: Pages of the pool read to find the expert-role people not in it yet, at most (50 a page).
MAX_POOL_PAGES = 200

STATUS_NAMES: Mapping[str, Message] = {
    Status.ACTIVE: N_("In the pool"),
    Status.SUSPENDED: N_("Suspended"),
    Status.RETIRED: N_("Retired"),
}
ROUND_NAMES: Mapping[str, Message] = {
    "committing": N_("Awaiting the supervisor's commitment"),
    "revealing": N_("Awaiting the supervisor's secret"),
    "drawn": N_("Drawn"),
    "void": N_("Void"),
}
KIND_NAMES: Mapping[str, Message] = {
    "main": N_("Committee draw"),
    "supplementary": N_("Supplementary draw"),
}
SEAT_NAMES: Mapping[str, Message] = {
    "pending": N_("Invited, awaiting an answer"),
    "accepted": N_("Accepted, awaiting the declaration"),
    "declared": N_("Accepted and declared no conflict"),
    "open": N_("Open: no reserve left"),
}
ROLE_NAMES: Mapping[str, Message] = {"member": N_("Member"), "reserve": N_("Reserve")}
REGION_RULE_NAMES: Mapping[str, Message] = {
    RegionRule.EXCLUDE_PURCHASER_REGION: N_("Leave out experts of the purchaser's region"),
    RegionRule.NONE: N_("Draw from every region"),
}
#: The reasons the platform writes when it voids a round, as pages say them.
VOID_REASONS: Mapping[str, Message] = {
    f"the {draws.SUPERVISOR} did not commit in time": N_("The supervisor did not commit in time."),
    f"the {draws.SUPERVISOR} did not reveal in time": N_("The supervisor did not reveal the secret in time."),
}
#: What a page says after a form worked, by the ``done`` of the redirect.
DONE: Mapping[str, Message] = {
    "created": N_("The expert is in the pool."),
    "saved": N_("The changes were saved."),
    "suspended": N_("The expert is suspended: no draw picks them until the suspension ends."),
    "retired": N_("The expert is retired from the pool."),
    "active": N_("The expert is back in the pool."),
    "accepted": N_(
        "You accepted. Check the parties below, then declare that you have no conflict, or recuse yourself."
    ),
    "declined": N_("You declined: a reserve is called in your place."),
    "declared": N_("Your declaration is recorded. The evaluation room opens at the evaluation time."),
    "recused": N_("You recused yourself: a reserve is called in your place."),
    "declarations": N_("Your unavailable days and conflicts are saved: the next draws take them into account."),
    "requested": N_(
        "The draw is requested: the candidate list is committed, and the supervisors are asked to contribute."
    ),
    "committed": N_("Your commitment is logged and the platform's one-time code is revealed: now reveal your secret."),
    "revealed": N_("Your secret is revealed: the experts are drawn and the members invited."),
}
#: The answers of the workspace's buttons, and the ``done`` each leads to.
ANSWERS: Mapping[str, str] = {"accept": "accepted", "decline": "declined", "declare": "declared", "recuse": "recused"}

_T = TypeVar("_T")


def _convert(data: Any, kind: type[_T]) -> _T:
    """``data`` as ``kind``, its limits checked; raises InvalidInput naming the field."""
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as error:
        text, _, path = str(error).rpartition(" - at `")
        field, reason = field_error(path.rstrip("`") if text else "", text or str(error))
        raise InvalidInput(errors={field: reason}) from None


def _int(value: str, field: str, errors: dict[str, Message]) -> int | None:
    text = value.strip()
    if text.isdigit() and len(text) < 10:
        return int(text)
    errors[field] = N_("Give a whole number.")
    return None


def _date(value: str, field: str, errors: dict[str, Message]) -> dt.date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[field] = N_("Give a date such as 2026-07-01.")
        return None


def _renumbered(errors: Mapping[str, Message], prefix: str, rows: Sequence[int]) -> dict[str, Message]:
    """Errors of a list's items (``quotas.0.seats``) named by the form's rows they came from (``quotas.2.seats``):
    blank rows are left out of what the use case checks."""
    renamed: dict[str, Message] = {}
    for name, problem in errors.items():
        parts = name.split(".")
        if len(parts) >= 2 and parts[0] == prefix and parts[1].isdigit() and int(parts[1]) < len(rows):
            parts[1] = str(rows[int(parts[1])])
        renamed[".".join(parts)] = problem
    return renamed


def _shown(error: BiddingError) -> dict[str, Any]:
    """What a page shows of a refusal it comes back with; anything else is the error page's."""
    if not isinstance(error, InvalidInput | InvalidTransition | Conflict):
        raise error
    return {"errors": dict(error.errors), "failure": None if error.errors else error.detail}


async def _fields(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[str]]:
    """A form's text fields, and the specialties chosen in it."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return fields, [value for value in form.getall("specialties", []) if isinstance(value, str)]


def _classification_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found = draws.classification(settings_of(request))
    return {
        "classes": [(entry, found.specialties_of(entry.code)) for entry in found.classes],
        "specialty_names": {entry.code: entry for entry in found},
    }


def _done(request: Request[Any, Any, Any]) -> Message | None:
    return DONE.get(request.query_params.get("done", ""))


# --- The pool -------------------------------------------------------------------------------------------------


@get("/admin/experts", include_in_schema=False, guards=[pool_readers])
async def pool_page(request: Request[Any, Any, Any], db: DB) -> Template:
    """The pool, searched by text, specialty and status, 50 a page."""
    raw = {name: request.query_params.get(name, "").strip() for name in ("q", "specialty", "status", "page")}
    errors: dict[str, Message] = {}
    if raw["status"] and raw["status"] not in STATUS_NAMES:
        errors["status"] = N_("Choose a status from the list.")
    number = int(raw["page"]) if raw["page"].isdigit() and 0 < len(raw["page"]) < 7 else 1
    found = await service.list_experts(
        db,
        actor_of(request),
        text=raw["q"],
        specialty=raw["specialty"],
        status=None if errors else raw["status"] or None,
        page=max(number, 1),
    )
    filters = {name: raw[name] for name in ("q", "specialty", "status") if raw[name]}
    return page(
        request,
        "experts/pool.html",
        status_code=422 if errors else 200,
        errors=errors,
        form=raw,
        found=found,
        filters=filters,
        page_size=service.PAGE_SIZE,
        status_names=STATUS_NAMES,
        **_classification_context(request),
    )


async def _candidates(db: DB, request: Request[Any, Any, Any]) -> list[Any]:
    """The people holding the expert role who are not in the pool yet."""
    actor = actor_of(request)
    in_pool: set[int] = set()
    for number in range(1, MAX_POOL_PAGES + 1):
        found = await service.list_experts(db, actor, page=number)
        in_pool.update(expert.user_id for expert in found.experts)
        if number * service.PAGE_SIZE >= found.total:
            break
    users = await accounts.list_users(db, actor)
    return [user for user in users if Role.EXPERT in user.roles and user.id not in in_pool and not user.disabled_at]


async def _new_page(request: Request[Any, Any, Any], db: DB, *, status_code: int = 200, **context: Any) -> Template:
    return page(
        request,
        "experts/new.html",
        status_code=status_code,
        candidates=await _candidates(db, request),
        **_classification_context(request),
        **context,
    )


@get("/admin/experts/new", include_in_schema=False, guards=[administrators])
async def new_expert_page(request: Request[Any, Any, Any], db: DB) -> Template:
    return await _new_page(request, db, chosen=[])


def _profile(form: Mapping[str, str], specialties: list[str], *, new: bool) -> ProfileInput:
    """The profile of a form; raises InvalidInput for what cannot be read (the use case checks the rest)."""
    errors: dict[str, Message] = {}
    years = _int(form.get("years", ""), "years", errors)
    if errors:
        raise InvalidInput(errors=errors)
    identity_number = form.get("identity_number", "").strip()
    return _convert(
        {
            "title": form.get("title", ""),
            "years": years,
            "region": form.get("region", ""),
            "telephone": form.get("telephone", ""),
            "specialties": specialties,
            "identity_number": identity_number if identity_number or new else None,
            "employer_name": form.get("employer_name") or None,
            "employer_credit_code": form.get("employer_credit_code") or None,
            "email": form.get("email") or None,
        },
        ProfileInput,
    )


async def _user_id(request: Request[Any, Any, Any], db: DB, given: str) -> int:
    """The person a form names by number or by login; raises InvalidInput."""
    text = given.strip()
    if text.isdigit() and len(text) < 19:
        return int(text)
    login = text.lower()
    for user in await accounts.list_users(db, actor_of(request)) if login else []:
        if user.login.lower() == login:
            return user.id
    raise InvalidInput(errors={"user_id": N_("Choose the person, or give their login.")})


@post("/admin/experts/new", include_in_schema=False, guards=[administrators])
async def create_expert_page(request: Request[Any, Any, Any], db: DB) -> Any:
    form, specialties = await _fields(request)
    try:
        new = NewExpert(
            user_id=await _user_id(request, db, form.get("user_id", "")), profile=_profile(form, specialties, new=True)
        )
        created = await service.create_expert(db, settings_of(request), actor_of(request), new)
    except BiddingError as error:
        form.pop("identity_number", None)
        shown = _shown(error)
        return await _new_page(request, db, status_code=error.status_code, form=form, chosen=specialties, **shown)
    return see_other(f"/admin/experts/{created.id}?done=created")


async def _expert_page(
    request: Request[Any, Any, Any], db: DB, expert_id: int, *, status_code: int = 200, **context: Any
) -> Template:
    found = await service.read_expert(db, actor_of(request), expert_id)
    principal = principal_of(request)
    return page(
        request,
        "experts/expert.html",
        status_code=status_code,
        expert=found.expert,
        declarations=found.declarations,
        manages=principal is not None and principal.has(Role.ADMIN),
        status_names=STATUS_NAMES,
        relation_names=RELATION_NAMES,
        done=_done(request) if status_code == 200 else None,
        **_classification_context(request),
        **context,
    )


@get("/admin/experts/{expert_id:int}", include_in_schema=False, guards=[pool_readers])
async def expert_page(request: Request[Any, Any, Any], db: DB, expert_id: PathId) -> Template:
    """An expert's profile, unavailable days and conflicts; administrators edit, suspend, retire and reinstate."""
    return await _expert_page(request, db, expert_id)


@post("/admin/experts/{expert_id:int}", include_in_schema=False, guards=[administrators])
async def update_expert_page(request: Request[Any, Any, Any], db: DB, expert_id: PathId) -> Any:
    form, specialties = await _fields(request)
    try:
        changes = _profile(form, specialties, new=False)
        await service.update_expert(db, settings_of(request), actor_of(request), expert_id, changes)
    except BiddingError as error:
        form.pop("identity_number", None)
        shown = _shown(error)
        return await _expert_page(
            request, db, expert_id, status_code=error.status_code, form=form, chosen=specialties, **shown
        )
    return see_other(f"/admin/experts/{expert_id}?done=saved")


@post("/admin/experts/{expert_id:int}/status", include_in_schema=False, guards=[administrators])
async def expert_status_page(request: Request[Any, Any, Any], db: DB, expert_id: PathId) -> Any:
    form, _ = await _fields(request)
    try:
        errors: dict[str, Message] = {}
        if form.get("status") not in STATUS_NAMES:
            raise InvalidInput(errors={"status": N_("Choose to suspend, retire or reinstate.")})
        until = _date(form.get("until", ""), "until", errors)
        if errors:
            raise InvalidInput(errors=errors)
        status = Status(form["status"])
        change = StatusChange(status, form.get("reason") or None, until if status is Status.SUSPENDED else None)
        await service.change_status(
            db, settings_of(request), actor_of(request), expert_id, _convert(msgspec.to_builtins(change), StatusChange)
        )
    except BiddingError as error:
        shown = _shown(error)
        return await _expert_page(request, db, expert_id, status_code=error.status_code, status_form=form, **shown)
    return see_other(f"/admin/experts/{expert_id}?done={status}#status")


# --- The expert's own -----------------------------------------------------------------------------------------


@get("/expert", include_in_schema=False, guards=[experts])
async def workspace_page(request: Request[Any, Any, Any], db: DB) -> Template:
    """The expert's profile and invitations: pending ones to answer in time, accepted ones to declare on."""
    return await _workspace_page(request, db)


async def _workspace_page(
    request: Request[Any, Any, Any], db: DB, *, status_code: int = 200, **context: Any
) -> Template:
    try:
        expert, invitations = await service.workspace(db, actor_of(request))
    except NotFound as error:
        # Someone with the expert role whom no administrator has added yet: the page says so.
        return page(request, "experts/workspace.html", expert=None, absent=error.detail, done=None, **context)
    return page(
        request,
        "experts/workspace.html",
        status_code=status_code,
        expert=expert,
        absent=None,
        pending=[w for w in invitations if w.invitation.status == "pending"],
        accepted=[w for w in invitations if w.invitation.status == "accepted"],
        committees=[w for w in invitations if w.invitation.status == "declared"],
        history=[w for w in invitations if w.invitation.status not in ("pending", "accepted", "declared")],
        tender_status_names=TENDER_STATUS_NAMES,
        invitation_names=draws.INVITATION_NAMES,
        status_names=STATUS_NAMES,
        done=_done(request) if status_code == 200 else None,
        **_classification_context(request),
        **context,
    )


@post("/expert/invitations/{invitation_id:int}", include_in_schema=False, guards=[experts])
async def answer_page(request: Request[Any, Any, Any], db: DB, invitation_id: PathId) -> Any:
    """Accept or decline an invitation; declare no conflict, or recuse yourself with a reason."""
    form, _ = await _fields(request)
    action = form.get("action", "")
    try:
        await draws.answer(
            db, settings_of(request), actor_of(request), invitation_id, draws.Answer(action, form.get("reason"))
        )
    except BiddingError as error:
        shown = _shown(error)
        return await _workspace_page(
            request, db, status_code=error.status_code, answered=invitation_id, form=form, **shown
        )
    return see_other(f"/expert?done={ANSWERS[action]}")


async def _declarations_page(
    request: Request[Any, Any, Any],
    db: DB,
    *,
    status_code: int = 200,
    unavailable: str | None = None,
    rows: list[dict[str, str]] | None = None,
    **context: Any,
) -> Template:
    found = await service.my_file(db, actor_of(request))
    if rows is None:
        rows = [
            {
                "credit_code": conflict.credit_code,
                "name": conflict.name,
                "relation": str(conflict.relation),
                "until": conflict.until.isoformat() if conflict.until else "",
            }
            for conflict in found.declarations.conflicts
        ]
    rows = [*rows, *({} for _ in range(BLANK_ROWS))]
    if unavailable is None:
        unavailable = "\n".join(day.isoformat() for day in found.declarations.unavailable)
    return page(
        request,
        "experts/declarations.html",
        status_code=status_code,
        expert=found.expert,
        unavailable=unavailable,
        rows=rows,
        relation_names=RELATION_NAMES,
        done=_done(request) if status_code == 200 else None,
        **context,
    )


@get("/expert/declarations", include_in_schema=False, guards=[experts])
async def declarations_page(request: Request[Any, Any, Any], db: DB) -> Template:
    """The days the expert cannot sit, and its standing conflicts (GP Implementing Regulations art. 9)."""
    try:
        return await _declarations_page(request, db)
    except NotFound as error:
        return page(request, "experts/workspace.html", expert=None, absent=error.detail, done=None)


#: The fields of one declared conflict on the form.
CONFLICT_FIELDS = ("credit_code", "name", "relation", "until")


def _conflict_rows(form: Mapping[str, str]) -> list[tuple[int, dict[str, str]]]:
    """The conflict rows a form sent, by their row number, blank ones left out."""
    numbers = sorted(
        {int(key.split(".")[1]) for key in form if key.startswith("conflicts.") and key.split(".")[1].isdigit()}
    )
    rows = []
    for number in numbers[: 2 * model.MAX_CONFLICTS]:
        row = {name: form.get(f"conflicts.{number}.{name}", "").strip() for name in CONFLICT_FIELDS}
        if row["credit_code"] or row["name"] or row["until"]:
            rows.append((number, row))
    return rows


@post("/expert/declarations", include_in_schema=False, guards=[experts])
async def update_declarations_page(request: Request[Any, Any, Any], db: DB) -> Any:
    form, _ = await _fields(request)
    text = form.get("unavailable", "")
    rows = _conflict_rows(form)
    errors: dict[str, Message] = {}
    days = []
    for word in text.replace(",", " ").split()[: 10 * model.MAX_UNAVAILABLE_DAYS]:
        day = _date(word, "unavailable", errors)
        if day is not None:
            days.append(day)
    conflicts = []
    for number, row in rows:
        if row["relation"] not in RELATION_NAMES:
            errors[f"conflicts.{number}.relation"] = N_("Choose how you are tied to the organisation.")
            continue
        until = _date(row["until"], f"conflicts.{number}.until", errors)
        conflicts.append(ConflictInput(row["credit_code"][:100], row["name"][:1000], Relation(row["relation"]), until))
    try:
        if errors:
            raise InvalidInput(errors=errors)
        await service.update_declarations(
            db, settings_of(request), actor_of(request), Declarations(unavailable=days, conflicts=conflicts)
        )
    except BiddingError as error:
        shown = _shown(error)
        shown["errors"] = _renumbered(shown["errors"], "conflicts", [number for number, _ in rows])
        return await _declarations_page(
            request,
            db,
            status_code=error.status_code,
            unavailable=text,
            rows=[row for _, row in rows],
            **shown,
        )
    return see_other("/expert/declarations?done=declarations")


# --- A tender's committee -------------------------------------------------------------------------------------


def _quota_rows(committee: draws.CommitteeView, main_drawn: bool) -> list[dict[str, str]]:
    """The request form's rows as it first shows them: the whole committee in one row for the first draw, the open
    seats by their specialty for a supplementary one, then blank rows."""
    if main_drawn:
        by_specialty = Counter(seat.specialty for seat in committee.seats if seat.status == "open")
        rows = [{"specialty": code, "seats": str(count), "reserves": "2"} for code, count in by_specialty.items()]
    else:
        rows = [{"specialty": "", "seats": str(committee.committee_size), "reserves": "2"}]
    return [*rows, *({"specialty": "", "seats": "", "reserves": ""} for _ in range(BLANK_ROWS))]


def _void_reason(reason: str | None) -> Message | str | None:
    return VOID_REASONS.get(reason or "", reason)


async def _committee_page(
    request: Request[Any, Any, Any],
    db: DB,
    tender_id: int,
    *,
    status_code: int = 200,
    rows: list[dict[str, str]] | None = None,
    **context: Any,
) -> Template:
    actor = actor_of(request)
    principal = principal_of(request)
    assert principal is not None, "the guards let only people in"
    committee = await draws.committee(db, actor, tender_id)
    view = await tenders_reading.get_tender(db, actor, tender_id)
    tender = view.tender
    rule = model.committee_rule(tender.category, tender.budget, settings_of(request).draw_rules)
    main_drawn = any(r.kind == "main" and r.status != "void" for r in committee.rounds)
    runs = principal.has(Role.AGENCY_STAFF) and principal.organisation_id == tender.agency.id
    may_request = (
        runs
        and view.status in draws.DRAWING_STATES
        and committee.live_round is None
        and (not main_drawn or bool(committee.open_seats))
    )
    supervised = None
    digests: dict[int, str] = {}
    if principal.has(Role.SUPERVISOR):
        supervised = await draws.supervised(db, actor, tender_id)
        for found in await draws.public_record(db, tender_id):
            committed = found["entries"].get("committed")
            if committed is not None:
                digests[int(found["draw"])] = str(committed["details"]["commitment"]["links"][-1])
    return page(
        request,
        "experts/committee.html",
        status_code=status_code,
        tender=tender,
        tender_status=view.status,
        committee=committee,
        rule=rule,
        runs=runs,
        may_request=may_request,
        supplementary=main_drawn,
        rows=rows if rows is not None else _quota_rows(committee, main_drawn),
        region_rule=context.pop("region_rule", RegionRule.EXCLUDE_PURCHASER_REGION),
        supervised=supervised,
        digests=digests,
        party=draws.SUPERVISOR,
        round_names=ROUND_NAMES,
        kind_names=KIND_NAMES,
        seat_names=SEAT_NAMES,
        role_names=ROLE_NAMES,
        reason_names=REASONS,
        region_rule_names=REGION_RULE_NAMES,
        invitation_names=draws.INVITATION_NAMES,
        tender_status_names=TENDER_STATUS_NAMES,
        void_reason=_void_reason,
        done=_done(request) if status_code == 200 else None,
        **_classification_context(request),
        **context,
    )


@get("/tenders/{tender_id:int}/committee", include_in_schema=False, guards=[committee_readers])
async def committee_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Template:
    """The committee's draws and seats; the request form for the agency; names, exclusions and the contribution
    controls for supervisors."""
    return await _committee_page(request, db, tender_id)


def _quotas(form: Mapping[str, str]) -> tuple[list[QuotaInput], list[int]]:
    """The quotas of the request form (blank rows left out) and the row each came from; raises InvalidInput for a
    number that is not one."""
    errors: dict[str, Message] = {}
    quotas: list[QuotaInput] = []
    numbers: list[int] = []
    for number in range(2 * model.MAX_QUOTAS):
        row = {name: form.get(f"quotas.{number}.{name}", "").strip() for name in ("specialty", "seats", "reserves")}
        if not any(row.values()):
            continue
        seats = _int(row["seats"], f"quotas.{number}.seats", errors)
        reserves = _int(row["reserves"] or "0", f"quotas.{number}.reserves", errors)
        if seats is not None and reserves is not None:
            numbers.append(number)
            quotas.append(QuotaInput(row["specialty"][:10], seats, reserves))
    if errors:
        raise InvalidInput(errors=errors)
    return quotas, numbers


def _typed_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The request form's rows as typed, each at its place so that its problems stay by it, and blank rows."""
    rows = []
    for number in range(2 * model.MAX_QUOTAS):
        rows.append(
            {name: form.get(f"quotas.{number}.{name}", "").strip() for name in ("specialty", "seats", "reserves")}
        )
    while rows and not any(rows[-1].values()):
        rows.pop()
    return [*rows, *({"specialty": "", "seats": "", "reserves": ""} for _ in range(BLANK_ROWS))]


@post("/tenders/{tender_id:int}/committee/draws", include_in_schema=False, guards=[agency_staff])
async def request_draw_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> Any:
    """Request the committee's draw, or a supplementary draw (补抽) for the open seats."""
    form, _ = await _fields(request)
    region_rule = form.get("region_rule", "")
    numbers: list[int] = []
    try:
        quotas, numbers = _quotas(form)
        if region_rule not in REGION_RULE_NAMES:
            raise InvalidInput(errors={"region_rule": N_("Choose the region rule.")})
        data = {"quotas": [msgspec.to_builtins(q) for q in quotas], "region_rule": region_rule}
        await draws.request_draw(db, settings_of(request), actor_of(request), tender_id, _convert(data, DrawRequest))
    except BiddingError as error:
        shown = _shown(error)
        shown["errors"] = _renumbered(shown["errors"], "quotas", numbers)
        return await _committee_page(
            request,
            db,
            tender_id,
            status_code=error.status_code,
            rows=_typed_rows(form),
            region_rule=region_rule,
            failed="request",
            **shown,
        )
    return see_other(f"/tenders/{tender_id}/committee?done=requested")


def _hex32(form: Mapping[str, str], name: str) -> bytes:
    """A 32-byte value of a form, written as 64 hexadecimal digits; raises InvalidInput."""
    text = form.get(name, "").strip().lower()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return bytes.fromhex(text)
    raise InvalidInput(errors={name: N_("Give 64 hexadecimal digits (32 bytes).")})


async def _contribute(request: Request[Any, Any, Any], db: DB, tender_id: int, draw_id: int, name: str) -> Any:
    form, _ = await _fields(request)
    actor = actor_of(request)
    try:
        committee = await draws.committee(db, actor, tender_id)
        if all(r.id != draw_id for r in committee.rounds):
            raise NotFound(N_("There is no such draw."))
        value = _hex32(form, name)
        if name == "commitment":
            await draws.commit_contribution(db, settings_of(request), actor, draw_id, value)
        else:
            await draws.reveal_contribution(db, settings_of(request), actor, draw_id, value)
    except BiddingError as error:
        shown = _shown(error)
        return await _committee_page(
            request, db, tender_id, status_code=error.status_code, failed=f"{name}-{draw_id}", **shown
        )
    done = "committed" if name == "commitment" else "revealed"
    return see_other(f"/tenders/{tender_id}/committee?done={done}#draw-{draw_id}")


@post(
    "/tenders/{tender_id:int}/committee/draws/{draw_id:int}/commitment", include_in_schema=False, guards=[supervisors]
)
async def commit_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId, draw_id: PathId) -> Any:
    """Log the supervisor's commitment to its secret (made in the browser, or with ``bidding draw contribute``)."""
    return await _contribute(request, db, tender_id, draw_id, "commitment")


@post("/tenders/{tender_id:int}/committee/draws/{draw_id:int}/secret", include_in_schema=False, guards=[supervisors])
async def reveal_page(request: Request[Any, Any, Any], db: DB, tender_id: PathId, draw_id: PathId) -> Any:
    """Reveal the supervisor's secret: the experts are drawn and the members invited."""
    return await _contribute(request, db, tender_id, draw_id, "secret")


routes = [
    pool_page,
    new_expert_page,
    create_expert_page,
    expert_page,
    update_expert_page,
    expert_status_page,
    workspace_page,
    answer_page,
    declarations_page,
    update_declarations_page,
    committee_page,
    request_draw_page,
    commit_page,
    reveal_page,
]
