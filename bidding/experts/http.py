"""The experts API under ``/api/v1/``: the pool (administrators, supervisors), an expert's own declarations and
invitations, a tender's draw (the agency requests, a supervisor contributes), and the draw's public record.

The pages live in :mod:`bidding.experts.pages`; both call the same use cases (:mod:`~bidding.experts.service`,
:mod:`~bidding.experts.draws`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter

from bidding.accounts.guards import requires, signed_in
from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.experts import draws, model, repo, service
from bidding.experts.model import Declarations, DrawRequest, NewExpert, ProfileInput, StatusChange
from bidding.identity import Role
from bidding.openapi import documented
from bidding.web import DB, PathId, actor_of, settings_of

administrators = requires(Role.ADMIN)
pool_readers = requires(Role.ADMIN, Role.SUPERVISOR)
experts = requires(Role.EXPERT)
agency_staff = requires(Role.AGENCY_STAFF)
supervisors = requires(Role.SUPERVISOR)
committee_readers = requires(Role.AGENCY_STAFF, Role.SUPERVISOR)

Hex32 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$", description="32 bytes, 64 lower-case hex digits")]

# --- What the API returns -------------------------------------------------------------------------------------


class SpecialtyOut(msgspec.Struct, frozen=True):
    code: str
    #: The class's code, or null for a class.
    parent: str | None
    zh: str
    en: str


class ExpertOut(msgspec.Struct, frozen=True):
    id: int
    user_id: int
    login: str
    name: str
    name_en: str | None
    #: The citizen identity number's first three and last four characters; the pool keeps no more.
    identity_number_masked: str
    title: str
    years: int
    employer_name: str | None
    employer_credit_code: str | None
    region: str
    telephone: str
    email: str | None
    status: model.Status
    suspended_until: dt.date | None
    suspension_reason: str | None
    specialties: list[str]
    version: int
    updated_at: dt.datetime


def _expert(expert: repo.Expert) -> ExpertOut:
    return ExpertOut(
        expert.id,
        expert.user_id,
        expert.login,
        expert.name,
        expert.name_en,
        expert.identity_number_masked,
        expert.title,
        expert.years,
        expert.employer_name,
        expert.employer_credit_code,
        expert.region,
        expert.telephone,
        expert.email,
        model.Status(expert.status),
        expert.suspended_until,
        expert.suspension_reason,
        list(expert.specialties),
        expert.version,
        expert.updated_at,
    )


class PoolOut(msgspec.Struct, frozen=True):
    experts: list[ExpertOut]
    total: int
    page: int
    page_size: int


class ExpertFileOut(msgspec.Struct, frozen=True):
    expert: ExpertOut
    unavailable: list[dt.date]
    conflicts: list[model.ConflictInput]


def _file(found: service.ExpertFile) -> ExpertFileOut:
    return ExpertFileOut(
        _expert(found.expert), list(found.declarations.unavailable), list(found.declarations.conflicts)
    )


class PartyOut(msgspec.Struct, frozen=True):
    name: str
    name_en: str | None
    credit_code: str | None


class InvitationOut(msgspec.Struct, frozen=True):
    id: int
    seat: int
    specialty: str
    status: str
    evaluation_at: dt.datetime
    expires_at: dt.datetime
    #: Seconds left to answer, by the server's clock (0 once expired).
    seconds_left: int
    answered_at: dt.datetime | None
    declared_at: dt.datetime | None
    #: The project, once accepted; before that only the date, the place (the online room) and the specialty.
    reference: str | None
    title: str | None
    purchaser: PartyOut | None
    agency: PartyOut | None
    bidders: list[PartyOut]


def _party(party: service.Party | None) -> PartyOut | None:
    return PartyOut(party.name, party.name_en, party.credit_code) if party else None


class AnswerIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: ``accept`` or ``decline`` a pending invitation; then ``declare`` no conflict, or ``recuse`` with a reason.
    action: Annotated[str, msgspec.Meta(max_length=20)]
    reason: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None


class DrawOut(msgspec.Struct, frozen=True):
    id: int


class RoundOut(msgspec.Struct, frozen=True):
    id: int
    kind: str
    round: int
    status: str
    due_at: dt.datetime
    void_reason: str | None
    created_at: dt.datetime
    drawn_at: dt.datetime | None
    candidates: int
    #: Eligible experts per specialty (those without an exclusion).
    eligible: dict[str, int]
    quotas: list[dict[str, Any]]


class SeatOut(msgspec.Struct, frozen=True):
    #: "专家 1…n": a seat, never a name.
    seat: int
    specialty: str
    #: pending, accepted, declared, or open.
    status: str
    seconds_left: int | None


class CommitteeOut(msgspec.Struct, frozen=True):
    tender_id: int
    committee_size: int
    complete: bool
    open_seats: list[int]
    rounds: list[RoundOut]
    seats: list[SeatOut]


def _committee(view: draws.CommitteeView) -> CommitteeOut:
    return CommitteeOut(
        view.tender_id,
        view.committee_size,
        view.complete,
        view.open_seats,
        [RoundOut(**_fields(r)) for r in view.rounds],
        [SeatOut(s.seat, s.specialty, s.status, s.seconds_left) for s in view.seats],
    )


def _fields(round_view: draws.RoundView) -> dict[str, Any]:
    return {name: getattr(round_view, name) for name in round_view.__dataclass_fields__}


class CandidateOut(msgspec.Struct, frozen=True):
    label: str
    expert_id: int
    name: str
    groups: list[str]
    #: Why it cannot be drawn (none: eligible): suspended, unavailable, employer:bidder, …
    reasons: list[str]
    role: str | None
    rank: int | None


class SupervisedRoundOut(msgspec.Struct, frozen=True):
    round: RoundOut
    candidates: list[CandidateOut]
    #: null until drawn; "" when the public record replays; otherwise the first difference.
    replay: str | None


class SupervisedInvitationOut(msgspec.Struct, frozen=True):
    id: int
    seat: int
    specialty: str
    label: str
    expert_id: int
    name: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    declared_at: dt.datetime | None
    reason: str | None


class SupervisedOut(msgspec.Struct, frozen=True):
    committee: CommitteeOut
    rounds: list[SupervisedRoundOut]
    invitations: list[SupervisedInvitationOut]


class CommitmentIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    #: contribution_commitment(draw digest, "supervisor", secret), hex (see crypto/draw.py).
    commitment: Hex32


class SecretIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    secret: Hex32


class RecordEntryOut(msgspec.Struct, frozen=True):
    details: dict[str, Any]
    #: The entry's index in the transparency log, once sequenced.
    log_index: int | None


class RecordRoundOut(msgspec.Struct, frozen=True):
    draw: int
    #: By kind: committed, contribution_committed, code_revealed, drawn, void.
    entries: dict[str, RecordEntryOut]
    inputs_url: str


# --- The pool -------------------------------------------------------------------------------------------------


@get("/api/v1/specialties", tags=["experts"], guards=[signed_in], sync_to_thread=False)
def specialties(request: Request[Any, Any, Any]) -> list[SpecialtyOut]:
    """The classification of specialties: classes (works, goods, services) and their specialties."""
    return [SpecialtyOut(s.code, s.parent, s.zh, s.en) for s in draws.classification(settings_of(request))]


@get("/api/v1/experts", tags=["experts"], guards=[pool_readers])
async def list_experts(
    request: Request[Any, Any, Any],
    db: DB,
    q: Annotated[str, QueryParameter(description="Part of a name, login or employer", max_length=100)] = "",
    specialty: Annotated[str, QueryParameter(description="A specialty's code", max_length=10)] = "",
    status: FromQuery[model.Status | None] = None,
    page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
) -> PoolOut:
    """The pool, newest first, for administrators and supervisors."""
    found = await service.list_experts(db, actor_of(request), text=q, specialty=specialty, status=status, page=page)
    return PoolOut([_expert(e) for e in found.experts], found.total, found.page, service.PAGE_SIZE)


@post("/api/v1/experts", tags=["experts"], guards=[administrators], opt=documented(InvalidInput, Conflict))
async def create_expert(request: Request[Any, Any, Any], db: DB, data: JSONBody[NewExpert]) -> ExpertOut:
    """Add a person who holds the expert role to the pool, with a profile. The identity number is checked
    (GB 11643) and only its masked form kept."""
    return _expert(await service.create_expert(db, settings_of(request), actor_of(request), data))


@get("/api/v1/experts/{expert_id:int}", tags=["experts"], guards=[pool_readers], opt=documented(NotFound))
async def read_expert(request: Request[Any, Any, Any], db: DB, expert_id: PathId) -> ExpertFileOut:
    """One expert's profile, unavailable days and declared conflicts."""
    return _file(await service.read_expert(db, actor_of(request), expert_id))


@put("/api/v1/experts/{expert_id:int}", tags=["experts"], guards=[administrators], opt=documented(InvalidInput))
async def update_expert(
    request: Request[Any, Any, Any], db: DB, expert_id: PathId, data: JSONBody[ProfileInput]
) -> ExpertOut:
    """Replace an expert's profile; the identity number on record is kept unless a new one is given."""
    return _expert(await service.update_expert(db, settings_of(request), actor_of(request), expert_id, data))


@post(
    "/api/v1/experts/{expert_id:int}/status",
    tags=["experts"],
    guards=[administrators],
    status_code=200,
    opt=documented(InvalidInput),
)
async def change_status(
    request: Request[Any, Any, Any], db: DB, expert_id: PathId, data: JSONBody[StatusChange]
) -> ExpertOut:
    """Suspend an expert (a reason; until a date, or until lifted), retire it, or make it active again."""
    return _expert(await service.change_status(db, settings_of(request), actor_of(request), expert_id, data))


# --- An expert's own -----------------------------------------------------------------------------------------


@get("/api/v1/experts/me", tags=["experts"], guards=[experts], opt=documented(NotFound))
async def my_file(request: Request[Any, Any, Any], db: DB) -> ExpertFileOut:
    """Your profile in the pool, your unavailable days and your declared conflicts."""
    return _file(await service.my_file(db, actor_of(request)))


@put("/api/v1/experts/me/declarations", tags=["experts"], guards=[experts], opt=documented(NotFound, InvalidInput))
async def update_declarations(request: Request[Any, Any, Any], db: DB, data: JSONBody[Declarations]) -> ExpertFileOut:
    """Replace your unavailable days and your standing conflicts (GP Implementing Regulations art. 9): former
    employers for 3 years, organisations where close relatives work or hold shares."""
    return _file(await service.update_declarations(db, settings_of(request), actor_of(request), data))


@get("/api/v1/experts/me/invitations", tags=["experts"], guards=[experts], opt=documented(NotFound))
async def my_invitations(request: Request[Any, Any, Any], db: DB) -> list[InvitationOut]:
    """Your invitations, newest first. A pending one names the date and the specialty, not the project."""
    _, found = await service.workspace(db, actor_of(request))
    return [
        InvitationOut(
            w.invitation.id,
            w.invitation.seat,
            w.invitation.specialty,
            w.invitation.status,
            w.evaluation_at,
            w.invitation.expires_at,
            w.invitation.seconds_left,
            w.invitation.answered_at,
            w.invitation.declared_at,
            w.reference,
            w.title,
            _party(w.purchaser),
            _party(w.agency),
            [PartyOut(b.name, b.name_en, b.credit_code) for b in w.bidders],
        )
        for w in found
    ]


@post(
    "/api/v1/invitations/{invitation_id:int}/answer",
    tags=["experts"],
    guards=[experts],
    status_code=204,
    opt=documented(Forbidden, InvalidInput, InvalidTransition),
)
async def answer_invitation(
    request: Request[Any, Any, Any], db: DB, invitation_id: PathId, data: JSONBody[AnswerIn]
) -> None:
    """Accept or decline within the time given; once accepted, declare no conflict with the purchaser and the
    bidders now named (回避声明), or recuse yourself with a reason. A decline or recusal calls a reserve."""
    await draws.answer(
        db, settings_of(request), actor_of(request), invitation_id, draws.Answer(data.action, data.reason)
    )


# --- A tender's draw ------------------------------------------------------------------------------------------


@post(
    "/api/v1/tenders/{tender_id:int}/draws",
    tags=["experts"],
    guards=[agency_staff],
    opt=documented(Forbidden, InvalidInput, InvalidTransition, Conflict),
)
async def request_draw(
    request: Request[Any, Any, Any], db: DB, tender_id: PathId, data: JSONBody[DrawRequest]
) -> DrawOut:
    """Request the committee's draw once the bids are opened, or a supplementary draw (补抽) for open seats.

    The candidate list is computed with every exclusion, committed and logged; a supervisor's contribution then
    draws it. Too few eligible experts per seat refuses the draw, naming the specialty."""
    return DrawOut(await draws.request_draw(db, settings_of(request), actor_of(request), tender_id, data))


@get(
    "/api/v1/tenders/{tender_id:int}/committee",
    tags=["experts"],
    guards=[committee_readers],
    opt=documented(Forbidden),
)
async def read_committee(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> CommitteeOut:
    """The draw's rounds and the committee's seats ("专家 1…n" and their states), never names."""
    return _committee(await draws.committee(db, actor_of(request), tender_id))


@get(
    "/api/v1/tenders/{tender_id:int}/committee/supervision",
    tags=["experts"],
    guards=[supervisors],
    opt=documented(Forbidden),
)
async def supervise_committee(request: Request[Any, Any, Any], db: DB, tender_id: PathId) -> SupervisedOut:
    """Everything of the draws, for supervisors: each round's candidates by name with their exclusions and
    picks, its replay from the public record, and every invitation with who answered when."""
    found = await draws.supervised(db, actor_of(request), tender_id)
    return SupervisedOut(
        _committee(found.committee),
        [
            SupervisedRoundOut(
                RoundOut(**_fields(r.round)),
                [
                    CandidateOut(c.label, c.expert_id, c.name, list(c.groups), list(c.reasons), c.role, c.rank)
                    for c in r.candidates
                ],
                r.replay,
            )
            for r in found.rounds
        ],
        [
            SupervisedInvitationOut(
                v.invitation.id,
                v.invitation.seat,
                v.invitation.specialty,
                v.invitation.label,
                v.invitation.expert_id,
                v.name,
                v.invitation.status,
                v.invitation.created_at,
                v.invitation.expires_at,
                v.invitation.answered_at,
                v.invitation.declared_at,
                v.invitation.reason,
            )
            for v in found.invitations
        ],
    )


@post(
    "/api/v1/draws/{draw_id:int}/contribution",
    tags=["experts"],
    guards=[supervisors],
    status_code=204,
    opt=documented(InvalidInput, InvalidTransition),
)
async def commit_contribution(
    request: Request[Any, Any, Any], db: DB, draw_id: PathId, data: JSONBody[CommitmentIn]
) -> None:
    """Log your commitment to a secret you keep (made in your browser or with ``bidding draw contribute``); the
    platform reveals its one-time code at once."""
    await draws.commit_contribution(
        db, settings_of(request), actor_of(request), draw_id, bytes.fromhex(data.commitment)
    )


@post(
    "/api/v1/draws/{draw_id:int}/contribution/secret",
    tags=["experts"],
    guards=[supervisors],
    status_code=204,
    opt=documented(InvalidInput, InvalidTransition),
)
async def reveal_contribution(
    request: Request[Any, Any, Any], db: DB, draw_id: PathId, data: JSONBody[SecretIn]
) -> None:
    """Reveal your secret: checked against your commitment, then the experts are ranked and the members invited."""
    await draws.reveal_contribution(db, settings_of(request), actor_of(request), draw_id, bytes.fromhex(data.secret))


# --- Public ---------------------------------------------------------------------------------------------------


@get(
    "/api/v1/draws/{draw_id:int}/inputs",
    tags=["experts"],
    media_type="application/json",
    opt=documented(NotFound, content={"application/json": {"type": "object"}}),
)
async def draw_inputs(db: DB, draw_id: PathId) -> Response[bytes]:
    """A round's inputs document (canonical JSON, RFC 8785): candidates as opaque labels with their specialties,
    exclusions with their reasons, quotas. Its SHA-256 is the ``inputs_sha256`` of its ``draw.committed`` entry."""
    return Response(await draws.inputs_document(db, draw_id), media_type="application/json")


@get("/api/v1/tenders/{tender_id:int}/draws/record", tags=["experts"], opt=documented(NotFound))
async def draw_record(db: DB, tender_id: PathId) -> list[RecordRoundOut]:
    """A tender's draws as the transparency log holds them, round by round, with each entry's log index:
    everything ``bidding draw verify`` needs to replay them."""
    return [
        RecordRoundOut(
            found["draw"],
            {kind: RecordEntryOut(e["details"], e["log_index"]) for kind, e in found["entries"].items()},
            f"/api/v1/draws/{found['draw']}/inputs",
        )
        for found in await draws.public_record(db, tender_id)
    ]


routes = [
    specialties,
    list_experts,
    create_expert,
    read_expert,
    update_expert,
    change_status,
    my_file,
    update_declarations,
    my_invitations,
    answer_invitation,
    request_draw,
    read_committee,
    supervise_committee,
    commit_contribution,
    reveal_contribution,
]
#: Served to anyone, outside the routes that look for a session.
public_routes = [draw_inputs, draw_record]
