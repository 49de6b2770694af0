"""Reading the bids out: each envelope decrypted and checked, its line of the record read out, the record signed.

At k shares the platform rebuilds the key, refuses it unless it is the published recipient, and opens every bid:
each envelope is decrypted streaming (in the processes of :mod:`bidding.workers`), its manifest's signature and
every document's hash checked, and its line read out to the hall. A bid is opened in its own transaction, so a
crash loses nothing and the opening resumes with the bids still unread. If the custodians cannot reach k, each
bidder may hand in its own file key instead, unwrapped with its own key file from its envelope's header (which it
may fetch here). When every bid has its line, the record is signed and logged, and the tender is opened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
from decimal import Decimal
from typing import Any

from bidding import workers
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.bids import repo as bids_repo
from bidding.bids.model import HEADER_READ, Bid, BidStatus, bid_id_text
from bidding.blobs import BlobStore, blob_store
from bidding.db import Connection, Database
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.faults import crash_point
from bidding.i18n import N_
from bidding.identity import PLATFORM, Actor, Role
from bidding.keys import repo as keys_repo
from bidding.log.model import log_time
from bidding.log.tree import load_log_key
from bidding.opendata import service as opendata
from bidding.opendata.model import OpenedBid
from bidding.opening import access, model, repo
from bidding.rooms import repo as rooms_repo
from bidding.settings import Settings
from bidding.tenders import policy
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Party, Status
from crypto import age, custody, envelope
from crypto.age.header import header_length
from crypto.note import parse_verifier_key
from crypto.statement import Manifest, StatementError, parse_unverified_statement

logger = logging.getLogger(__name__)

#: Most bids being opened at the same time (by :data:`bidding.workers.OPENING_PROCESSES` processes): a few more
#: than there are processes, so that none waits while the server hands out the next.
OPENING_CONCURRENCY = 4
#: Most lines of the record read out in one transaction.
LINES_PER_TRANSACTION = 64


def bid_summary(bid: Bid) -> dict[str, Any]:
    return {
        "bid": bid_id_text(bid.id),
        "bidder": bid.organisation_name,
        "credit_code": bid.credit_code,
        "lot": bid.lot,
        "slot": bid.slot,
        "envelope_sha256": bid.envelope_sha256.hex(),
        "statement_sha256": bid.statement_sha256.hex(),
    }


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


async def opening_identity(connection: Connection, tender_id: int) -> age.HybridIdentity | None:
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


def open_bid(
    blobs: BlobStore,
    bid: Bid,
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
    blobs: BlobStore, bid: Bid, verifier_key: str, identities: list[age.AnyIdentity], file_key: bytes | None
) -> dict[str, Any]:
    """A bid's line: opened with its price sheet, or revoked or withdrawn with the reason (art. 31)."""
    summary = bid_summary(bid)
    try:
        manifest = await asyncio.get_running_loop().run_in_executor(
            workers.current().openers, open_bid, blobs, bid, verifier_key, identities, file_key
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


async def _record_lines(db: Database, actor: Actor, read: list[tuple[Bid, dict[str, Any]]]) -> None:
    """Read out lines of the record, in order, in one transaction (each with its event and hall message)."""
    async with db.transaction() as connection:
        await access.lock_tender(connection, read[0][0].tender_id)
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
            await rooms_repo.insert_event(connection, model.hall_room(bid.tender_id), "line", details)


async def _record_line(db: Database, actor: Actor, bid: Bid, line: dict[str, Any]) -> None:
    await _record_lines(db, actor, [(bid, line)])


async def continue_opening(db: Database, settings: Settings, blobs: BlobStore, tender_id: int) -> bool:
    """Open every bid not yet read, if the key can be rebuilt; then finish. Returns whether the opening finished.

    Safe to call again at any time (after a crash, from another process): bids already read are skipped.
    """
    async with db.transaction() as connection:
        tender = await access.lock_tender(connection, tender_id)
        if tender.status is not Status.OPENING:
            return tender.status is Status.OPENED
        identity = await opening_identity(connection, tender_id)
        if identity is None:
            return False
        opening = await repo.select_opening(connection, tender_id)
        assert opening is not None
        if opening.key_rebuilt_at is None:
            await repo.set_key_rebuilt(connection, tender_id)
            await rooms_repo.insert_event(connection, model.hall_room(tender_id), "key_rebuilt", {})
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

    async def read(bid: Bid) -> tuple[Bid, dict[str, Any]]:
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
        await _record_line(db, PLATFORM, bid, model.failed_line(bid_summary(bid), bidders_fault=False, reason=reason))
    async with db.transaction() as connection:
        tender = await access.lock_tender(connection, tender_id)
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
        await rooms_repo.insert_event(
            connection, model.hall_room(tender_id), "record", {"record_sha256": digest.hex(), "lines": len(lines)}
        )
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


def own_bid(actor: Actor, bid: Bid | None) -> Bid:
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


def _read_envelope_header(blobs: BlobStore, bid: Bid) -> bytes | None:
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
        bid = own_bid(actor, await bids_repo.select_bid(connection, bid_id))
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
        bid = own_bid(actor, await bids_repo.select_bid(connection, bid_id))
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


async def opening_record(db: Database, tender_id: int) -> tuple[bytes, bytes]:
    """The signed opening record and its signature, once the opening has finished (public, as the notice is)."""
    async with db.connection() as connection:
        opening = await repo.select_opening(connection, tender_id)
    if opening is None or opening.record is None or opening.record_signature is None:
        raise NotFound(N_("This tender has no opening record yet."))
    return opening.record, opening.record_signature


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
