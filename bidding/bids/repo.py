"""SQL for uploads and bids: rows in, the records of :mod:`bidding.bids.model` out."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

import asyncpg

from bidding.bids.model import Bid, BidStatus, Upload
from bidding.db import Connection
from bidding.errors import Conflict
from bidding.i18n import N_

_UPLOAD_COLUMNS = "id, tender_id, organisation_id, user_id, length, received, created_at, sha256, bid_id, terminated_at"


async def insert_upload(
    connection: Connection, upload_id: str, tender_id: int, organisation_id: int, user_id: int, length: int
) -> None:
    await connection.execute(
        "INSERT INTO bid_uploads (id, tender_id, organisation_id, user_id, length) VALUES ($1, $2, $3, $4, $5)",
        upload_id,
        tender_id,
        organisation_id,
        user_id,
        length,
    )


async def lock_open_uploads(connection: Connection, tender_id: int, organisation_id: int) -> list[str]:
    """The organisation's unfinished uploads for the tender (neither submitted nor terminated), oldest first,
    under a transaction lock on that pair, so that two uploads created at once count each other."""
    await connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('bid_uploads:' || $1::bigint || ':' || $2::bigint, 0))",
        tender_id,
        organisation_id,
    )
    rows = await connection.fetch(
        """SELECT id FROM bid_uploads
           WHERE tender_id = $1 AND organisation_id = $2 AND bid_id IS NULL AND terminated_at IS NULL
           ORDER BY created_at, id""",
        tender_id,
        organisation_id,
    )
    return [row["id"] for row in rows]


async def select_upload(connection: Connection, upload_id: str) -> Upload | None:
    row = await connection.fetchrow(f"SELECT {_UPLOAD_COLUMNS} FROM bid_uploads WHERE id = $1", upload_id)
    return Upload(**dict(row)) if row else None


async def lock_upload(connection: Connection, upload_id: str) -> Upload | None:
    """An upload, locked until the transaction ends (its offset moves, or it becomes a bid)."""
    row = await connection.fetchrow(f"SELECT {_UPLOAD_COLUMNS} FROM bid_uploads WHERE id = $1 FOR UPDATE", upload_id)
    return Upload(**dict(row)) if row else None


async def set_upload_received(connection: Connection, upload_id: str, received: int) -> None:
    await connection.execute("UPDATE bid_uploads SET received = $2 WHERE id = $1", upload_id, received)


async def set_upload_sha256(connection: Connection, upload_id: str, sha256: bytes) -> None:
    await connection.execute("UPDATE bid_uploads SET sha256 = $2 WHERE id = $1", upload_id, sha256)


async def set_upload_terminated(connection: Connection, upload_id: str) -> None:
    await connection.execute("UPDATE bid_uploads SET terminated_at = now() WHERE id = $1", upload_id)


async def set_upload_bid(connection: Connection, upload_id: str, bid_id: int) -> None:
    await connection.execute("UPDATE bid_uploads SET bid_id = $2 WHERE id = $1", upload_id, bid_id)


async def select_max_envelope_size(connection: Connection, tender_id: int) -> int:
    size: int = await connection.fetchval("SELECT max_envelope_size FROM tenders WHERE id = $1", tender_id)
    return size


async def select_clock(connection: Connection) -> dt.datetime:
    """The database's clock at this statement (not the transaction's start): what decides a bid's time."""
    now: dt.datetime = await connection.fetchval("SELECT clock_timestamp()")
    return now


_BID_COLUMNS = """b.id, b.tender_id, b.lot, b.slot, b.organisation_id, o.name AS organisation_name, o.credit_code,
    b.key_id, b.statement, b.statement_sha256, b.envelope_sha256, b.envelope_size, b.submitted_by, b.submitted_at,
    b.event_id, b.status, b.replaced_by, b.ended_at, b.ended_event_id, b.outcome_reason,
    o.name_en AS organisation_name_en"""


def _bid(row: asyncpg.Record) -> Bid:
    return Bid(**{**dict(row), "status": BidStatus(row["status"])})


#: Ids drawn for one bid before giving up: out of 2^63, a second draw is already a curiosity.
BID_ID_ATTEMPTS = 5


def new_bid_id() -> int:
    """A random positive 63-bit id (the column is a signed bigint): it says nothing of how many bids there are."""
    return secrets.randbelow(2**63 - 1) + 1


async def insert_bid(
    connection: Connection,
    *,
    tender_id: int,
    lot: int,
    slot: str,
    organisation_id: int,
    key_id: int,
    statement: bytes,
    statement_sha256: bytes,
    envelope_sha256: bytes,
    envelope_size: int,
    submitted_by: int,
    submitted_at: dt.datetime,
    event_id: int,
    draw_id: Callable[[], int] = new_bid_id,
) -> int:
    """Insert a sealed bid under a fresh random id (``draw_id``), drawn again should it be taken; returns the id.

    Raises :class:`Conflict` for a statement already submitted once (a replay), or a second sealed bid.
    """
    for _ in range(BID_ID_ATTEMPTS):
        bid_id = draw_id()
        try:
            # A savepoint: a taken id undoes this insert only, not the caller's transaction.
            async with connection.transaction():
                await connection.execute(
                    """
                    INSERT INTO bids (id, tender_id, lot, slot, organisation_id, key_id, statement, statement_sha256,
                                      envelope_sha256, envelope_size, submitted_by, submitted_at, event_id, status)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'sealed')
                    """,
                    bid_id,
                    tender_id,
                    lot,
                    slot,
                    organisation_id,
                    key_id,
                    statement,
                    statement_sha256,
                    envelope_sha256,
                    envelope_size,
                    submitted_by,
                    submitted_at,
                    event_id,
                )
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name == "bids_pkey":
                continue
            if error.constraint_name == "bids_statement_sha256_key":
                raise Conflict(N_("This statement was already submitted once: seal and sign the bid anew.")) from None
            raise Conflict(
                N_("Your organisation already has a sealed bid for this lot and slot: replace it or withdraw it.")
            ) from None
        return bid_id
    raise RuntimeError(f"{BID_ID_ATTEMPTS} random bid ids in a row were taken: the id source is not random")


_BID_BY_ID = f"SELECT {_BID_COLUMNS} FROM bids b JOIN organisations o ON o.id = b.organisation_id WHERE b.id = $1"


async def select_bid(connection: Connection, bid_id: int) -> Bid | None:
    row = await connection.fetchrow(_BID_BY_ID, bid_id)
    return _bid(row) if row else None


async def lock_bid(connection: Connection, bid_id: int) -> Bid | None:
    """A bid, its row locked until the transaction ends (it is withdrawn or replaced)."""
    row = await connection.fetchrow(_BID_BY_ID + " FOR UPDATE OF b", bid_id)
    return _bid(row) if row else None


async def select_bids(connection: Connection, tender_id: int, *, organisation_id: int | None = None) -> list[Bid]:
    """Every bid of a tender (or of one organisation in it), in the order submitted (the order of the opening)."""
    rows = await connection.fetch(
        f"""
        SELECT {_BID_COLUMNS} FROM bids b JOIN organisations o ON o.id = b.organisation_id
        WHERE b.tender_id = $1 AND ($2::bigint IS NULL OR b.organisation_id = $2)
        ORDER BY b.submitted_at, b.event_id
        """,
        tender_id,
        organisation_id,
    )
    return [_bid(row) for row in rows]


async def select_organisation_bids(connection: Connection, organisation_id: int) -> list[Bid]:
    """An organisation's bids, newest first."""
    rows = await connection.fetch(
        f"""SELECT {_BID_COLUMNS} FROM bids b JOIN organisations o ON o.id = b.organisation_id
            WHERE b.organisation_id = $1 ORDER BY b.submitted_at DESC, b.event_id DESC""",
        organisation_id,
    )
    return [_bid(row) for row in rows]


async def end_bid(
    connection: Connection,
    bid_id: int,
    status: BidStatus,
    *,
    event_id: int | None,
    reason: str | None = None,
) -> None:
    await connection.execute(
        """UPDATE bids SET status = $2, ended_at = clock_timestamp(), ended_event_id = $3, outcome_reason = $4
           WHERE id = $1""",
        bid_id,
        status,
        event_id,
        reason,
    )


async def set_replaced_by(connection: Connection, bid_id: int, replacement_id: int) -> None:
    await connection.execute("UPDATE bids SET replaced_by = $2 WHERE id = $1", bid_id, replacement_id)


async def backdate_bids(connection: Connection, tender_id: int, by: dt.timedelta) -> None:
    """Move the moments a tender's bids were submitted and ended ``by`` into the past (the demo's, with
    :func:`bidding.tenders.repo.backdate_tender`)."""
    await connection.execute(
        """UPDATE bids SET submitted_at = submitted_at - $2::interval, ended_at = ended_at - $2::interval
           WHERE tender_id = $1""",
        tender_id,
        by,
    )
