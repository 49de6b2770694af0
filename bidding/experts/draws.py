"""Use cases of the expert draw (随机抽取) and of the invitations it sends.

A draw is requested by the agency once the bids are opened, for the evaluation date. The platform computes the
candidate list with every exclusion and its reason, labels the candidates at random for this round, and logs the
commitment to those inputs (``draw.committed``): the inputs document itself is public at
``/api/v1/draws/{id}/inputs``, the log holds its SHA-256. A supervisor then commits to a secret of its own, in its
browser or with ``bidding draw contribute`` (``draw.contribution_committed``); in the same transaction the platform
reveals its one-time code (``draw.code_revealed``). The supervisor reveals its secret, which is checked against its
commitment, and the ranking is computed (``draw.drawn``: the secrets and the groups drawn). Anyone replays it from
what is public (:func:`crypto.draw_record.replay_record`). A party that misses its time is named
(``draw.void``) and the round restarts with fresh commitments.

The drawn members are invited seat by seat; a decline, a time-out or a recusal calls the next reserve of the same
specialty, and when a specialty has none left the seat stays open until a supplementary draw (补抽) fills it.
Nobody chooses an expert (GP Implementing Regulations art. 46 / Tendering Law Implementing Regulations art. 46).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.db import Connection, Database
from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.experts import model, repo
from bidding.experts.model import DrawRequest, QuotaInput, QuotaRequest
from bidding.i18n import N_, Message
from bidding.identity import PLATFORM, Actor, Role
from bidding.log import repo as log_repo
from bidding.names import Regions, load_regions
from bidding.notifications import repo as notifications_repo
from bidding.settings import Settings
from bidding.tenders import policy
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Status
from crypto import draw as drawing
from crypto import draw_record
from crypto.canonical import canonical_json

logger = logging.getLogger(__name__)

#: The tender's states in which its committee is drawn: after the opening, before the evaluation ends.
DRAWING_STATES = frozenset({Status.OPENED, Status.EVALUATION})
#: The one party besides the platform whose secret makes the randomness.
SUPERVISOR = "supervisor"
#: The events of one tender read for its draws' record, at most (a tender has some hundreds).
MAX_RECORD_EVENTS = 100_000
#: Live seat states: the seat is being filled or is filled.
LIVE = ("pending", "accepted", "declared")


@functools.cache
def _classification(path: Path | None) -> model.Classification:
    return model.load_specialties(path)


@functools.cache
def _regions(path: Path | None) -> Regions:
    return load_regions(path)


def classification(settings: Settings) -> model.Classification:
    """The specialties of the settings' classification, read once per process."""
    return _classification(settings.specialties_file)


def regions(settings: Settings) -> Regions:
    """The regions of the settings, read once per process."""
    return _regions(settings.regions_file)


def _supervisor(actor: Actor) -> int:
    if not actor.has(Role.SUPERVISOR) or actor.principal is None:
        raise Forbidden(N_("Only supervisors contribute to a draw."))
    return actor.principal.user_id


def _spellings(found: Regions, region: str) -> list[str]:
    listed = found.find(region)
    return sorted({region, *((listed.code, listed.zh, listed.en) if listed else ())})


# --- Requesting a draw -----------------------------------------------------------------------------------------


async def request_draw(db: Database, settings: Settings, actor: Actor, tender_id: int, request: DrawRequest) -> int:
    """Request the committee's draw (main) or, when seats are open and no reserve is left, a supplementary one.

    Raises InvalidInput (quotas that do not make the committee or the open seats, too few candidates, an evaluation
    date in the past), InvalidTransition (the bids are not opened, no seat is open), Conflict (a draw is in
    progress, or the committee is drawn already), Forbidden or NotFound. Returns the new round's id.
    """
    async with db.transaction() as connection:
        tender = policy.check_runs(actor, await tenders_repo.lock_tender(connection, tender_id))
        now = await tenders_repo.select_now(connection)
        if tender.status not in DRAWING_STATES:
            raise InvalidTransition(N_("The committee is drawn once the bids are opened (the bidders are known)."))
        if await repo.select_live_draw(connection, tender_id) is not None:
            raise Conflict(N_("A draw for this tender is in progress."))
        draws = await repo.select_draws(connection, tender_id)
        main = next((d for d in draws if d.kind == "main" and d.status != "void"), None)
        evaluation_at = tender.evaluation_at
        if evaluation_at <= now:
            raise InvalidInput(errors={"evaluation_at": N_("The evaluation date has passed: amend it first.")})
        rule = model.committee_rule(tender.category, tender.budget, settings.draw_rules)
        if main is None:
            kind, wanted = "main", tender.committee_size
        else:
            open_seats = await _open_seats(connection, tender_id, tender.committee_size)
            if not open_seats:
                raise Conflict(N_("The committee is drawn already, and no seat is open: a second draw is refused."))
            kind, wanted = "supplementary", len(open_seats)
        quotas = [QuotaRequest(q.specialty, q.seats, q.reserves) for q in request.quotas]
        errors = dict(model.check_quotas(quotas, wanted, rule, classification(settings)))
        if kind == "supplementary":
            errors.pop("committee_size", None)
        if errors:
            raise InvalidInput(errors=errors)
        request_id = await _commit_round(
            connection,
            settings,
            actor,
            tender_id=tender_id,
            reference=tender.reference,
            kind=kind,
            round_number=1,
            request_id=None,
            evaluation_at=evaluation_at,
            region_rule=request.region_rule,
            quotas=request.quotas,
            requested_by=policy.user_id(actor),
        )
    return request_id


async def _open_seats(connection: Connection, tender_id: int, committee_size: int) -> list[int]:
    invitations = await repo.select_invitations(connection, tender_id)
    filled = {i.seat for i in invitations if i.status in LIVE}
    return [seat for seat in range(1, committee_size + 1) if seat not in filled]


async def _commit_round(
    connection: Connection,
    settings: Settings,
    actor: Actor,
    *,
    tender_id: int,
    reference: str,
    kind: str,
    round_number: int,
    request_id: int | None,
    evaluation_at: dt.datetime,
    region_rule: str,
    quotas: Sequence[QuotaInput],
    requested_by: int,
) -> int:
    """Compute the candidate list, commit to it, and log the commitment; raises InvalidInput if too few."""
    rules = settings.draw_rules
    parties = await repo.select_tender_parties(connection, tender_id)
    now = await tenders_repo.select_now(connection)
    day = evaluation_at.astimezone(ZoneInfo(settings.timezone)).date()
    entries = await repo.select_pool(
        connection,
        specialties=[quota.specialty for quota in quotas],
        day=day,
        parties=parties,
        region_spellings=(
            _spellings(regions(settings), parties.purchaser.region)
            if region_rule == model.RegionRule.EXCLUDE_PURCHASER_REGION
            else []
        ),
        recent_since=now - dt.timedelta(days=rules.recent_draw_days) if rules.recent_draw_days else None,
        tender_id=tender_id,
    )
    ordered, errors = model.check_pool(entries, quotas, rules.candidates_per_seat)
    if errors:
        raise InvalidInput(errors=errors)
    label_key = secrets.token_bytes(32)
    context = (
        f"tender {reference}: {kind} draw of {sum(q.seats for q in ordered)} experts for the evaluation of"
        f" {day.isoformat()}, round {round_number}"
    )
    with model.collector_paused():
        pool = model.make_pool(context, entries, ordered, label_key)
        secret, commitment = drawing.commit(pool.inputs)
        document = draw_record.inputs_to_json(pool.inputs)
        inputs_bytes = canonical_json(document)
        candidate_ids = [pool.experts[item["label"]] for item in document["candidates"]]
    inputs_sha256 = hashlib.sha256(inputs_bytes).hexdigest()  # draw_record.inputs_digest, of the bytes made already
    due_at = now + dt.timedelta(minutes=rules.contribution_minutes)
    committed = draw_record.commitment_to_json(commitment)
    draw_id = await repo.insert_draw(
        connection,
        repo.NewDraw(
            tender_id=tender_id,
            kind=kind,
            round=round_number,
            request_id=request_id,
            evaluation_at=evaluation_at,
            region_rule=str(region_rule),
            quotas=[{"specialty": q.specialty, "seats": q.seats, "reserves": q.reserves} for q in ordered],
            inputs=inputs_bytes,
            inputs_sha256=inputs_sha256,
            label_key=label_key,
            candidate_ids=candidate_ids,
            secret=secret,
            commitment=committed,
            due_at=due_at,
            requested_by=requested_by,
        ),
    )
    if draw_id is None:
        raise Conflict(N_("A draw for this tender is in progress, or its committee is drawn already."))
    excluded = sum(1 for entry in entries if entry.reasons)
    details = {
        "draw": draw_id,
        "request": request_id or draw_id,
        "kind": kind,
        "round": round_number,
        "inputs_sha256": inputs_sha256,
        "commitment": committed,
        "candidates": len(entries),
        "excluded": excluded,
        "quotas": [{"group": q.specialty, "seats": q.seats, "reserves": q.reserves} for q in ordered],
        "parties": [SUPERVISOR],
        "due": due_at.isoformat(),
    }
    role = Role.AGENCY_STAFF if actor.principal is not None else "platform"
    await audit_repo.insert_event(connection, event(actor, role, "draw.committed", f"tender:{tender_id}", details))
    await notifications_repo.insert_role_notifications(
        connection, Role.SUPERVISOR, "draw.awaiting_contribution", tender_id, {"reference": reference, "draw": draw_id}
    )
    return draw_id


# --- The supervisor's contribution -----------------------------------------------------------------------------


async def commit_contribution(db: Database, settings: Settings, actor: Actor, draw_id: int, commitment: bytes) -> None:
    """Log the supervisor's commitment to its secret; the platform reveals its one-time code at once.

    Raises InvalidInput (not 32 bytes), InvalidTransition (the draw is not awaiting it), Forbidden or NotFound.
    """
    user_id = _supervisor(actor)
    if len(commitment) != drawing.CODE_SIZE:
        raise InvalidInput(errors={"commitment": N_("A commitment is a SHA-256: 32 bytes, 64 hexadecimal digits.")})
    async with db.transaction() as connection:
        draw = await _lock_draw(connection, draw_id)
        if draw.status != "committing":
            raise InvalidTransition(N_("This draw is not awaiting a commitment."))
        if not await repo.insert_contribution(connection, draw_id, SUPERVISOR, user_id, commitment, None):
            raise InvalidTransition(N_("This draw has the supervisor's commitment already."))
        await audit_repo.insert_event(
            connection,
            event(
                actor,
                Role.SUPERVISOR,
                "draw.contribution_committed",
                f"tender:{draw.tender_id}",
                {"draw": draw_id, "party": SUPERVISOR, "commitment": commitment.hex()},
            ),
        )
        code = drawing.one_time_code(draw.secret, draw_record.commitment_from_json(draw.commitment))
        now = await tenders_repo.select_now(connection)
        due_at = now + dt.timedelta(minutes=settings.draw_rules.contribution_minutes)
        await repo.update_draw(connection, draw_id, status="revealing", one_time_code=code.hex(), due_at=due_at)
        await audit_repo.insert_event(
            connection,
            event(
                PLATFORM,
                "platform",
                "draw.code_revealed",
                f"tender:{draw.tender_id}",
                {"draw": draw_id, "one_time_code": code.hex(), "due": due_at.isoformat()},
            ),
        )


async def _lock_draw(connection: Connection, draw_id: int) -> repo.Draw:
    found = await repo.select_draw(connection, draw_id)
    if found is None:
        raise NotFound(N_("There is no such draw."))
    await repo.lock_tender_draws(connection, found.tender_id)
    locked = await repo.select_draw(connection, draw_id, lock=True)
    assert locked is not None, "a draw is never deleted"
    return locked


async def reveal_contribution(db: Database, settings: Settings, actor: Actor, draw_id: int, secret: bytes) -> None:
    """Reveal the supervisor's secret: checked against its commitment, then the ranking is drawn and the members
    invited. Raises InvalidInput (a secret that does not match), InvalidTransition, Forbidden or NotFound."""
    _supervisor(actor)
    async with db.transaction() as connection:
        draw = await _lock_draw(connection, draw_id)
        if draw.status != "revealing":
            raise InvalidTransition(N_("This draw is not awaiting the supervisor's secret."))
        contribution = (await repo.select_contributions(connection, [draw_id]))[draw_id][0]
        commitment = draw_record.commitment_from_json(draw.commitment)
        try:
            drawing.check_contribution(commitment.digest, SUPERVISOR, secret, contribution.commitment)
        except drawing.DrawError:
            raise InvalidInput(
                errors={"secret": N_("This is not the secret the supervisor committed to for this draw.")}
            ) from None
        await repo.reveal_contribution(connection, draw_id, SUPERVISOR, secret)
        assert draw.one_time_code is not None, "a revealing draw has its code out"
        key = drawing.seed_from(
            commitment, bytes.fromhex(draw.one_time_code), drawing.contributions_randomness([(SUPERVISOR, secret)])
        )
        with model.collector_paused():
            inputs = draw_record.inputs_from_json(json.loads(draw.inputs))
        try:
            with model.collector_paused():
                result = drawing.draw(inputs, key)
        except drawing.DrawError as error:
            # Experts of several specialties can leave a later quota short in this ranking although each quota
            # had enough on its own: the round is void, naming no party, and the agency asks again.
            reason = f"the pool ran short: {error}"
            await repo.update_draw(connection, draw_id, status="void", void_reason=reason)
            await audit_repo.insert_event(
                connection,
                event(
                    actor,
                    Role.SUPERVISOR,
                    "draw.void",
                    f"tender:{draw.tender_id}",
                    {"draw": draw_id, "party": None, "reason": reason, "contributions": {SUPERVISOR: secret.hex()}},
                ),
            )
            return
        groups = draw_record.groups_to_json(result)
        await repo.update_draw(
            connection, draw_id, status="drawn", groups=groups, drawn_at=await tenders_repo.select_now(connection)
        )
        await audit_repo.insert_event(
            connection,
            event(
                actor,
                Role.SUPERVISOR,
                "draw.drawn",
                f"tender:{draw.tender_id}",
                {"draw": draw_id, "contributions": {SUPERVISOR: secret.hex()}, "groups": groups},
            ),
        )
        experts = model.experts_by_label(draw.label_key, inputs, draw.candidate_ids, result)
        picks = [
            repo.Pick(draw_id, name, experts[name], group.group, role, rank)
            for group in result.groups
            for rank, (name, role) in enumerate(
                [(m, "member") for m in group.members] + [(r, "reserve") for r in group.reserves], start=1
            )
        ]
        await repo.insert_picks(connection, picks)
        tender = await tenders_repo.select_tender(connection, draw.tender_id)
        assert tender is not None
        seats = await _open_seats(connection, draw.tender_id, tender.committee_size)
        for seat, pick in zip(seats, [p for p in picks if p.role == "member"], strict=False):
            await _invite(connection, settings, tender.reference, draw.tender_id, pick, seat, draw.evaluation_at)


# --- Invitations -----------------------------------------------------------------------------------------------


async def _invite(
    connection: Connection,
    settings: Settings,
    reference: str,
    tender_id: int,
    pick: repo.Pick,
    seat: int,
    evaluation_at: dt.datetime,
) -> None:
    """Invite one drawn expert to a seat: in its workspace, and through the outbox to its telephone."""
    minutes = settings.draw_rules.invitation_minutes
    invitation_id = await repo.insert_invitation(connection, tender_id, pick, seat, minutes)
    await audit_repo.insert_event(
        connection,
        event(
            PLATFORM,
            "platform",
            "invitation.sent",
            f"tender:{tender_id}",
            {"draw": pick.draw_id, "seat": seat, "label": pick.label, "specialty": pick.specialty, "minutes": minutes},
        ),
    )
    expert = await repo.select_expert(connection, pick.expert_id)
    assert expert is not None
    # The project is not named before the expert accepts: the evaluation's date, place and specialty only.
    payload = {
        "invitation": invitation_id,
        "evaluation_at": evaluation_at.isoformat(),
        "specialty": pick.specialty,
        "minutes": minutes,
    }
    await notifications_repo.insert_user_notification(connection, expert.user_id, "expert.invited", payload)
    await repo.insert_outbox(connection, expert.user_id, "sms", expert.telephone, "expert.invited", payload)


async def _call_reserve(
    connection: Connection, settings: Settings, invitation: repo.Invitation, evaluation_at: dt.datetime
) -> None:
    """Call the next reserve of the same specialty to an invitation's seat, or log the seat open if none is left."""
    pick = await repo.select_next_reserve(connection, invitation.tender_id, invitation.specialty)
    tender = await tenders_repo.select_tender(connection, invitation.tender_id)
    assert tender is not None
    if pick is not None:
        await _invite(
            connection, settings, tender.reference, invitation.tender_id, pick, invitation.seat, evaluation_at
        )
        return
    await audit_repo.insert_event(
        connection,
        event(
            PLATFORM,
            "platform",
            "invitation.seat_open",
            f"tender:{invitation.tender_id}",
            {"seat": invitation.seat, "specialty": invitation.specialty},
        ),
    )
    await notifications_repo.insert_notifications(
        connection, [tender.agency.id], "draw.seat_open", invitation.tender_id, {"reference": tender.reference}
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """An expert's answer to an invitation."""

    action: str
    reason: str | None = None


_ANSWERS: Mapping[str, tuple[tuple[str, ...], str]] = {
    # action: the states it applies to, the state it leads to
    "accept": (("pending",), "accepted"),
    "decline": (("pending",), "declined"),
    "declare": (("accepted",), "declared"),
    "recuse": (("accepted", "declared"), "recused"),
}


async def answer(db: Database, settings: Settings, actor: Actor, invitation_id: int, reply: Answer) -> None:
    """Accept or decline an invitation within its time, then declare no conflict (回避声明) or recuse.

    A decline or a recusal calls the next reserve. Raises InvalidInput (a recusal or decline reason too long),
    InvalidTransition (after the time-out, or not in a state this answers), Forbidden (another's invitation) or
    NotFound.
    """
    if reply.action not in _ANSWERS:
        raise InvalidInput(errors={"action": N_("Answer accept, decline, declare or recuse.")})
    reason = (reply.reason or "").strip() or None
    if reason is not None and len(reason) > 1000:
        raise InvalidInput(errors={"reason": N_("At most %(most)d characters.", most=1000)})
    if reply.action == "recuse" and reason is None:
        raise InvalidInput(errors={"reason": N_("Say why you recuse yourself: the tie to a party, in a few words.")})
    async with db.transaction() as connection:
        invitation = await _own_invitation(connection, actor, invitation_id)
        await repo.lock_tender_draws(connection, invitation.tender_id)
        locked = await repo.select_invitation(connection, invitation_id, lock=True)
        assert locked is not None, "an invitation is never deleted"
        invitation = locked
        states, outcome = _ANSWERS[reply.action]
        if invitation.status == "pending" and invitation.seconds_left <= 0:
            raise InvalidTransition(N_("This invitation has expired: a reserve is called in your place."))
        if invitation.status not in states:
            raise InvalidTransition(
                N_(
                    "This invitation is %(status)s: it cannot be answered so.",
                    status=INVITATION_NAMES[invitation.status],
                )
            )
        await repo.update_invitation(connection, invitation_id, outcome, reason)
        await audit_repo.insert_event(
            connection,
            event(
                actor,
                Role.EXPERT,
                f"invitation.{outcome}",
                f"tender:{invitation.tender_id}",
                {"seat": invitation.seat, "label": invitation.label},
            ),
        )
        if outcome in ("declined", "recused"):
            draw = await repo.select_draw(connection, invitation.draw_id)
            assert draw is not None
            await _call_reserve(connection, settings, invitation, draw.evaluation_at)


async def _own_invitation(connection: Connection, actor: Actor, invitation_id: int) -> repo.Invitation:
    if not actor.has(Role.EXPERT) or actor.principal is None:
        raise Forbidden(N_("Only the expert invited answers an invitation."))
    invitation = await repo.select_invitation(connection, invitation_id)
    expert = await repo.select_expert_of_user(connection, actor.principal.user_id)
    if invitation is None:
        raise NotFound(N_("There is no such invitation."))
    if expert is None or invitation.expert_id != expert.id:
        raise Forbidden(N_("This invitation is another expert's."))
    return invitation


INVITATION_NAMES: Mapping[str, Message] = {
    "pending": N_("awaiting an answer"),
    "accepted": N_("accepted, awaiting the declaration"),
    "declared": N_("accepted and declared"),
    "declined": N_("declined"),
    "expired": N_("expired"),
    "recused": N_("recused"),
}


# --- Time-outs -------------------------------------------------------------------------------------------------


async def sweep(db: Database, settings: Settings) -> int:
    """Void the rounds whose party missed its time (naming it) and restart them; expire the invitations not
    answered in time and call reserves. Returns how many things it handled. Runs in the background of every
    process; each item in its own transaction, under the tender's lock, so two processes do each once."""
    async with db.connection() as connection:
        overdue = await repo.select_overdue_draws(connection)
        expired = await repo.select_expired_invitations(connection)
    for draw_id in overdue:
        await _void_and_restart(db, settings, draw_id)
    for invitation_id in expired:
        await _expire(db, settings, invitation_id)
    return len(overdue) + len(expired)


async def _void_and_restart(db: Database, settings: Settings, draw_id: int) -> None:
    async with db.transaction() as connection:
        draw = await _lock_draw(connection, draw_id)
        if draw.status not in ("committing", "revealing") or draw.due_at >= await tenders_repo.select_now(connection):
            return
        waited = "commit" if draw.status == "committing" else "reveal"
        reason = f"the {SUPERVISOR} did not {waited} in time"
        await repo.update_draw(connection, draw_id, status="void", void_reason=reason)
        await audit_repo.insert_event(
            connection,
            event(
                PLATFORM,
                "platform",
                "draw.void",
                f"tender:{draw.tender_id}",
                {"draw": draw_id, "party": SUPERVISOR, "reason": reason},
            ),
        )
        tender = await tenders_repo.select_tender(connection, draw.tender_id)
        assert tender is not None
        if tender.status not in DRAWING_STATES or draw.evaluation_at <= await tenders_repo.select_now(connection):
            return
        quotas = [QuotaInput(q["specialty"], q["seats"], q["reserves"]) for q in draw.quotas]
        # A savepoint: a pool now too small, or a failed insert, leaves the round void. The error must leave the
        # savepoint's block to roll it back; caught inside, the block would release a failed savepoint.
        try:
            async with connection.transaction():
                await _commit_round(
                    connection,
                    settings,
                    PLATFORM,
                    tender_id=draw.tender_id,
                    reference=tender.reference,
                    kind=draw.kind,
                    round_number=draw.round + 1,
                    request_id=draw.request_id,
                    evaluation_at=draw.evaluation_at,
                    region_rule=draw.region_rule,
                    quotas=quotas,
                    requested_by=draw.requested_by,
                )
        except (InvalidInput, Conflict) as error:
            logger.warning("draw %d: not restarted: %s", draw_id, error)


async def _expire(db: Database, settings: Settings, invitation_id: int) -> None:
    async with db.transaction() as connection:
        found = await repo.select_invitation(connection, invitation_id)
        if found is None:
            return
        await repo.lock_tender_draws(connection, found.tender_id)
        invitation = await repo.select_invitation(connection, invitation_id, lock=True)
        assert invitation is not None
        if invitation.status != "pending" or invitation.seconds_left > 0:
            return
        await repo.update_invitation(connection, invitation_id, "expired")
        await audit_repo.insert_event(
            connection,
            event(
                PLATFORM,
                "platform",
                "invitation.expired",
                f"tender:{invitation.tender_id}",
                {"seat": invitation.seat, "label": invitation.label},
            ),
        )
        draw = await repo.select_draw(connection, invitation.draw_id)
        assert draw is not None
        await _call_reserve(connection, settings, invitation, draw.evaluation_at)


# --- Reading ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SeatView:
    seat: int
    specialty: str
    #: The live invitation's state, or ``open``.
    status: str
    seconds_left: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class RoundView:
    id: int
    kind: str
    round: int
    status: str
    due_at: dt.datetime
    void_reason: str | None
    created_at: dt.datetime
    drawn_at: dt.datetime | None
    candidates: int
    eligible: Mapping[str, int]
    quotas: list[dict[str, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class CommitteeView:
    """What the agency sees of a tender's committee: rounds and seats, never names."""

    tender_id: int
    committee_size: int
    rounds: list[RoundView]
    seats: list[SeatView]

    @property
    def open_seats(self) -> list[int]:
        return [seat.seat for seat in self.seats if seat.status == "open"]

    @property
    def live_round(self) -> RoundView | None:
        return next((r for r in self.rounds if r.status in ("committing", "revealing")), None)

    @property
    def complete(self) -> bool:
        return bool(self.seats) and all(seat.status == "declared" for seat in self.seats)


def _round_view(draw: repo.Draw) -> RoundView:
    document = json.loads(draw.inputs)
    excluded = {item["label"] for item in document["exclusions"]}
    eligible: dict[str, int] = {}
    for candidate in document["candidates"]:
        if candidate["label"] not in excluded:
            for group in candidate["groups"]:
                eligible[group] = eligible.get(group, 0) + 1
    return RoundView(
        draw.id,
        draw.kind,
        draw.round,
        draw.status,
        draw.due_at,
        draw.void_reason,
        draw.created_at,
        draw.drawn_at,
        len(document["candidates"]),
        eligible,
        draw.quotas,
    )


def _may_see_committee(actor: Actor, agency_id: int) -> None:
    principal = actor.principal
    if actor.has(Role.SUPERVISOR):
        return
    if principal is not None and principal.has(Role.AGENCY_STAFF) and principal.organisation_id == agency_id:
        return
    raise Forbidden(N_("The committee is followed by the agency running the tender and by supervisors."))


async def committee(db: Database, actor: Actor, tender_id: int) -> CommitteeView:
    """The draw's rounds and the seats' states, for the tender's agency and supervisors; raises Forbidden."""
    async with db.connection() as connection:
        tender = await tenders_repo.select_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            raise NotFound(N_("There is no such tender."))
        _may_see_committee(actor, tender.agency.id)
        return await _committee(connection, tender_id, tender.committee_size)


async def _committee(connection: Connection, tender_id: int, committee_size: int) -> CommitteeView:
    draws = await repo.select_draws(connection, tender_id)
    invitations = await repo.select_invitations(connection, tender_id)
    seats: list[SeatView] = []
    if any(d.status == "drawn" for d in draws):
        for seat in range(1, committee_size + 1):
            of_seat = [i for i in invitations if i.seat == seat]
            live = next((i for i in of_seat if i.status in LIVE), None)
            specialty = of_seat[-1].specialty if of_seat else ""
            seats.append(
                SeatView(
                    seat,
                    live.specialty if live else specialty,
                    live.status if live else "open",
                    live.seconds_left if live and live.status == "pending" else None,
                )
            )
    return CommitteeView(tender_id, committee_size, [_round_view(d) for d in draws], seats)


@dataclasses.dataclass(frozen=True, slots=True)
class CandidateView:
    label: str
    expert_id: int
    name: str
    groups: tuple[str, ...]
    reasons: tuple[str, ...]
    #: ``member`` or ``reserve`` with its rank, once drawn.
    role: str | None
    rank: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class InvitationView:
    invitation: repo.Invitation
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class SupervisedRound:
    round: RoundView
    candidates: list[CandidateView]
    #: ``None`` until drawn; then the empty string when the public record replays, else the first difference.
    replay: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class SupervisedCommittee:
    committee: CommitteeView
    rounds: list[SupervisedRound]
    invitations: list[InvitationView]


async def supervised(db: Database, actor: Actor, tender_id: int) -> SupervisedCommittee:
    """Everything of a tender's draws for supervisors: candidates by name with their exclusions, picks, the replay
    of each drawn round from its public record, and every invitation with who answered when."""
    if not actor.has(Role.SUPERVISOR):
        raise Forbidden(N_("Only supervisors see the experts' names before the award."))
    async with db.connection() as connection:
        tender = await tenders_repo.select_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            raise NotFound(N_("There is no such tender."))
        view = await _committee(connection, tender_id, tender.committee_size)
        draws = await repo.select_draws(connection, tender_id)
        contributions = await repo.select_contributions(connection, [d.id for d in draws])
        names = await _names(connection, {e for d in draws for e in d.candidate_ids})
        picks = {
            (p.draw_id, p.expert_id): (p.role, p.rank)
            for p in await repo.select_picks(connection, [d.id for d in draws])
        }
        invitations = await repo.select_invitations(connection, tender_id)
        invitation_names = await _names(connection, {i.expert_id for i in invitations})
    rounds = []
    for draw, round_view in zip(draws, view.rounds, strict=True):
        document = json.loads(draw.inputs)
        reasons: dict[str, list[str]] = {}
        for item in document["exclusions"]:
            reasons.setdefault(item["label"], []).append(item["reason"])
        by_label = dict(zip(model.labels(draw.label_key, draw.candidate_ids), draw.candidate_ids, strict=True))
        candidates = []
        for candidate in document["candidates"]:
            expert_id = by_label[candidate["label"]]
            role, rank = picks.get((draw.id, expert_id), (None, None))
            candidates.append(
                CandidateView(
                    candidate["label"],
                    expert_id,
                    names.get(expert_id, ""),
                    tuple(candidate["groups"]),
                    tuple(reasons.get(candidate["label"], ())),
                    role,
                    rank,
                )
            )
        candidates.sort(key=lambda c: (c.role is None, c.role != "member", c.rank or 0, c.label))
        rounds.append(SupervisedRound(round_view, candidates, _replay(draw, contributions.get(draw.id, []))))
    return SupervisedCommittee(
        view, rounds, [InvitationView(i, invitation_names.get(i.expert_id, "")) for i in invitations]
    )


async def _names(connection: Connection, expert_ids: set[int]) -> dict[int, str]:
    rows = await connection.fetch(
        "SELECT e.id, u.display_name FROM experts e JOIN users u ON u.id = e.user_id WHERE e.id = ANY($1::bigint[])",
        list(expert_ids),
    )
    return {row["id"]: row["display_name"] for row in rows}


def _replay(draw: repo.Draw, contributions: Sequence[repo.Contribution]) -> str | None:
    if draw.status != "drawn" or draw.groups is None or draw.one_time_code is None:
        return None
    try:
        draw_record.replay_record(
            json.loads(draw.inputs),
            inputs_sha256=draw.inputs_sha256,
            commitment=draw.commitment,
            one_time_code=draw.one_time_code,
            contributions={
                c.party: (c.commitment.hex(), c.secret.hex()) for c in contributions if c.secret is not None
            },
            groups=draw.groups,
        )
    except drawing.DrawError as error:
        return str(error)
    return ""


# --- The public record -----------------------------------------------------------------------------------------


async def inputs_document(db: Database, draw_id: int) -> bytes:
    """A round's inputs document, canonical JSON, as its SHA-256 in the log says; public."""
    async with db.connection() as connection:
        draw = await repo.select_draw(connection, draw_id)
    if draw is None:
        raise NotFound(N_("There is no such draw."))
    return draw.inputs


async def public_record(db: Database, tender_id: int) -> list[dict[str, Any]]:
    """What the log holds of a tender's draws, round by round, with each entry's log index: what ``bidding draw
    verify`` replays. The same as the log's entries; nothing here is private."""
    async with db.connection() as connection:
        tender = await tenders_repo.select_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            raise NotFound(N_("There is no such tender."))
        events = await log_repo.select_subject_events(connection, f"tender:{tender_id}", limit=MAX_RECORD_EVENTS)
    rounds: dict[int, dict[str, Any]] = {}
    for stored in events:
        if not stored.action.startswith("draw."):
            continue
        details = dict(stored.details)
        entry = rounds.setdefault(details["draw"], {"draw": details["draw"], "entries": {}})
        entry["entries"][stored.action.removeprefix("draw.")] = {"details": details, "log_index": stored.log_index}
    return sorted(rounds.values(), key=lambda found: int(found["draw"]))
