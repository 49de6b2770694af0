"""Use cases of the opening (the custody ceremony that precedes it is :mod:`bidding.opening.ceremony`).

After the deadline the agency starts the opening: the sealed bids are frozen and listed (bidder names
only) in the hall. Custodians hand in their opened shares; each is recognised by its published digest the moment it
arrives. At k shares the platform rebuilds the key, refuses it unless it is the published recipient, and opens
every bid: each envelope is decrypted streaming, its manifest's signature and every document's hash checked, and
its line read out to the hall. A bid is opened in its own transaction, so a crash loses nothing and the opening
resumes with the bids still unread. If the custodians cannot reach k, each bidder may hand in its own file key
instead, unwrapped with its own key file from its envelope's header (which it may fetch here). When every bid has
its line, the record is signed and logged, and the tender is opened.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import logging
import multiprocessing
import os
from decimal import Decimal
from typing import Any

from bidding.audit import repo as audit_repo
from bidding.audit.log import load_log_key
from bidding.audit.model import event, log_time
from bidding.bids import repo as bids_repo
from bidding.bids.model import HEADER_READ, BidStatus, bid_id_text
from bidding.blobs import BlobStore, blob_store
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.faults import crash_point
from bidding.i18n import N_
from bidding.identity import PLATFORM, Actor, Role
from bidding.keys import repo as keys_repo
from bidding.opendata import service as opendata
from bidding.opendata.model import OpenedBid
from bidding.opening import access, model, repo
from bidding.settings import Settings
from bidding.tenders import policy
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Clock, Party, Status, transition
from crypto import age, custody, envelope
from crypto.age.header import header_length
from crypto.canonical import canonical_json
from crypto.note import parse_verifier_key
from crypto.statement import Manifest, StatementError, parse_unverified_statement

logger = logging.getLogger(__name__)

#: Most bids being opened at the same time (by :data:`OPENING_PROCESSES` processes): a few more than there are
#: processes, so that none waits while the server hands out the next.
OPENING_CONCURRENCY = 4
#: Processes opening bids, per server process: one per core, up to 4 (each server process has its own, kept once
#: started, about 45 MB each when idle).
OPENING_PROCESSES = min(os.cpu_count() or 1, 4)
#: Most lines of the record read out in one transaction.
LINES_PER_TRANSACTION = 64


# --- Opening --------------------------------------------------------------------------------------------------


def _bid_summary(bid: bids_repo.Bid) -> dict[str, Any]:
    return {
        "bid": bid_id_text(bid.id),
        "bidder": bid.organisation_name,
        "credit_code": bid.credit_code,
        "lot": bid.lot,
        "slot": bid.slot,
        "envelope_sha256": bid.envelope_sha256.hex(),
        "statement_sha256": bid.statement_sha256.hex(),
    }


async def start_opening(db: Database, settings: Settings, actor: Actor, tender_id: int) -> None:
    """Start the opening after the deadline: freeze and list the sealed bids, and log the list."""
    async with db.transaction() as connection:
        tender = await access.tender(connection, tender_id, for_update=True)
        if not policy.runs(actor, tender):
            raise Forbidden(N_("Only the agency running this tender can open it."))
        now = await bids_repo.select_clock(connection)
        transition(tender.status, "start_opening", Clock(now, tender.deadline), settings.rules_for(tender.procedure))
        if await repo.select_custody(connection, tender_id) is None:
            raise InvalidTransition(N_("This tender has no opening key: it was published without a custody ceremony."))
        await repo.insert_opening(connection, tender_id, policy.user_id(actor), now)
        await tenders_repo.set_status(connection, tender_id, Status.OPENING)
        sealed = [bid for bid in await bids_repo.select_bids(connection, tender_id) if bid.status is BidStatus.SEALED]
        listed = [_bid_summary(bid) for bid in sealed]
        # The hall names bidders in English for English readers; the record read out keeps the registered names.
        named = [
            {**summary, "bidder_en": bid.organisation_name_en} for summary, bid in zip(listed, sealed, strict=True)
        ]
        await repo.insert_message(connection, tender_id, "bids_frozen", {"bids": named})
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
        tender = await access.tender(connection, tender_id, for_update=True)
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
            open_in_background(db, settings, blobs, tender_id)
        else:
            await continue_opening(db, settings, blobs, tender_id)
    return count


#: Openings this process carries on in the background, by tender (see :func:`open_in_background`).
_OPENINGS: dict[int, asyncio.Task[bool]] = {}


def open_in_background(db: Database, settings: Settings, blobs: BlobStore, tender_id: int) -> None:
    """Carry on a tender's opening on a task of its own, so that the k-th share's answer need not wait for every
    bid to be read (the hall shows each line as it is read). One such task per tender in this process; should the
    process stop meanwhile, the opening carries on when one starts (:func:`resume_openings`)."""
    running = _OPENINGS.get(tender_id)
    if running is not None and not running.done():
        return
    task = asyncio.create_task(continue_opening(db, settings, blobs, tender_id))
    _OPENINGS[tender_id] = task

    def ended(task: asyncio.Task[bool]) -> None:
        if _OPENINGS.get(tender_id) is task:
            del _OPENINGS[tender_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("tender %d: the opening stopped; it resumes at the next start", tender_id, exc_info=error)

    task.add_done_callback(ended)


async def stop_background_openings() -> None:
    """Stop the openings carried on in the background, as the process stops (they resume at the next start)."""
    tasks = list(_OPENINGS.values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


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
    await repo.insert_message(connection, tender_id, "share", body)
    return count


async def _opening_identity(connection: Connection, tender_id: int) -> age.HybridIdentity | None:
    """The opening key rebuilt from the shares handed in, if there are k of them."""
    custody_row = await repo.select_custody(connection, tender_id)
    assert custody_row is not None
    handed_in = [s.share for s in await repo.select_shares(connection, tender_id) if s.share is not None]
    if len(handed_in) < custody_row.threshold:
        return None
    recipient = age.parse_recipient(custody_row.recipient)
    assert isinstance(recipient, age.HybridRecipient)
    try:
        return custody.combine_shares(handed_in, recipient)
    except custody.CustodyError:
        logger.exception("tender %d: the shares handed in do not rebuild the published recipient", tender_id)
        return None


#: Processes opening bids for this process, started at its first opening (see :func:`_openers`).
_OPENERS: concurrent.futures.ProcessPoolExecutor | None = None


def _openers() -> concurrent.futures.ProcessPoolExecutor:
    """The processes that open bids, one per core: decrypting, reading the ZIP and hashing hold Python's lock much
    of the time, so on threads they would use one core and slow the server's event loop. They are started fresh
    (``spawn``): this process runs threads, which a forked copy would not have."""
    global _OPENERS  # noqa: PLW0603  # one pool per process, made when first needed
    if _OPENERS is None:
        _OPENERS = concurrent.futures.ProcessPoolExecutor(
            max_workers=OPENING_PROCESSES, mp_context=multiprocessing.get_context("spawn")
        )
        atexit.register(stop_openers)  # while the interpreter is whole, rather than as it is taken apart
    return _OPENERS


def stop_openers() -> None:
    """Stop the processes that open bids, if any were started (they are started again when needed)."""
    global _OPENERS  # noqa: PLW0603  # see _openers
    if _OPENERS is not None:
        _OPENERS.shutdown(wait=False, cancel_futures=True)
    _OPENERS = None


def _forget_openers() -> None:
    """A forked process has none of its parent's threads or pipes: it starts processes of its own when it needs
    them (``make run`` opens the demo's bids before the server forks its workers)."""
    global _OPENERS  # noqa: PLW0603  # see _openers
    _OPENERS = None


os.register_at_fork(after_in_child=_forget_openers)


def _open_one(
    blobs: BlobStore,
    bid: bids_repo.Bid,
    verifier_key: str,
    identities: list[age.AnyIdentity],
    file_key: bytes | None,
) -> Manifest:
    """Decrypt and check one envelope (in an opening process, or on a worker thread); returns the manifest or raises.

    Raises ``KeyError`` when the envelope is missing from storage.
    """
    statement = parse_unverified_statement(bid.statement)
    with (
        blobs.open(bid.envelope_sha256.hex()) as source,
        envelope.open_envelope(
            source, statement, parse_verifier_key(verifier_key), identities, file_key=file_key
        ) as opened,
    ):
        return opened.manifest


async def _read_bid(
    blobs: BlobStore, bid: bids_repo.Bid, verifier_key: str, identities: list[age.AnyIdentity], file_key: bytes | None
) -> dict[str, Any]:
    """A bid's line: opened with its price sheet, or revoked or withdrawn with the reason (art. 31)."""
    summary = _bid_summary(bid)
    try:
        manifest = await asyncio.get_running_loop().run_in_executor(
            _openers(), _open_one, blobs, bid, verifier_key, identities, file_key
        )
    except KeyError:
        logger.error("bid %d: its envelope %s is missing from storage", bid.id, bid.envelope_sha256.hex())
        return model.failed_line(summary, bidders_fault=False, reason="the envelope could not be read from storage")
    except age.NoIdentityMatch:
        return model.failed_line(
            summary, bidders_fault=True, reason="the envelope was not sealed to this tender's opening key"
        )
    except (age.AgeError, envelope.EnvelopeError, StatementError) as error:
        return model.failed_line(
            summary, bidders_fault=True, reason=f"the envelope does not open into a valid bid: {error}"
        )
    return model.opened_line(summary, manifest)


async def _record_lines(db: Database, actor: Actor, read: list[tuple[bids_repo.Bid, dict[str, Any]]]) -> None:
    """Read out lines of the record, in order, in one transaction (each with its event and hall message)."""
    async with db.transaction() as connection:
        await access.tender(connection, read[0][0].tender_id, for_update=True)
        for bid, line in read:
            if await repo.select_line(connection, bid.id) is not None:
                continue  # read already (by another process resuming the same opening)
            position = await repo.insert_line(connection, bid.tender_id, bid.id, line)
            status = {model.OPENED: BidStatus.OPENED, model.REVOKED: BidStatus.REVOKED}.get(
                line["outcome"], BidStatus.WITHDRAWN
            )
            details = {**line, "position": position}
            event_id = await audit_repo.insert_event(
                connection, event(actor, "platform", f"bid.{line['outcome']}", f"tender:{bid.tender_id}", details)
            )
            await bids_repo.end_bid(connection, bid.id, status, event_id=event_id, reason=line.get("reason"))
            await repo.insert_message(connection, bid.tender_id, "line", details)


async def _record_line(db: Database, actor: Actor, bid: bids_repo.Bid, line: dict[str, Any]) -> None:
    await _record_lines(db, actor, [(bid, line)])


async def continue_opening(db: Database, settings: Settings, blobs: BlobStore, tender_id: int) -> bool:
    """Open every bid not yet read, if the key can be rebuilt; then finish. Returns whether the opening finished.

    Safe to call again at any time (after a crash, from another process): bids already read are skipped.
    """
    async with db.transaction() as connection:
        tender = await access.tender(connection, tender_id, for_update=True)
        if tender.status is not Status.OPENING:
            return tender.status is Status.OPENED
        identity = await _opening_identity(connection, tender_id)
        if identity is None:
            return False
        opening = await repo.select_opening(connection, tender_id)
        assert opening is not None
        if opening.key_rebuilt_at is None:
            await repo.set_key_rebuilt(connection, tender_id)
            await repo.insert_message(connection, tender_id, "key_rebuilt", {})
            await audit_repo.insert_event(
                connection,
                event(
                    PLATFORM,
                    "platform",
                    "opening.key_rebuilt",
                    f"tender:{tender_id}",
                    {"recipient": identity.recipient.encode()},
                ),
            )
        pending = [b for b in await bids_repo.select_bids(connection, tender_id) if b.status is BidStatus.SEALED]
        verifier_keys = {}
        for bid in pending:
            key = await keys_repo.select_key(connection, bid.key_id)
            assert key is not None
            verifier_keys[bid.id] = key.verifier_key
    semaphore = asyncio.Semaphore(OPENING_CONCURRENCY)

    async def read(bid: bids_repo.Bid) -> tuple[bids_repo.Bid, dict[str, Any]]:
        async with semaphore:
            return bid, await _read_bid(blobs, bid, verifier_keys[bid.id], [identity], None)

    # Lines are read out in the order of submission, as soon as they and those before them are read: whatever is
    # ready is recorded together (up to LINES_PER_TRANSACTION), so a thousand bids are not a thousand commits.
    reads = [asyncio.ensure_future(read(bid)) for bid in pending]
    position = 0
    while position < len(reads):
        batch = [await reads[position]]
        position += 1
        while position < len(reads) and reads[position].done() and len(batch) < LINES_PER_TRANSACTION:
            batch.append(reads[position].result())
            position += 1
        await _record_lines(db, PLATFORM, batch)
        crash_point("opening.line_recorded")  # some lines read out, the rest not: a restart reads on
    return await _finish(db, settings, PLATFORM, tender_id)


async def _finish(db: Database, settings: Settings, actor: Actor, tender_id: int, *, force: bool = False) -> bool:
    """Sign and log the record once every bid has a line (with ``force``, the unread are withdrawn first)."""
    async with db.connection() as connection:
        unread = [b for b in await bids_repo.select_bids(connection, tender_id) if b.status is BidStatus.SEALED]
    if unread and not force:
        return False
    for bid in unread:
        reason = "neither the custodians' shares nor the bidder's file key were handed in"
        await _record_line(db, PLATFORM, bid, model.failed_line(_bid_summary(bid), bidders_fault=False, reason=reason))
    async with db.transaction() as connection:
        tender = await access.tender(connection, tender_id, for_update=True)
        if tender.status is not Status.OPENING:
            return tender.status is Status.OPENED
        lines = await repo.select_lines(connection, tender_id)
        now = await bids_repo.select_clock(connection)
        record = model.opening_record(
            tender.reference, log_time(now), [dict(line.line, position=line.position) for line in lines]
        )
        signature = model.sign_record(record, load_log_key(settings).signer)
        digest = hashlib.sha256(record).digest()
        await repo.set_opening_finished(connection, tender_id, record, signature, digest)
        await tenders_repo.set_status(connection, tender_id, Status.OPENED)
        bids = {bid.id: bid for bid in await bids_repo.select_bids(connection, tender_id)}
        opened = [
            OpenedBid(
                line.bid_id,
                bids[line.bid_id].submitted_at,
                Party(
                    bids[line.bid_id].organisation_id,
                    bids[line.bid_id].organisation_name,
                    None,
                    bids[line.bid_id].credit_code,
                ),
                bids[line.bid_id].lot,
                line.line["outcome"],
                Decimal(line.line["total"]) if line.line.get("total") else None,
                line.line.get("currency"),
            )
            for line in lines
        ]
        reloaded = await access.tender(connection, tender_id)
        await opendata.record_release(connection, settings, reloaded, "tenderUpdate", now, opened)
        await audit_repo.insert_event(
            connection,
            event(
                actor,
                Role.AGENCY_STAFF if actor.principal else "platform",
                "tender.opened",
                f"tender:{tender_id}",
                {"record_sha256": digest.hex(), "lines": len(lines)},
            ),
        )
        await repo.insert_message(connection, tender_id, "record", {"record_sha256": digest.hex(), "lines": len(lines)})
    return True


async def finish_opening(db: Database, settings: Settings, actor: Actor, tender_id: int) -> None:
    """The agency closes the opening when the custodians cannot reach k: bids still unread are withdrawn."""
    async with db.connection() as connection:
        tender = await access.tender(connection, tender_id)
    if not policy.runs(actor, tender):
        raise Forbidden(N_("Only the agency running this tender can close its opening."))
    if tender.status is not Status.OPENING:
        raise InvalidTransition(N_("This tender is not being opened."))
    await _finish(db, settings, actor, tender_id, force=True)


def _own_bid(actor: Actor, bid: bids_repo.Bid | None) -> bids_repo.Bid:
    """``bid``, if it is one of the bidder's organisation; else NotFound, the same whether it exists or not."""
    principal = actor.principal
    if (
        bid is None
        or principal is None
        or not principal.has(Role.BIDDER)
        or bid.organisation_id != principal.organisation_id
    ):
        raise NotFound(N_("There is no such bid of yours."))
    return bid


def _read_envelope_header(blobs: BlobStore, bid: bids_repo.Bid) -> bytes | None:
    """The age header at the start of a stored envelope (on a worker thread), or ``None`` if none ends within
    :data:`HEADER_READ` bytes; raises ``KeyError`` when the envelope is missing from storage.

    64 KiB is plenty and the most there can be: an envelope was accepted only if ``check_envelope_header`` found
    its whole header, with at most ``MAX_STANZAS`` (8) post-quantum stanzas of about 1.5 KiB each, within that
    many bytes. Reading no further bounds what a request costs, whatever the envelope's size (up to 1 GB).
    """
    start = bytearray()
    with blobs.open(bid.envelope_sha256.hex()) as source:
        while len(start) < HEADER_READ and (chunk := source.read(HEADER_READ - len(start))):
            start += chunk
            if (length := header_length(start)) is not None:
                return bytes(start[:length])
    return None


async def own_envelope_header(db: Database, blobs: BlobStore, actor: Actor, bid_id: int) -> bytes:
    """The age header of a bidder's own envelope: its stanzas and MAC line, from which the bidder's key file
    unwraps the file key to hand in (the fallback). Raises NotFound unless the bid is the bidder's organisation's.

    The header holds no secret the bidder lacks: it was in the envelope the bidder sealed, and its stanzas open
    only with the tender's opening key or the bidder's own.
    """
    async with db.connection() as connection:
        bid = _own_bid(actor, await bids_repo.select_bid(connection, bid_id))
    try:
        header = await asyncio.to_thread(_read_envelope_header, blobs, bid)
    except KeyError:
        header = None
    if header is None:
        logger.error("bid %d: the header of its envelope %s cannot be read", bid.id, bid.envelope_sha256.hex())
        raise NotFound(N_("The envelope of this bid cannot be read from storage."))
    return header


async def hand_in_file_key(
    db: Database, settings: Settings, blobs: BlobStore, actor: Actor, bid_id: int, file_key: bytes
) -> dict[str, Any]:
    """The fallback: a bidder hands in its envelope's 16-byte file key, and only that bid is opened with it."""
    async with db.connection() as connection:
        bid = _own_bid(actor, await bids_repo.select_bid(connection, bid_id))
        tender = await access.tender(connection, bid.tender_id)
        key = await keys_repo.select_key(connection, bid.key_id)
    if tender.status is not Status.OPENING or bid.status is not BidStatus.SEALED:
        raise InvalidTransition(N_("A file key is handed in during the opening, for a bid not yet read."))
    if len(file_key) != 16:
        raise InvalidInput(errors={"file_key": N_("A file key has 16 bytes.")})
    assert key is not None
    line = await _read_bid(blobs, bid, key.verifier_key, [], file_key)
    if line["outcome"] != model.OPENED:
        raise InvalidInput(
            errors={"file_key": N_("This file key does not open the bid: %(reason)s", reason=line["reason"])}
        )
    await _record_line(db, actor, bid, line)
    await _finish(db, settings, actor, bid.tender_id)
    return line


# --- Answers to the record ------------------------------------------------------------------------------------


async def _line_of_own_bid(connection: Connection, actor: Actor, bid_id: int) -> tuple[bids_repo.Bid, repo.Line]:
    bid = _own_bid(actor, await bids_repo.select_bid(connection, bid_id))
    await access.tender(connection, bid.tender_id, for_update=True)
    line = await repo.select_line(connection, bid_id, for_update=True)
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
        await repo.insert_message(connection, bid.tender_id, "confirmed", body)


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
        await repo.insert_message(
            connection,
            bid.tender_id,
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
        tender = await access.tender(connection, bid.tender_id, for_update=True)
        if not policy.runs(actor, tender):
            raise Forbidden(N_("Only the agency running this tender answers objections."))
        line = await repo.select_line(connection, bid_id, for_update=True)
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
        await repo.insert_message(
            connection,
            bid.tender_id,
            "answer",
            {"bid": bid_id_text(bid_id), "position": line.position, "answer": answer},
        )


async def opening_record(db: Database, tender_id: int) -> tuple[bytes, bytes]:
    """The signed opening record and its signature, once the opening has finished (public, as the notice is)."""
    async with db.connection() as connection:
        opening = await repo.select_opening(connection, tender_id)
    if opening is None or opening.record is None or opening.record_signature is None:
        raise NotFound(N_("This tender has no opening record yet."))
    return opening.record, opening.record_signature


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


@dataclasses.dataclass(frozen=True, slots=True)
class PublishedRecord:
    """A tender's signed opening record as its notice shows it to everyone."""

    finished_at: dt.datetime
    lines: list[model.RecordLine]
    #: Hex SHA-256 of the record's bytes, as the log and the hall give it.
    sha256: str


async def published_record(db: Database, tender_id: int) -> PublishedRecord | None:
    """The opening record read out, once it is signed (public, as :func:`opening_record` is); else ``None``."""
    async with db.connection() as connection:
        opening = await repo.select_opening(connection, tender_id)
    if opening is None or opening.record is None or opening.finished_at is None:
        return None
    return PublishedRecord(
        opening.finished_at, model.record_lines(opening.record), hashlib.sha256(opening.record).hexdigest()
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


async def resume_openings(db: Database, settings: Settings) -> None:
    """Carry on every opening whose key was rebuilt but whose record is not signed: what a crash interrupted.

    Run by each process at start; openings are idempotent (a bid read already is skipped), so two processes
    resuming the same opening together only share the work.
    """
    async with db.connection() as connection:
        unfinished = await repo.select_unfinished_openings(connection)
    blobs = blob_store(settings)
    for tender_id in unfinished:
        try:
            await continue_opening(db, settings, blobs, tender_id)
        except Exception:
            logger.exception("tender %d: the opening could not be resumed", tender_id)


# --- Reading opened bids --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class OpenedDocument:
    name: str
    size: int
    sha256: bytes


async def _opened_bid(db: Database, actor: Actor, bid_id: int) -> tuple[bids_repo.Bid, str, age.HybridIdentity]:
    """An opened bid, its verifier key and the rebuilt opening key, for those who may read opened bids.

    Supervisors may, once a bid is opened; the evaluation committee will, once drawn. Nobody reads a bid before
    its opening: the key does not exist on the platform until k custodians have handed in their shares.
    """
    if not actor.has(Role.SUPERVISOR):
        raise NotFound(N_("There is no such bid, or it is not yours to read."))
    async with db.connection() as connection:
        bid = await bids_repo.select_bid(connection, bid_id)
        if bid is None or bid.status is not BidStatus.OPENED:
            raise NotFound(N_("There is no such bid, or it is not yours to read."))
        identity = await _opening_identity(connection, bid.tender_id)
        key = await keys_repo.select_key(connection, bid.key_id)
    if identity is None or key is None:
        raise InvalidTransition(N_("This bid was opened with its bidder's file key; it cannot be read again here."))
    return bid, key.verifier_key, identity


async def opened_documents(db: Database, blobs: BlobStore, actor: Actor, bid_id: int) -> list[OpenedDocument]:
    """The documents an opened bid's manifest lists (decrypting the envelope again, on a worker thread)."""
    bid, verifier_key, identity = await _opened_bid(db, actor, bid_id)
    manifest = await asyncio.to_thread(_open_one, blobs, bid, verifier_key, [identity], None)
    return [OpenedDocument(d.name, d.size, d.sha256) for d in manifest.documents]


async def extract_document(db: Database, blobs: BlobStore, actor: Actor, bid_id: int, name: str, target: Any) -> int:
    """Decrypt an opened bid and copy one of its documents into ``target`` (a binary file); returns its size.

    The envelope is checked whole again (signature, every hash) before a byte is copied. Raises NotFound for a
    name the manifest does not list.
    """
    bid, verifier_key, identity = await _opened_bid(db, actor, bid_id)

    def extract() -> int:
        statement = parse_unverified_statement(bid.statement)
        with (
            blobs.open(bid.envelope_sha256.hex()) as source,
            envelope.open_envelope(source, statement, parse_verifier_key(verifier_key), [identity]) as opened,
        ):
            if name not in {d.name for d in opened.manifest.documents}:
                raise KeyError(name)
            copied = 0
            with opened.open_document(name) as document:
                while chunk := document.read(envelope.COPY_SIZE):
                    target.write(chunk)
                    copied += len(chunk)
            return copied

    try:
        return await asyncio.to_thread(extract)
    except KeyError:
        raise NotFound(N_("This bid has no document of that name.")) from None
