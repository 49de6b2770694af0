"""Use cases of the opening hall: the opening started, the custodians' shares handed in, the bidders' answers to
their lines and the agency's to objections, where the opening stands, and who may attend.

After the deadline the agency starts the opening: the sealed bids are frozen and listed (bidder names only) in the
hall. Custodians hand in their opened shares; each is recognised by its published digest the moment it arrives. At
k shares the bids are opened (:mod:`bidding.opening.reading`). Each bidder confirms its line of the record as read
out, or objects to it; the agency answers each objection, once. Everything the hall shows is an event of its room
(:mod:`bidding.rooms`), written in the transaction of the change it reports.
"""

from __future__ import annotations

import dataclasses
import hashlib

from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.bids import repo as bids_repo
from bidding.bids.model import Bid, BidStatus, bid_id_text
from bidding.blobs import BlobStore
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.opening import access, model, reading, repo
from bidding.rooms import repo as rooms_repo
from bidding.settings import Settings
from bidding.tenders import policy
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Clock, Status, transition
from crypto import custody
from crypto.canonical import canonical_json


async def start_opening(db: Database, settings: Settings, actor: Actor, tender_id: int) -> None:
    """Start the opening after the deadline: freeze and list the sealed bids, and log the list."""
    async with db.transaction() as connection:
        tender = await access.lock_tender(connection, tender_id)
        if not policy.runs(actor, tender):
            raise Forbidden(N_("Only the agency running this tender can open it."))
        now = await bids_repo.select_clock(connection)
        transition(tender.status, "start_opening", Clock(now, tender.deadline), settings.rules_for(tender.procedure))
        if await repo.select_custody(connection, tender_id) is None:
            raise InvalidTransition(N_("This tender has no opening key: it was published without a custody ceremony."))
        await repo.insert_opening(connection, tender_id, policy.user_id(actor), now)
        await tenders_repo.set_status(connection, tender_id, Status.OPENING)
        sealed = [bid for bid in await bids_repo.select_bids(connection, tender_id) if bid.status is BidStatus.SEALED]
        listed = [reading.bid_summary(bid) for bid in sealed]
        # The hall names bidders in English for English readers; the record read out keeps the registered names.
        named = [
            {**summary, "bidder_en": bid.organisation_name_en} for summary, bid in zip(listed, sealed, strict=True)
        ]
        await rooms_repo.insert_event(connection, model.hall_room(tender_id), "bids_frozen", {"bids": named})
        # The list itself is in the hall's first message; the log keeps its digest, whatever the number of bids
        # (a list of a thousand would not fit an entry), so anyone holding the list can check it is the one frozen.
        frozen = [{"statement_sha256": b["statement_sha256"], "envelope_sha256": b["envelope_sha256"]} for b in listed]
        details = {"bids": len(frozen), "bids_sha256": hashlib.sha256(canonical_json(frozen)).hexdigest()}
        await audit_repo.insert_event(
            connection, event(actor, Role.AGENCY_STAFF, "tender.opening_started", f"tender:{tender_id}", details)
        )


async def hand_in_share(
    db: Database,
    settings: Settings,
    blobs: BlobStore,
    actor: Actor,
    tender_id: int,
    mnemonic: str,
    *,
    background: bool = False,
) -> int:
    """A custodian hands in its opened share; returns how many are in. At k, the bids are opened: before this
    returns, or with ``background`` on a task of this process (:func:`open_in_background`) while it returns.

    Raises InvalidInput for a share that is not this custodian's share of this tender (another tender's, mistyped,
    made up), InvalidTransition outside the opening.
    """
    mnemonic = " ".join(mnemonic.split()).lower()
    async with db.transaction() as connection:
        tender = await access.lock_tender(connection, tender_id)
        if tender.status is not Status.OPENING:
            raise InvalidTransition(N_("Shares are handed in during the opening, once the agency has started it."))
        shares = await repo.select_shares(connection, tender_id)
        own = next((s for s in shares if actor.principal is not None and s.user_id == actor.principal.user_id), None)
        if own is None:
            raise Forbidden(N_("You hold no share of this tender."))
        if custody.share_digest(mnemonic) != own.share_sha256:
            raise InvalidInput(
                errors={"share": N_("This is not your share of this tender: check that you opened the right file.")}
            )
        if own.share is not None:
            # Handed in before: handing it in again (after a crash, say) only nudges the opening on.
            count = sum(1 for s in shares if s.share is not None)
        else:
            count = await _record_share(connection, actor, tender_id, own, shares, mnemonic)
        custody_row = await repo.select_custody(connection, tender_id)
        assert custody_row is not None
    if count >= custody_row.threshold:
        if background:
            reading.open_in_background(db, settings, blobs, tender_id)
        else:
            await reading.continue_opening(db, settings, blobs, tender_id)
    return count


async def _record_share(
    connection: Connection, actor: Actor, tender_id: int, own: repo.Share, shares: list[repo.Share], mnemonic: str
) -> int:
    """Record a custodian's share, its event and its hall message; return how many are in now."""
    await repo.set_share_handed_in(connection, tender_id, own.user_id, mnemonic)
    count = sum(1 for s in shares if s.share is not None) + 1
    custody_row = await repo.select_custody(connection, tender_id)
    assert custody_row is not None
    details = {"member": own.member, "share_sha256": own.share_sha256.hex()}
    await audit_repo.insert_event(
        connection, event(actor, Role.CUSTODIAN, "opening.share_handed_in", f"tender:{tender_id}", details)
    )
    body = {"custodian": own.display_name, "member": own.member, "count": count, "threshold": custody_row.threshold}
    await rooms_repo.insert_event(connection, model.hall_room(tender_id), "share", body)
    return count


async def _line_of_own_bid(connection: Connection, actor: Actor, bid_id: int) -> tuple[Bid, repo.Line]:
    bid = reading.own_bid(actor, await bids_repo.select_bid(connection, bid_id))
    await access.lock_tender(connection, bid.tender_id)
    line = await repo.lock_line(connection, bid_id)
    if line is None:
        raise InvalidTransition(N_("This bid has not been read out yet."))
    if line.confirmed_at is not None or line.objection is not None:
        raise InvalidTransition(N_("You have already confirmed or objected to this line."))
    return bid, line


async def confirm_line(db: Database, actor: Actor, bid_id: int) -> None:
    """The bidder confirms its line of the record as read out."""
    async with db.transaction() as connection:
        bid, line = await _line_of_own_bid(connection, actor, bid_id)
        await repo.set_line_confirmed(connection, bid_id)
        await audit_repo.insert_event(
            connection,
            event(
                actor,
                Role.BIDDER,
                "opening.line_confirmed",
                f"tender:{bid.tender_id}",
                {"bid": bid_id_text(bid_id), "position": line.position},
            ),
        )
        body = {"bid": bid_id_text(bid_id), "position": line.position}
        await rooms_repo.insert_event(connection, model.hall_room(bid.tender_id), "confirmed", body)


def _clean(text: str, field: str) -> str:
    cleaned = " ".join(text.split())
    if not 0 < len(cleaned) <= model.MAX_OBJECTION:
        raise InvalidInput(errors={field: N_("Write 1 to %(size)d characters.", size=model.MAX_OBJECTION)})
    return cleaned


async def object_to_line(db: Database, actor: Actor, bid_id: int, text: str) -> None:
    """The bidder objects to its line (异议); the objection is recorded and must be answered by the agency."""
    objection = _clean(text, "objection")
    async with db.transaction() as connection:
        bid, line = await _line_of_own_bid(connection, actor, bid_id)
        await repo.set_line_objection(connection, bid_id, objection)
        details = {
            "bid": bid_id_text(bid_id),
            "position": line.position,
            "objection_sha256": hashlib.sha256(objection.encode()).hexdigest(),
        }
        await audit_repo.insert_event(
            connection, event(actor, Role.BIDDER, "opening.objection", f"tender:{bid.tender_id}", details)
        )
        await rooms_repo.insert_event(
            connection,
            model.hall_room(bid.tender_id),
            "objection",
            {"bid": bid_id_text(bid_id), "position": line.position, "objection": objection},
        )


async def answer_objection(db: Database, actor: Actor, bid_id: int, text: str) -> None:
    """The agency answers an objection, once; the answer is shown to everyone in the hall."""
    answer = _clean(text, "answer")
    async with db.transaction() as connection:
        bid = await bids_repo.select_bid(connection, bid_id)
        if bid is None:
            raise NotFound(N_("There is no such bid."))
        tender = await access.lock_tender(connection, bid.tender_id)
        if not policy.runs(actor, tender):
            raise Forbidden(N_("Only the agency running this tender answers objections."))
        line = await repo.lock_line(connection, bid_id)
        if line is None or line.objection is None or line.answer is not None:
            raise InvalidTransition(N_("There is no unanswered objection to this line."))
        await repo.set_line_answer(connection, bid_id, answer, policy.user_id(actor))
        details = {
            "bid": bid_id_text(bid_id),
            "position": line.position,
            "answer_sha256": hashlib.sha256(answer.encode()).hexdigest(),
        }
        await audit_repo.insert_event(
            connection,
            event(actor, Role.AGENCY_STAFF, "opening.objection_answered", f"tender:{bid.tender_id}", details),
        )
        await rooms_repo.insert_event(
            connection,
            model.hall_room(bid.tender_id),
            "answer",
            {"bid": bid_id_text(bid_id), "position": line.position, "answer": answer},
        )


@dataclasses.dataclass(frozen=True, slots=True)
class HallState:
    """Where a tender's opening stands, for the hall's status line as the page is drawn (the page follows on)."""

    phase: model.HallPhase
    shares_in: int
    threshold: int
    record_sha256: bytes | None


async def hall_state(db: Database, tender_id: int, status: Status) -> HallState:
    """The opening's phase and progress, given the tender's status as of now (public, as the hall's messages are)."""
    async with db.connection() as connection:
        opening = await repo.select_opening(connection, tender_id)
        shares = await repo.select_shares(connection, tender_id)
        tender = await access.tender(connection, tender_id)
    times = model.OpeningTimes(
        opening.started_at if opening else None,
        opening.key_rebuilt_at if opening else None,
        opening.finished_at if opening else None,
    )
    return HallState(
        model.hall_phase(status, times),
        sum(1 for share in shares if share.handed_in_at is not None),
        tender.custody_threshold,
        opening.record_sha256 if opening else None,
    )


async def may_attend(db: Database, actor: Actor, tender_id: int) -> bool:
    """Whether the actor may attend a tender's opening hall: its registered bidders, its agency's staff, its
    custodians, and supervisors."""
    principal = actor.principal
    if principal is None:
        return False
    async with db.connection() as connection:
        tender = await tenders_repo.select_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            return False
        organisation_id = policy.bidder_of(actor)
        registered = organisation_id is not None and await tenders_repo.is_registered(
            connection, tender_id, organisation_id
        )
        return policy.attends(actor, tender, registered=registered)
