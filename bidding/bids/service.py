"""Use cases of bids: resumable envelope uploads (tus), submission of the signed statement, replacement,
withdrawal and receipts.

An upload streams to the blob store without holding a database connection; each request's end is recorded in a
short transaction. A submission checks everything that can be checked before the opening (the envelope is an age
file sealed to post-quantum recipients only; the statement is signed by the organisation's registered key and
names this tender, one of its lots, the organisation, and exactly the uploaded bytes), then, in one transaction
that holds the tender's row, reads the database clock, refuses at or after the deadline, and records the bid with
its audit event. A bid is acknowledged only once that transaction has committed: a crash before leaves no bid (the
upload stays, to submit again), a crash after leaves the whole bid, its envelope and its log entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import AsyncIterable
from typing import Any

from bidding.accounts import repo as accounts_repo
from bidding.audit import repo as audit_repo
from bidding.audit.model import event
from bidding.bids import model, repo
from bidding.bids.model import BidStatus, Checksum
from bidding.blobs import BlobMismatch, BlobStore, BlobTooLarge, UploadBusy, drain
from bidding.bulletin import Wakeups
from bidding.db import Connection, Database
from bidding.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooLarge
from bidding.faults import crash_point
from bidding.i18n import N_
from bidding.identity import Actor, Role
from bidding.keys import repo as keys_repo
from bidding.log import service as log_service
from bidding.settings import Settings
from bidding.tenders import repo as tenders_repo
from bidding.tenders.model import Status, Tender, effective_status
from crypto.note import parse_verifier_key
from crypto.statement import Statement, StatementError, open_statement, parse_unverified_statement

#: Seconds a submission waits for its receipt (the sequencer publishes within about 0.2 s).
RECEIPT_WAIT = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class Bidder:
    user_id: int
    organisation_id: int


def _bidder(actor: Actor) -> Bidder:
    principal = actor.principal
    if principal is None or not principal.has(Role.BIDDER) or principal.organisation_id is None:
        raise Forbidden(N_("Only bidders can do this, for their organisation."))
    return Bidder(principal.user_id, principal.organisation_id)


async def _open_tender(connection: Connection, bidder: Bidder, tender_id: int, *, for_update: bool = False) -> Tender:
    """The tender, if it takes bids now from ``bidder`` (published, before the deadline, registered)."""
    tender = await (tenders_repo.lock_tender if for_update else tenders_repo.select_tender)(connection, tender_id)
    if tender is None or tender.published_at is None:
        raise NotFound(N_("There is no such tender."))
    if not await tenders_repo.is_registered(connection, tender_id, bidder.organisation_id):
        raise Forbidden(N_("Register your organisation for this tender before bidding."))
    now = await repo.select_clock(connection)
    if effective_status(tender.status, tender.deadline, now) is not Status.PUBLISHED:
        model.check_before_deadline(now, tender.deadline)
        raise InvalidTransition(N_("This tender does not take bids now."))
    return tender


async def envelope_limit(db: Database, tender_id: int) -> int | None:
    """The largest envelope a tender takes, in bytes; ``None`` for a tender not published (its limit is nobody's
    business yet)."""
    async with db.connection() as connection:
        tender = await tenders_repo.select_tender(connection, tender_id)
        if tender is None or tender.published_at is None:
            return None
        return await repo.select_max_envelope_size(connection, tender_id)


# --- Uploads (tus 1.0) ----------------------------------------------------------------------------------------


async def create_upload(db: Database, blobs: BlobStore, actor: Actor, tender_id: int, length: int) -> str:
    """Start an upload of ``length`` bytes for a tender; returns its id (the tus upload URL's last part).

    At :data:`~bidding.bids.model.MAX_OPEN_UPLOADS` unfinished uploads of the organisation for the tender, the
    oldest ones are terminated and their bytes dropped to make room.

    Raises Forbidden (not a registered bidder), NotFound, InvalidTransition (deadline), TooLarge (over the
    tender's limit) or InvalidTransition (no key registered: nothing could be signed).
    """
    bidder = _bidder(actor)
    async with db.transaction() as connection:
        await _open_tender(connection, bidder, tender_id)
        limit = await repo.select_max_envelope_size(connection, tender_id)
        if length > limit:
            raise TooLarge(N_("This tender takes envelopes of at most %(size)d bytes.", size=limit))
        if await keys_repo.select_current_organisation_key(connection, bidder.organisation_id) is None:
            raise InvalidTransition(N_("Register your organisation's keys before bidding."))
        open_uploads = await repo.lock_open_uploads(connection, tender_id, bidder.organisation_id)
        superseded = open_uploads[: max(0, len(open_uploads) - model.MAX_OPEN_UPLOADS + 1)]
        for old_id in superseded:
            await repo.set_upload_terminated(connection, old_id)
        upload_id = secrets.token_hex(16)
        await repo.insert_upload(connection, upload_id, tender_id, bidder.organisation_id, bidder.user_id, length)
    for old_id in superseded:
        blobs.delete_upload(old_id)
    return upload_id


async def _own_upload(
    connection: Connection, actor: Actor, upload_id: str, *, for_update: bool = False
) -> model.Upload:
    bidder = _bidder(actor)
    upload = await (repo.lock_upload if for_update else repo.select_upload)(connection, upload_id)
    # Not found rather than forbidden: upload ids of other organisations are nobody's business.
    if upload is None or upload.organisation_id != bidder.organisation_id or upload.terminated_at is not None:
        raise NotFound(N_("There is no such upload."))
    return upload


async def upload_status(db: Database, actor: Actor, upload_id: str) -> model.Upload:
    """The upload as recorded: ``received`` is the offset to resume from."""
    async with db.connection() as connection:
        return await _own_upload(connection, actor, upload_id)


async def append_upload(
    db: Database,
    blobs: BlobStore,
    actor: Actor,
    upload_id: str,
    offset: int,
    chunks: AsyncIterable[bytes],
    checksum: Checksum | None = None,
) -> int:
    """Append a request's bytes at ``offset`` and return the new offset; once whole, the upload's SHA-256 is kept.

    Refused (nothing of the request counts) when ``offset`` is not the upload's (Conflict, tus 409), past the
    deadline, past the announced length (TooLarge), or with a checksum that differs (InvalidInput, tus 460).
    """
    async with db.connection() as connection:
        upload = await _own_upload(connection, actor, upload_id)
        await _open_tender(connection, _bidder(actor), upload.tender_id)
    try:
        async with blobs.writing(upload_id) as file:
            # Read again while holding the file: a request that ended meanwhile has recorded its own end.
            async with db.connection() as connection:
                upload = await _own_upload(connection, actor, upload_id)
            if offset != upload.received:
                raise Conflict(
                    N_("The upload is at byte %(offset)d, not %(given)d.", offset=upload.received, given=offset)
                )
            received = await file.append(offset, chunks, limit=upload.length, checksum=checksum)
            sha256 = await blobs.upload_sha256(upload_id) if received == upload.length else None
            crash_point("bids.upload_written")  # bytes durable, not yet counted: the client resumes from the old offset
            async with db.transaction() as connection:
                await repo.set_upload_received(connection, upload_id, received)
                if sha256 is not None:
                    await repo.set_upload_sha256(connection, upload_id, sha256)
    except BlobTooLarge:
        await drain(chunks)
        raise TooLarge(N_("The upload was announced with %(size)d bytes.", size=upload.length)) from None
    except BlobMismatch:
        raise ChecksumMismatch() from None
    except UploadBusy:
        raise Conflict(N_("Another request is sending this upload.")) from None
    return received


class ChecksumMismatch(InvalidInput):
    """tus checksum extension: 460 Checksum Mismatch."""

    status_code = 460
    code = "checksum-mismatch"
    title = N_("The checksum of the bytes sent differs")


async def terminate_upload(db: Database, blobs: BlobStore, actor: Actor, upload_id: str) -> None:
    """Drop an upload and its bytes (tus termination); one already used by a bid is kept with the bid."""
    async with db.transaction() as connection:
        upload = await _own_upload(connection, actor, upload_id, for_update=True)
        await repo.set_upload_terminated(connection, upload_id)
    if upload.bid_id is None:
        blobs.delete_upload(upload_id)


# --- Submission -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Submitted:
    bid: model.Bid
    #: The tlog-proof of the bid's log entry, or ``None`` if not yet published (fetch it later).
    receipt: bytes | None
    #: The private record the entry commits to: with the receipt it proves the bid offline.
    record: dict[str, Any]


def _parse_statement(data: bytes) -> Statement:
    try:
        return parse_unverified_statement(data)
    except StatementError as error:
        raise InvalidInput(
            errors={"statement": N_("This is not a bid statement: %(reason)s", reason=str(error))}
        ) from None


async def submit_bid(
    db: Database,
    settings: Settings,
    blobs: BlobStore,
    actor: Actor,
    tender_id: int,
    *,
    upload_id: str,
    signed_statement: bytes,
    replaces: int | None = None,
    receipt_wait: float | None = None,
    bulletin: Wakeups = log_service.POLLING,
) -> Submitted:
    """Make a whole upload a sealed bid, announced by ``signed_statement``; with ``replaces``, instead of that bid.

    Raises InvalidInput (the envelope or the statement is not acceptable, naming why), Forbidden, NotFound,
    Conflict (a replayed statement; a sealed bid already there and not replaced) or InvalidTransition (the
    deadline). Nothing is recorded unless everything holds. The receipt is waited for ``receipt_wait`` seconds
    (default :data:`RECEIPT_WAIT`), woken by ``bulletin``; past that, the bid is returned without it, to fetch later.
    """
    bidder = _bidder(actor)
    _parse_statement(signed_statement)  # a clear error for what is no statement at all, before any work
    async with db.connection() as connection:
        upload = await _own_upload(connection, actor, upload_id)
        tender = await _open_tender(connection, bidder, tender_id)
        organisation = await accounts_repo.select_organisation(connection, bidder.organisation_id)
        key = await keys_repo.select_current_organisation_key(connection, bidder.organisation_id)
    if upload.tender_id != tender_id:
        raise InvalidInput(errors={"upload": N_("This upload was made for another tender.")})
    if upload.bid_id is not None:
        raise Conflict(N_("This upload is already a bid."))
    if upload.sha256 is None:
        raise InvalidInput(
            errors={
                "upload": N_(
                    "The upload is not finished: %(got)d of %(size)d bytes.", got=upload.received, size=upload.length
                )
            }
        )
    if key is None:
        raise InvalidTransition(N_("Register your organisation's keys before bidding."))
    assert organisation is not None and organisation.credit_code is not None
    with blobs.upload_path(upload_id).open("rb") as file:
        model.check_envelope_header(file.read(model.HEADER_READ))
    try:
        statement = open_statement(signed_statement, parse_verifier_key(key.verifier_key))
    except StatementError:
        raise InvalidInput(
            errors={"statement": N_("The statement is not signed by your organisation's registered key.")}
        ) from None
    lot = model.check_statement_fits(
        statement,
        reference=tender.reference,
        lots={lot.number for lot in tender.lots},
        credit_code=organisation.credit_code,
        upload_sha256=upload.sha256,
        upload_size=upload.received,
    )
    await blobs.adopt_upload(upload_id, upload.sha256)
    crash_point("bids.submit_stored")  # the envelope stored, no bid yet: submitting again makes it
    async with db.transaction() as connection:
        await _open_tender(connection, bidder, tender_id, for_update=True)
        submitted_at = await repo.select_clock(connection)
        if (await _own_upload(connection, actor, upload_id, for_update=True)).bid_id is not None:
            raise Conflict(N_("This upload is already a bid."))
        previous = None
        if replaces is not None:
            previous = await repo.lock_bid(connection, replaces)
            if (
                previous is None
                or previous.organisation_id != bidder.organisation_id
                or previous.tender_id != tender_id
                or previous.status is not BidStatus.SEALED
            ):
                raise NotFound(N_("There is no sealed bid of yours in this tender with the id given in “replaces”."))
            if (previous.lot, previous.slot) != (lot, statement.slot):
                raise InvalidInput(errors={"statement": N_("A replacement is for the same lot and slot.")})
        details = {
            **model.public_statement_fields(statement),
            "statement_sha256": hashlib.sha256(signed_statement).hexdigest(),
            "key": key.verifier_key,
            **({"replaces": model.bid_id_text(previous.id)} if previous else {}),
        }
        action = "bid.replaced" if previous else "bid.submitted"
        event_id = await audit_repo.insert_event(
            connection, event(actor, Role.BIDDER, action, model.receipt_subject(tender_id), details)
        )
        if previous is not None:
            # Ended first: one organisation holds one sealed bid per lot and slot (a unique index).
            await repo.end_bid(connection, previous.id, BidStatus.REPLACED, event_id=event_id)
        bid_id = await repo.insert_bid(
            connection,
            tender_id=tender_id,
            lot=lot,
            slot=statement.slot,
            organisation_id=bidder.organisation_id,
            key_id=key.id,
            statement=signed_statement,
            statement_sha256=hashlib.sha256(signed_statement).digest(),
            envelope_sha256=statement.envelope_sha256,
            envelope_size=statement.envelope_size,
            submitted_by=bidder.user_id,
            submitted_at=submitted_at,
            event_id=event_id,
        )
        if previous is not None:
            await repo.set_replaced_by(connection, previous.id, bid_id)
        await repo.set_upload_bid(connection, upload_id, bid_id)
        bid = await repo.select_bid(connection, bid_id)
    assert bid is not None
    crash_point("bids.submit_committed")  # the bid is in, its answer lost: the bidder finds it in its list
    blobs.delete_upload(upload_id)
    return await _with_receipt(
        db, settings, actor, bid, event_id, RECEIPT_WAIT if receipt_wait is None else receipt_wait, bulletin
    )


async def _with_receipt(
    db: Database,
    settings: Settings,
    actor: Actor,
    bid: model.Bid,
    event_id: int,
    wait: float | None = None,
    bulletin: Wakeups = log_service.POLLING,
) -> Submitted:
    record = await log_service.event_record(db, actor, event_id)
    try:
        receipt = await log_service.receipt(
            db, settings, actor, event_id, wait=RECEIPT_WAIT if wait is None else wait, bulletin=bulletin
        )
    except InvalidTransition:
        receipt = None
    return Submitted(bid, receipt, record)


async def withdraw_bid(
    db: Database, settings: Settings, actor: Actor, bid_id: int, *, bulletin: Wakeups = log_service.POLLING
) -> Submitted:
    """Withdraw a sealed bid before the deadline; its envelope will not be opened. Returns the withdrawal's receipt."""
    bidder = _bidder(actor)
    async with db.transaction() as connection:
        bid = await repo.select_bid(connection, bid_id)
        if bid is None or bid.organisation_id != bidder.organisation_id:
            raise NotFound(N_("There is no such bid of yours."))
        await _open_tender(connection, bidder, bid.tender_id, for_update=True)
        bid = await repo.lock_bid(connection, bid_id)
        assert bid is not None
        if bid.status is not BidStatus.SEALED:
            raise InvalidTransition(
                N_(
                    "Bid %(bid)s cannot be withdrawn: it is “%(status)s”, and only a sealed bid can be.",
                    bid=bid.reference,
                    status=model.BID_STATUS_NAMES[bid.status],
                )
            )
        details = {
            "bid": model.bid_id_text(bid.id),
            "statement_sha256": bid.statement_sha256.hex(),
            "envelope_sha256": bid.envelope_sha256.hex(),
        }
        event_id = await audit_repo.insert_event(
            connection, event(actor, Role.BIDDER, "bid.withdrawn", model.receipt_subject(bid.tender_id), details)
        )
        await repo.end_bid(connection, bid.id, BidStatus.WITHDRAWN, event_id=event_id)
        ended = await repo.select_bid(connection, bid_id)
    assert ended is not None
    return await _with_receipt(db, settings, actor, ended, event_id, bulletin=bulletin)


# --- Reading --------------------------------------------------------------------------------------------------


async def own_bids(db: Database, actor: Actor, tender_id: int | None = None) -> list[model.Bid]:
    """The bids of the actor's organisation, in one tender or all."""
    bidder = _bidder(actor)
    async with db.connection() as connection:
        if tender_id is None:
            return await repo.select_organisation_bids(connection, bidder.organisation_id)
        return await repo.select_bids(connection, tender_id, organisation_id=bidder.organisation_id)


async def own_bid(db: Database, actor: Actor, bid_id: int) -> model.Bid:
    bidder = _bidder(actor)
    async with db.connection() as connection:
        bid = await repo.select_bid(connection, bid_id)
    if bid is None or bid.organisation_id != bidder.organisation_id:
        raise NotFound(N_("There is no such bid of yours."))
    return bid


async def bid_receipt(
    db: Database,
    settings: Settings,
    actor: Actor,
    bid_id: int,
    *,
    ended: bool = False,
    bulletin: Wakeups = log_service.POLLING,
) -> bytes:
    """The receipt of a bid's submission (or, with ``ended``, of its replacement or withdrawal)."""
    bid = await own_bid(db, actor, bid_id)
    event_id = bid.ended_event_id if ended else bid.event_id
    if event_id is None:
        raise NotFound(N_("This bid has not been replaced or withdrawn."))
    return await log_service.receipt(db, settings, actor, event_id, wait=RECEIPT_WAIT, bulletin=bulletin)
