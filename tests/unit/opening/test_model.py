"""The rules of the opening that need no database: the phase the hall's status line names, each bid's line of
the record, and the signed record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from bidding.opening.model import (
    RECORD_FORMAT,
    SIGNATURE_FORMAT,
    HallPhase,
    OpeningTimes,
    RecordLine,
    failed_line,
    hall_phase,
    opened_line,
    opening_record,
    record_lines,
    sign_record,
)
from bidding.tenders.model import Status
from crypto.note import generate_signer_key, open_note, parse_signer_key
from crypto.statement import Document, Manifest, PriceSheet

AT = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
NOT_STARTED = OpeningTimes(None, None, None)
STARTED = OpeningTimes(AT, None, None)
REBUILT = OpeningTimes(AT, AT, None)


@pytest.mark.parametrize(
    ("status", "times", "phase"),
    [
        (Status.PUBLISHED, NOT_STARTED, HallPhase.BEFORE_DEADLINE),
        (Status.CLOSED, NOT_STARTED, HallPhase.NOT_STARTED),
        (Status.OPENING, STARTED, HallPhase.SHARES),
        (Status.OPENING, REBUILT, HallPhase.DECRYPTING),
        (Status.OPENED, OpeningTimes(AT, AT, AT), HallPhase.FINISHED),
        (Status.EVALUATION, OpeningTimes(AT, AT, AT), HallPhase.FINISHED),
        # Closed by the agency without k shares: the record is signed, the key never rebuilt.
        (Status.OPENED, OpeningTimes(AT, None, AT), HallPhase.CLOSED_WITHOUT_KEY),
        (Status.FAILED, NOT_STARTED, HallPhase.NOT_STARTED),
        (Status.CANCELLED, NOT_STARTED, HallPhase.CANCELLED),
        # Cancelled after its opening: the tender's state comes first.
        (Status.CANCELLED, OpeningTimes(AT, AT, AT), HallPhase.CANCELLED),
    ],
)
def test_each_phase_of_the_opening_has_its_own_status(status: Status, times: OpeningTimes, phase: HallPhase) -> None:
    assert hall_phase(status, times) is phase


BID = {"position": 1, "bid": "9223372036854775807", "bidder": "示范建设有限公司", "credit_code": "91320505MA1MXK7U5E",
       "lot": 2, "slot": "commercial"}  # fmt: skip


def _manifest(sheet: PriceSheet) -> Manifest:
    document = Document("offer.pdf", 3, hashlib.sha256(b"pdf").digest())
    return Manifest("T-2026-001", "2", BID["credit_code"], "commercial", sheet, (document,), "2026-07-01T01:00:00Z")


def test_an_opened_bid_reads_out_its_price_sheet_after_what_the_platform_knows_of_it() -> None:
    sheet = PriceSheet("CNY", "1234567.50", duration_days=180, bid_security="20000", remarks="含税")
    line = opened_line(BID, _manifest(sheet))
    assert line == BID | {
        "outcome": "opened", "currency": "CNY", "total": "1234567.50", "duration_days": 180, "bid_security": "20000",
        "remarks": "含税",
    }  # fmt: skip


def test_a_bid_that_did_not_open_is_revoked_by_the_bidders_fault_and_withdrawn_by_any_other() -> None:
    assert failed_line(BID, bidders_fault=True, reason="bad signature") == BID | {
        "outcome": "revoked",
        "reason": "bad signature",
    }
    assert failed_line(BID, bidders_fault=False, reason="storage")["outcome"] == "withdrawn"


def test_the_record_is_canonical_json_of_its_lines_in_order_and_reads_back_line_by_line() -> None:
    opened = opened_line(BID, _manifest(PriceSheet("CNY", "100")))
    failed = failed_line(BID | {"position": 2, "credit_code": None}, bidders_fault=True, reason="no key")
    record = opening_record("T-2026-001", "2026-07-01T09:30:00Z", [opened, failed])
    assert record == opening_record("T-2026-001", "2026-07-01T09:30:00Z", [dict(reversed(opened.items())), failed])
    assert json.loads(record)["format"] == RECORD_FORMAT
    assert record_lines(record) == [
        RecordLine(1, BID["bidder"], BID["credit_code"], 2, "opened", "CNY", "100", None, None, "", ""),
        RecordLine(2, BID["bidder"], None, 2, "revoked", reason="no key"),
    ]


def test_a_record_without_lines_has_none() -> None:
    assert record_lines(opening_record("T-2026-001", "2026-07-01T09:30:00Z", [])) == []


def test_the_records_signature_is_a_signed_note_of_its_sha256_for_the_log_key() -> None:
    signer = parse_signer_key(generate_signer_key("bids.example.org/log"))
    record = opening_record("T-2026-001", "2026-07-01T09:30:00Z", [])
    note = open_note(sign_record(record, signer), [signer.verifier()])
    assert note.text == f"{SIGNATURE_FORMAT}\nsha256 {hashlib.sha256(record).hexdigest()}\n"
