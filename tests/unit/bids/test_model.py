"""The rules of bids that need no database: how a bid is shown to people, the tus headers an upload speaks, the
envelopes and statements a submission may bring, and the deadline."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import re

import pytest

from bidding.bids import model
from bidding.bids.model import Bid, BidStatus, Checksum, TusError, bid_id_text, bid_reference
from bidding.bids.repo import new_bid_id
from bidding.errors import InvalidInput, InvalidTransition
from crypto import age
from crypto.statement import Statement

REFERENCE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@pytest.mark.parametrize(
    ("bid_id", "reference"),
    [
        (1, "0000-0000-0001"),
        (31, "0000-0000-000Z"),
        (32, "0000-0000-0010"),
        (2**60 - 1, "ZZZZ-ZZZZ-ZZZZ"),
        # The id's low 60 bits: the three above them do not show.
        (2**63 - 1, "ZZZZ-ZZZZ-ZZZZ"),
        (0x0123456789ABCDEF, "28T5-CY4T-QKFF"),
    ],
)
def test_a_bid_reference_writes_the_ids_low_60_bits_in_crockford_base32(bid_id: int, reference: str) -> None:
    assert bid_reference(bid_id) == reference


def test_new_bid_ids_are_random_positive_63_bit_numbers_with_references_of_12_characters() -> None:
    ids = [new_bid_id() for _ in range(1000)]
    assert all(0 < bid_id < 2**63 for bid_id in ids) and len(set(ids)) == len(ids)
    # Spread over the whole range, not counted up from one (this fails by chance with odds below 2^-400).
    assert max(ids) > 2**62 and min(ids) < 2**61
    assert all(REFERENCE.fullmatch(bid_reference(bid_id)) for bid_id in ids)


def test_bid_ids_are_written_as_text_where_json_carries_them() -> None:
    assert bid_id_text(2**63 - 1) == "9223372036854775807"


def test_a_bid_record_shows_its_reference() -> None:
    at = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    bid = Bid(
        32, 1, 1, "commercial", 2, "示范建设有限公司", "91320505MA1MXK7U5E", 3, b"", b"", b"", 1, 4, at, 5,
        BidStatus.SEALED, None, None, None, None,
    )  # fmt: skip
    assert bid.reference == "0000-0000-0010" and bid.organisation_name_en is None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _refused(call: object, *args: object) -> TusError:
    with pytest.raises(TusError) as raised:
        call(*args)  # type: ignore[operator]  # each test passes a parser and what it parses
    assert raised.value.status_code == 400
    return raised.value


def test_upload_lengths_are_whole_numbers_of_bytes_and_never_zero() -> None:
    assert model.parse_upload_length(" 1048576 ") == 1048576
    assert model.parse_length("0", "Upload-Offset") == 0
    assert model.parse_length("9" * 16, "Upload-Offset") == 10**16 - 1
    assert set(_refused(model.parse_upload_length, "0").errors) == {"Upload-Length"}
    for raw in (None, "", "-1", "01", "1.5", "0x10", "1e3", "9" * 17, "١٢"):
        assert set(_refused(model.parse_length, raw, "Upload-Offset").errors) == {"Upload-Offset"}


def test_upload_metadata_is_pairs_of_printable_keys_and_base64_utf8_values() -> None:
    assert model.parse_metadata(None) == {} and model.parse_metadata("  ") == {}
    raw = f"filename {_b64('投标.age'.encode())}, is_final ,lot {_b64(b'2')}"
    assert model.parse_metadata(raw) == {"filename": "投标.age", "is_final": "", "lot": "2"}


@pytest.mark.parametrize(
    "raw",
    [
        "a b,a c",  # a key twice
        "k\u00e9y dmFsdWU=",  # a key beyond printable ASCII
        "a YQ==,,b Yg==",  # an empty pair
        "name not-base64!",
        f"name {_b64(bytes([0xFF, 0xFE]))}",  # base64, but not of UTF-8
        "k " + "A" * model.MAX_METADATA,
    ],
)
def test_malformed_upload_metadata_is_refused(raw: str) -> None:
    _refused(model.parse_metadata, raw)


def test_upload_checksums_are_sha1_or_sha256_of_the_right_length() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert model.parse_checksum(None) is None
    assert model.parse_checksum(f" sha256 {_b64(digest)} ") == Checksum("sha256", digest)
    assert model.parse_checksum(f"sha1 {_b64(bytes(20))}") == Checksum("sha1", bytes(20))
    for raw in (f"md5 {_b64(bytes(16))}", f"sha1 {_b64(digest)}", "sha256 ???", "sha256", ""):
        _refused(model.parse_checksum, raw)


TENDER = age.HybridIdentity.generate().recipient
BIDDER = age.HybridIdentity.generate().recipient


def test_an_envelope_sealed_to_post_quantum_recipients_only_passes_its_header_check() -> None:
    header = model.check_envelope_header(age.encrypt(b"bid", [TENDER, BIDDER])[: model.HEADER_READ])
    assert [stanza.type for stanza in header.stanzas] == ["mlkem768x25519", "mlkem768x25519"]


def test_envelopes_that_cannot_be_sealed_bids_are_refused_at_their_header() -> None:
    classical = age.X25519Identity.generate().recipient
    for start in (
        b"PK\x03\x04 not an age file",
        age.encrypt(b"bid", [classical]),
        age.encrypt(b"bid", [TENDER] * (model.MAX_STANZAS + 1)),
    ):
        with pytest.raises(InvalidInput) as raised:
            model.check_envelope_header(start)
        assert set(raised.value.errors) == {"upload"}


ENVELOPE = b"sealed bytes"
STATEMENT = Statement("T-2026-001", "2", "91320505MA1MXK7U5E", "commercial", hashlib.sha256(ENVELOPE).digest(), 12)


def _fits(statement: Statement, **changes: object) -> int:
    facts: dict[str, object] = {
        "reference": "T-2026-001",
        "lots": {1, 2},
        "credit_code": "91320505MA1MXK7U5E",
        "upload_sha256": hashlib.sha256(ENVELOPE).digest(),
        "upload_size": len(ENVELOPE),
    }
    return model.check_statement_fits(statement, **(facts | changes))  # type: ignore[arg-type]  # the facts' types


def test_a_statement_naming_this_tender_lot_bidder_and_envelope_fits_and_gives_its_lot() -> None:
    assert _fits(STATEMENT) == 2


@pytest.mark.parametrize(
    ("statement", "facts", "said"),
    [
        (STATEMENT, {"reference": "T-2026-002"}, "tender T-2026-001"),
        (dataclasses.replace(STATEMENT, lot="3"), {}, "lot 3"),
        (dataclasses.replace(STATEMENT, lot="0"), {}, "lot 0"),
        (STATEMENT, {"credit_code": "91320505MA1MXK7U6C"}, "another bidder"),
        (STATEMENT, {"upload_size": 13}, "13 were uploaded"),
        (STATEMENT, {"upload_sha256": bytes(32)}, "SHA-256"),
    ],
)
def test_a_statement_that_differs_from_the_upload_is_refused_saying_what_differs(
    statement: Statement, facts: dict[str, object], said: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        _fits(statement, **facts)
    assert said in raised.value.errors["statement"].render(lambda text: text)


def test_bids_are_taken_until_the_deadline_not_one_microsecond_after() -> None:
    deadline = dt.datetime(2026, 7, 1, 9, 30, tzinfo=dt.UTC)
    model.check_before_deadline(deadline - dt.timedelta(microseconds=1), deadline)
    for now in (deadline, deadline + dt.timedelta(microseconds=1)):
        with pytest.raises(InvalidTransition):
            model.check_before_deadline(now, deadline)


def test_a_bid_event_records_its_statements_fields_and_names_the_tender_as_its_receipts_subject() -> None:
    assert model.public_statement_fields(STATEMENT) == {
        "tender": "T-2026-001", "lot": "2", "bidder": "91320505MA1MXK7U5E", "slot": "commercial",
        "envelope_sha256": hashlib.sha256(ENVELOPE).hexdigest(), "envelope_size": 12,
    }  # fmt: skip
    assert model.receipt_subject(42) == "tender:42"
