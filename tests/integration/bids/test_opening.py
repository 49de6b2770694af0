"""The opening on a real PostgreSQL: custodians' shares, the rebuilt key, each bid read out, the signed record."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import asyncpg
import pytest

from bidding.bids import service as bids
from bidding.errors import Forbidden, InvalidInput, InvalidTransition, NotFound
from bidding.log.tree import load_log_key
from bidding.opening import documents, hall, model, reading
from bidding.opening import repo as opening_repo
from bidding.opening.model import hall_room
from bidding.rooms import repo as rooms_repo
from crypto import age, custody
from crypto.age.header import header_length
from crypto.note import open_note, parse_verifier_key
from tests.integration.bids.conftest import Bidding


@pytest.fixture(autouse=True)
def _no_receipt_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bids, "RECEIPT_WAIT", 0)


async def _share(bidding: Bidding, connection: asyncpg.Connection, member: int) -> str:
    sealed = await connection.fetchval(
        "SELECT sealed FROM custody_shares WHERE tender_id = $1 AND member = $2", bidding.tender_id, member
    )
    return custody.open_sealed_share(sealed, bidding.custodian_keys[member].identity, bidding.reference)


async def _custodian(bidding: Bidding, number: int):  # type: ignore[no-untyped-def]  # returns what the test unpacks
    from bidding.accounts import service as accounts

    return await accounts.act_as(bidding.db, f"custodian{number}")


async def _close(bidding: Bidding, connection: asyncpg.Connection) -> None:
    await connection.execute(
        "UPDATE tenders SET deadline = clock_timestamp() - interval '1 second' WHERE id = $1", bidding.tender_id
    )


async def test_the_custodians_open_every_bid_and_the_record_matches_the_price_sheets(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    cast = bidding.cast
    prices = ["1200000.00", "980000.50", "1010000.00"]
    submitted = [await bidding.submit(i, *bidding.seal(i, prices[i])) for i in range(2)]
    # The third bidder seals to a key that is not the tender's: its own fault, so revoked (art. 31).
    stray = age.HybridIdentity.generate().recipient
    submitted.append(await bidding.submit(2, *bidding.seal(2, prices[2], recipient=stray)))
    with pytest.raises(InvalidTransition):  # before the deadline
        await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    await _close(bidding, connection)
    with pytest.raises(Forbidden):
        await hall.start_opening(bidding.db, cast.settings, cast.bidders[0], bidding.tender_id)
    await connection.execute("UPDATE organisations SET name_en = 'Bidder One Ltd.' WHERE id = $1", cast.bidder_ids[0])
    await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    frozen = await rooms_repo.select_events(connection, hall_room(bidding.tender_id), 0)
    # Listed in the order submitted, each id as text (63 bits are more than JSON numbers hold exactly).
    assert frozen[0].kind == "bids_frozen" and [b["bid"] for b in frozen[0].payload["bids"]] == [
        str(s.bid.id) for s in submitted
    ]
    # The hall names bidders in English for English readers.
    assert [b["bidder_en"] for b in frozen[0].payload["bids"]] == ["Bidder One Ltd.", None, None]

    first = await _custodian(bidding, 1)
    second = await _custodian(bidding, 2)
    with pytest.raises(InvalidInput):  # another custodian's share, handed in by the first
        await hall.hand_in_share(
            bidding.db, cast.settings, cast.blobs, first, bidding.tender_id, await _share(bidding, connection, 1)
        )
    with pytest.raises(InvalidInput):  # a made-up share
        await hall.hand_in_share(bidding.db, cast.settings, cast.blobs, first, bidding.tender_id, "academic acid " * 10)
    with pytest.raises(Forbidden):
        await hall.hand_in_share(bidding.db, cast.settings, cast.blobs, cast.bidders[0], bidding.tender_id, "x")
    count = await hall.hand_in_share(
        bidding.db, cast.settings, cast.blobs, first, bidding.tender_id, await _share(bidding, connection, 0)
    )
    assert count == 1 and await connection.fetchval("SELECT count(*) FROM opening_lines") == 0
    assert (
        await hall.hand_in_share(
            bidding.db, cast.settings, cast.blobs, second, bidding.tender_id, await _share(bidding, connection, 1)
        )
        == 2
    )

    assert await connection.fetchval("SELECT status FROM tenders WHERE id = $1", bidding.tender_id) == "opened"
    lines = await opening_repo.select_lines(connection, bidding.tender_id)
    assert [line.line["outcome"] for line in lines] == ["opened", "opened", "revoked"]
    assert [line.line.get("total") for line in lines[:2]] == prices[:2]
    assert lines[2].line["reason"] == "the envelope was not sealed to this tender's opening key"
    statuses = [
        row["status"] for row in await connection.fetch("SELECT status FROM bids ORDER BY submitted_at, event_id")
    ]
    assert statuses == ["opened", "opened", "revoked"]

    record, signature = await reading.opening_record(bidding.db, bidding.tender_id)
    key = load_log_key(cast.settings)
    open_note(signature, [parse_verifier_key(key.verifier_key)])
    assert json.loads(record)["lines"][1]["total"] == prices[1] and model.sign_record(record, key.signer) == signature
    kinds = [m.kind for m in await rooms_repo.select_events(connection, hall_room(bidding.tender_id), 0)]
    assert kinds == ["bids_frozen", "share", "share", "key_rebuilt", "line", "line", "line", "record"]

    await hall.confirm_line(bidding.db, cast.bidders[0], submitted[0].bid.id)
    await hall.object_to_line(
        bidding.db, cast.bidders[1], submitted[1].bid.id, "我方报价为 980000.50 元，宣读无误但工期应为 150 天。"
    )
    with pytest.raises(InvalidTransition):
        await hall.confirm_line(bidding.db, cast.bidders[1], submitted[1].bid.id)
    with pytest.raises(Forbidden):
        await hall.answer_objection(bidding.db, cast.bidders[0], submitted[1].bid.id, "no")
    await hall.answer_objection(bidding.db, cast.agent, submitted[1].bid.id, "工期以投标文件为准，已记录。")
    line = await opening_repo.select_line(connection, submitted[1].bid.id)
    assert line is not None and line.objection and line.answer


async def test_without_the_custodians_each_bidder_hands_in_its_file_key(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    cast = bidding.cast
    data, statement = bidding.seal(0, "777.00")
    mine = await bidding.submit(0, data, statement)
    other = await bidding.submit(1, *bidding.seal(1, "888.00"))
    await _close(bidding, connection)
    await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    header = age.read_header(data)
    file_key = age.unwrap_file_key(header, [bidding.bidder_keys[0].identity])
    with pytest.raises(InvalidInput):
        await reading.hand_in_file_key(bidding.db, cast.settings, cast.blobs, cast.bidders[0], mine.bid.id, bytes(16))
    line = await reading.hand_in_file_key(bidding.db, cast.settings, cast.blobs, cast.bidders[0], mine.bid.id, file_key)
    assert line["total"] == "777.00"
    await reading.finish_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    outcomes = {row["id"]: row["status"] for row in await connection.fetch("SELECT id, status FROM bids")}
    assert outcomes == {mine.bid.id: "opened", other.bid.id: "withdrawn"}


async def test_a_bidder_fetches_its_own_envelopes_header_and_its_key_file_unwraps_the_file_key(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    """The header served is the envelope's exact header, whatever follows it; the bidder's key opens it."""
    cast = bidding.cast
    data, statement = bidding.seal(0, "654321.00")
    mine = await bidding.submit(0, data, statement)
    header = await reading.own_envelope_header(bidding.db, cast.blobs, cast.bidders[0], mine.bid.id)
    assert header == data[: header_length(data)] and header.endswith(b"\n") and b"\n--- " in header
    assert len(header) < len(data)
    file_key = age.unwrap_file_key(age.read_header(header), [bidding.bidder_keys[0].identity])
    await _close(bidding, connection)
    await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    line = await reading.hand_in_file_key(bidding.db, cast.settings, cast.blobs, cast.bidders[0], mine.bid.id, file_key)
    assert line["outcome"] == "opened" and line["total"] == "654321.00"


async def test_an_envelopes_header_is_refused_to_anyone_but_a_bidder_of_its_organisation(
    bidding: Bidding,
) -> None:
    """Another organisation's bidder, a bidder of no organisation, staff, a bid that does not exist: all NotFound."""
    cast = bidding.cast
    mine = await bidding.submit(0, *bidding.seal(0))
    first = cast.bidders[0].principal
    assert first is not None
    homeless = dataclasses.replace(cast.bidders[0], principal=dataclasses.replace(first, organisation_id=None))
    for actor, bid_id in [
        (cast.bidders[1], mine.bid.id),
        (homeless, mine.bid.id),
        (cast.agent, mine.bid.id),
        (cast.supervisor, mine.bid.id),
        (cast.bidders[0], mine.bid.id ^ 1),  # another id (ids are random: nothing is next to one)
    ]:
        with pytest.raises(NotFound) as refused:
            await reading.own_envelope_header(bidding.db, cast.blobs, actor, bid_id)
        assert refused.value.detail is not None and refused.value.detail.text == "There is no such bid of yours."


async def test_an_envelope_missing_from_storage_is_reported_not_a_crash(bidding: Bidding) -> None:
    cast = bidding.cast
    data, statement = bidding.seal(0)
    mine = await bidding.submit(0, data, statement)
    cast.blobs.path(mine.bid.envelope_sha256.hex()).unlink()
    with pytest.raises(NotFound):
        await reading.own_envelope_header(bidding.db, cast.blobs, cast.bidders[0], mine.bid.id)


async def test_before_the_opening_no_plaintext_of_a_bid_is_stored(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    marker = "31415926.27"
    for index in range(3):
        await bidding.submit(index, *bidding.seal(index, marker))
    needle = marker.encode()
    for path in Path(bidding.cast.blobs.folder).rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes() and needle * 2 not in path.read_bytes(), path
    for table in ("bids", "bid_uploads", "audit_events", "room_events", "party_keys", "custody_shares"):
        dump = await connection.fetchval(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} t")  # noqa: S608
        assert marker not in dump and needle.hex() not in dump, table


async def test_the_opening_is_published_as_open_data_with_the_bid_extension(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    from bidding.opendata import service as opendata
    from tests.ocds import assert_valid

    cast = bidding.cast
    for index, total in enumerate(("100.00", "200.50")):
        await bidding.submit(index, *bidding.seal(index, total))
    await _close(bidding, connection)
    await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    for number in (1, 2):
        custodian = await _custodian(bidding, number)
        share = await _share(bidding, connection, number - 1)
        await hall.hand_in_share(bidding.db, cast.settings, cast.blobs, custodian, bidding.tender_id, share)
    record = json.loads(
        await opendata.record(bidding.db, cast.settings, f"{cast.settings.ocid_prefix}-{bidding.tender_id}")
    )
    assert_valid("record-package", record)
    release = record["records"][0]["compiledRelease"]
    statistics = {s["measure"]: s["value"] for s in release["bids"]["statistics"]}
    assert statistics == {"bids": 2, "electronicBids": 2, "bidders": 2}
    assert sorted(d["value"]["amount"] for d in release["bids"]["details"]) == [100, 200.5]
    lots = {lot["id"] for lot in release["tender"]["lots"]}
    assert all(len(d["relatedLots"]) == 1 and set(d["relatedLots"]) <= lots for d in release["bids"]["details"])
    assert {p["id"] for p in release["parties"] if "tenderer" in p["roles"]} == {
        f"CN-USCC-{code}" for code in bidding.credit_codes[:2]
    }


async def test_after_the_opening_supervisors_read_bid_documents_decrypted_on_the_fly(
    bidding: Bidding, connection: asyncpg.Connection
) -> None:
    import io

    from bidding.errors import NotFound

    cast = bidding.cast
    submitted = await bidding.submit(0, *bidding.seal(0, "4321.00"))
    with pytest.raises(NotFound):  # sealed: nobody reads it, a supervisor neither
        await documents.opened_documents(bidding.db, cast.blobs, cast.supervisor, submitted.bid.id)
    await _close(bidding, connection)
    await hall.start_opening(bidding.db, cast.settings, cast.agent, bidding.tender_id)
    for number in (1, 2):
        share = await _share(bidding, connection, number - 1)
        await hall.hand_in_share(
            bidding.db, cast.settings, cast.blobs, await _custodian(bidding, number), bidding.tender_id, share
        )
    [document] = await documents.opened_documents(bidding.db, cast.blobs, cast.supervisor, submitted.bid.id)
    assert document.name == "投标文件.pdf"
    target = io.BytesIO()
    size = await documents.extract_document(
        bidding.db, cast.blobs, cast.supervisor, submitted.bid.id, document.name, target
    )
    assert size == document.size and target.getvalue() == b"%PDF-1.7 " + b"4321.00" * 100
    for outsider in (cast.bidders[0], cast.bidders[1], cast.agent):
        with pytest.raises(NotFound):
            await documents.opened_documents(bidding.db, cast.blobs, outsider, submitted.bid.id)
    with pytest.raises(NotFound):
        await documents.extract_document(bidding.db, cast.blobs, cast.supervisor, submitted.bid.id, "other.pdf", target)
