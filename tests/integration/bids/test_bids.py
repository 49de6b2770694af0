"""Sealed bids on a real PostgreSQL: uploads, submission, replacement, withdrawal, receipts, and every refusal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bidding.bids import repo as bids_repo
from bidding.bids import service as bids
from bidding.bids.model import BidStatus, Checksum
from bidding.errors import BiddingError, Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, TooLarge
from bidding.keys import service as keys
from bidding.keys.model import Purpose
from bidding.log import tree
from bidding.log.model import commitment
from bidding.tenders import questions as tenders_questions
from crypto import age, merkle
from crypto.note import parse_verifier_key, verify_log_proof
from tests.integration.bids.conftest import Bidding, key_file
from tests.integration.tenders.conftest import chunks_of


@pytest.fixture(autouse=True)
def _no_receipt_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """No sequencer runs inside a test's transaction: receipts are fetched after sequencing by hand."""
    monkeypatch.setattr(bids, "RECEIPT_WAIT", 0)


async def _bid_rows(connection: asyncpg.Connection) -> list[tuple[int, str]]:
    """Every bid's id and status, in the order submitted (ids are random: they give no order)."""
    rows = await connection.fetch("SELECT id, status FROM bids ORDER BY submitted_at, event_id")
    return [(row["id"], row["status"]) for row in rows]


async def test_bidders_submit_replace_and_withdraw_each_with_a_receipt_that_verifies(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    submitted = [await bidding.submit(i, *bidding.seal(i, f"{1000 + i}.00")) for i in range(3)]
    assert [s.bid.status for s in submitted] == [BidStatus.SEALED] * 3
    replacement = await bidding.submit(0, *bidding.seal(0, "900.00"), replaces=submitted[0].bid.id)
    withdrawn = await bids.withdraw_bid(bidding.db, bidding.cast.settings, bidding.cast.bidders[1], submitted[1].bid.id)
    assert withdrawn.bid.status is BidStatus.WITHDRAWN
    rows = await _bid_rows(connection)
    assert [status for _, status in rows] == ["replaced", "withdrawn", "sealed", "sealed"]
    replaced_by = await connection.fetchval("SELECT replaced_by FROM bids WHERE id = $1", submitted[0].bid.id)
    assert replaced_by == replacement.bid.id

    key = tree.load_log_key(bidding.cast.settings)
    assert await tree.sequence(connection, key) is not None
    verifier = parse_verifier_key(key.verifier_key)
    for index, bid_id, ended in (
        (0, submitted[0].bid.id, False),
        (0, replacement.bid.id, False),
        (1, submitted[1].bid.id, True),
    ):
        receipt = await bids.bid_receipt(
            bidding.db, bidding.cast.settings, bidding.cast.bidders[index], bid_id, ended=ended
        )
        proof = verify_log_proof(receipt, merkle.leaf_hash(_extra(receipt)), key.origin, verifier)
        entry = json.loads(proof.unverified_extra or b"")
        assert entry["sealed"] is True and "bidder" not in json.dumps(entry)
    # The private record a bidder is given proves what its sealed entry commits to.
    record = replacement.record
    assert record["details"]["envelope_sha256"] == replacement.bid.envelope_sha256.hex()
    assert record["action"] == "bid.replaced" and record["details"]["replaces"] == str(submitted[0].bid.id)
    stored = await connection.fetchval("SELECT event_id FROM bids WHERE id = $1", replacement.bid.id)
    assert (
        commitment(record) == json.loads(await tree.entry_at(connection, await _index(connection, stored)))["private"]
    )


def _extra(receipt: bytes) -> bytes:
    from crypto.note import parse_unverified_log_proof

    extra = parse_unverified_log_proof(receipt).unverified_extra
    assert extra is not None
    return extra


async def _index(connection: asyncpg.Connection, event_id: int) -> int:
    return int(await connection.fetchval("SELECT log_index FROM log_entries WHERE event_id = $1", event_id))


async def test_an_upload_resumes_from_the_bytes_made_durable(bidding: Bidding) -> None:
    data, statement = bidding.seal(0)
    actor = bidding.cast.bidders[0]
    upload_id = await bids.create_upload(bidding.db, bidding.cast.blobs, actor, bidding.tender_id, len(data))

    async def broken() -> AsyncIterator[bytes]:
        yield data[:1000]
        raise ConnectionResetError("the connection dropped")

    assert await bids.append_upload(bidding.db, bidding.cast.blobs, actor, upload_id, 0, broken()) == 1000
    assert (await bids.upload_status(bidding.db, actor, upload_id)).received == 1000
    with pytest.raises(Conflict):
        await bids.append_upload(bidding.db, bidding.cast.blobs, actor, upload_id, 0, chunks_of(data))
    rest = data[1000:]
    checksum = Checksum("sha256", hashlib.sha256(rest).digest())
    assert await bids.append_upload(
        bidding.db, bidding.cast.blobs, actor, upload_id, 1000, chunks_of(rest), checksum
    ) == len(data)
    submitted = await bids.submit_bid(
        bidding.db,
        bidding.cast.settings,
        bidding.cast.blobs,
        actor,
        bidding.tender_id,
        upload_id=upload_id,
        signed_statement=statement,
    )
    assert bidding.cast.blobs.exists(submitted.bid.envelope_sha256.hex())
    assert not bidding.cast.blobs.upload_path(upload_id).exists()


async def test_a_checksum_that_differs_counts_nothing_of_the_request(bidding: Bidding) -> None:
    data, _ = bidding.seal(0)
    actor = bidding.cast.bidders[0]
    upload_id = await bids.create_upload(bidding.db, bidding.cast.blobs, actor, bidding.tender_id, len(data))
    with pytest.raises(InvalidInput) as refused:
        await bids.append_upload(
            bidding.db, bidding.cast.blobs, actor, upload_id, 0, chunks_of(data), Checksum("sha1", bytes(20))
        )
    assert refused.value.status_code == 460
    assert (await bids.upload_status(bidding.db, actor, upload_id)).received == 0
    assert bidding.cast.blobs.upload_path(upload_id).stat().st_size == 0


async def _refused(
    bidding: Bidding,
    connection: asyncpg.Connection,
    error: type[BiddingError],
    data: bytes,
    statement: bytes,
    *,
    index: int = 0,
) -> BiddingError:
    before = await _bid_rows(connection)
    with pytest.raises(error) as refused:
        await bidding.submit(index, data, statement)
    assert await _bid_rows(connection) == before
    return refused.value


async def test_bad_submissions_are_refused_saying_why_and_change_nothing(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    data, statement = bidding.seal(0)
    other_data, other_statement = bidding.seal(0, "5.00")
    plain = b"%PDF-1.7 an unsealed bid"
    error = await _refused(bidding, connection, InvalidInput, plain, statement)
    assert "not an age-encrypted file" in error.errors["upload"].text
    error = await _refused(
        bidding, connection, InvalidInput, age.encrypt(b"x", [age.X25519Identity.generate().recipient]), statement
    )
    assert "post-quantum" in error.errors["upload"].text
    error = await _refused(bidding, connection, InvalidInput, other_data, statement)
    assert "bytes" in error.errors["statement"].text or "SHA-256" in error.errors["statement"].text
    forged = bidding.seal(0, signer=key_file("bidder-0", 99).signer)
    error = await _refused(bidding, connection, InvalidInput, *forged)
    assert "not signed by your organisation's registered key" in error.errors["statement"].text
    error = await _refused(bidding, connection, InvalidInput, data, b"not a statement")
    assert "not a bid statement" in error.errors["statement"].text
    # Bidder 1 submitting bidder 0's statement: signed by another organisation's key.
    await _refused(bidding, connection, InvalidInput, data, statement, index=1)
    await bidding.submit(0, other_data, other_statement)
    error = await _refused(bidding, connection, Conflict, other_data, other_statement)  # replayed
    assert "already submitted" in (error.detail.text if error.detail else "")
    error = await _refused(bidding, connection, Conflict, data, statement)  # a second bid, not a replacement
    assert "replace it or withdraw it" in (error.detail.text if error.detail else "")


async def test_a_statement_for_another_tender_or_lot_is_refused(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    data, statement = bidding.seal(0, lot="7")
    error = await _refused(bidding, connection, InvalidInput, data, statement)
    assert error.errors["statement"].params == {"lot": "7"}
    reference, bidding.reference = bidding.reference, "GC-2026-99999"
    data, statement = bidding.seal(0)
    bidding.reference = reference
    error = await _refused(bidding, connection, InvalidInput, data, statement)
    assert error.errors["statement"].params["other"] == "GC-2026-99999"


async def test_the_deadline_is_the_database_clock_s(bidding: Bidding, connection: asyncpg.Connection) -> None:
    data, statement = bidding.seal(0)
    upload_id = await bidding.upload(0, data)
    await connection.execute(
        "UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", bidding.tender_id
    )
    with pytest.raises(InvalidTransition, match="deadline has passed"):
        await bids.submit_bid(
            bidding.db,
            bidding.cast.settings,
            bidding.cast.blobs,
            bidding.cast.bidders[0],
            bidding.tender_id,
            upload_id=upload_id,
            signed_statement=statement,
        )
    with pytest.raises(InvalidTransition):
        await bids.append_upload(
            bidding.db, bidding.cast.blobs, bidding.cast.bidders[0], upload_id, len(data), chunks_of(b"")
        )
    with pytest.raises(InvalidTransition):
        await bids.create_upload(bidding.db, bidding.cast.blobs, bidding.cast.bidders[0], bidding.tender_id, 10)
    assert await _bid_rows(connection) == []


async def test_only_registered_bidders_with_keys_upload_within_the_size_limit(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    cast = bidding.cast
    with pytest.raises(Forbidden):
        await bids.create_upload(bidding.db, bidding.cast.blobs, cast.agent, bidding.tender_id, 10)
    await connection.execute("DELETE FROM tender_registrations WHERE tender_id = $1", bidding.tender_id)
    with pytest.raises(Forbidden, match="Register your organisation"):
        await bids.create_upload(bidding.db, bidding.cast.blobs, cast.bidders[0], bidding.tender_id, 10)
    await tenders_questions.register(bidding.db, cast.bidders[0], bidding.tender_id)
    await connection.execute("UPDATE tenders SET max_envelope_size = 2048 WHERE id = $1", bidding.tender_id)
    with pytest.raises(TooLarge):
        await bids.create_upload(bidding.db, bidding.cast.blobs, cast.bidders[0], bidding.tender_id, 2049)
    upload_id = await bids.create_upload(bidding.db, bidding.cast.blobs, cast.bidders[0], bidding.tender_id, 2048)
    with pytest.raises(TooLarge):
        await bids.append_upload(bidding.db, cast.blobs, cast.bidders[0], upload_id, 0, chunks_of(bytes(4096)))
    with pytest.raises(NotFound):
        await bids.upload_status(bidding.db, cast.bidders[1], upload_id)


async def test_a_rotated_key_signs_new_bids_and_old_ones_stay_verifiable(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    first = await bidding.submit(0, *bidding.seal(0))
    new_keys = key_file("bidder-0-2027", 77)
    await keys.register_key(
        bidding.db,
        bidding.cast.bidders[0],
        Purpose.BIDDER,
        verifier_key=new_keys.verifier_key,
        recipient=new_keys.recipient.encode(),
    )
    old_signed = bidding.seal(0, "1.00")
    error = await _refused(bidding, connection, InvalidInput, *old_signed)
    assert "registered key" in error.errors["statement"].text
    bidding.bidder_keys[0] = new_keys
    second = await bidding.submit(0, *bidding.seal(0, "2.00"), replaces=first.bid.id)
    key_ids = [
        row["key_id"] for row in await connection.fetch("SELECT key_id FROM bids ORDER BY submitted_at, event_id")
    ]
    assert len(set(key_ids)) == 2 and second.bid.key_id == key_ids[1]
    retired = await connection.fetchval("SELECT retired_at FROM party_keys WHERE id = $1", key_ids[0])
    assert retired is not None


async def test_a_random_bid_id_already_taken_is_drawn_again(bidding: Bidding, connection: asyncpg.Connection) -> None:
    """A taken id undoes only its own insert (a savepoint): the bid goes in under the next id drawn."""
    taken = (await bidding.submit(0, *bidding.seal(0))).bid
    await bids_repo.end_bid(connection, taken.id, BidStatus.REPLACED, event_id=None)
    fresh = taken.id ^ 1
    drawn = iter([taken.id, fresh])
    bid_id = await bids_repo.insert_bid(
        connection,
        tender_id=taken.tender_id,
        lot=taken.lot,
        slot=taken.slot,
        organisation_id=taken.organisation_id,
        key_id=taken.key_id,
        statement=taken.statement,
        statement_sha256=hashlib.sha256(b"another statement").digest(),
        envelope_sha256=taken.envelope_sha256,
        envelope_size=taken.envelope_size,
        submitted_by=taken.submitted_by,
        submitted_at=taken.submitted_at,
        event_id=taken.event_id,
        draw_id=lambda: next(drawn),
    )
    assert bid_id == fresh
    assert [status for _, status in await _bid_rows(connection)] == ["replaced", "sealed"]
    with pytest.raises(RuntimeError):
        await bids_repo.insert_bid(
            connection,
            tender_id=taken.tender_id,
            lot=taken.lot,
            slot="technical",
            organisation_id=taken.organisation_id,
            key_id=taken.key_id,
            statement=taken.statement,
            statement_sha256=hashlib.sha256(b"a third statement").digest(),
            envelope_sha256=taken.envelope_sha256,
            envelope_size=taken.envelope_size,
            submitted_by=taken.submitted_by,
            submitted_at=taken.submitted_at,
            event_id=taken.event_id,
            draw_id=lambda: fresh,
        )
