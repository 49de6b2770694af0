import dataclasses
import hashlib

import pytest

from crypto.note import Ed25519Signer, format_note
from crypto.statement import (
    Document,
    Manifest,
    PriceSheet,
    Statement,
    StatementError,
    check_document_name,
    check_envelope,
    check_manifest,
    open_manifest,
    open_statement,
    parse_manifest,
    parse_unverified_statement,
    sign_manifest,
    sign_statement,
)

SIGNER = Ed25519Signer("bidder-91320505MA1MXK7U5E", bytes(range(32)))
OTHER = Ed25519Signer("bidder-91320505MA1MXK7U5E", bytes(32))
STATEMENT = Statement("T-2026-001", "1", "91320505MA1MXK7U5E", "commercial", hashlib.sha256(b"age").digest(), 3)
SHEET = PriceSheet("CNY", "1234567.50", 180, "20000", "含税价")
MANIFEST = Manifest(
    "T-2026-001", "1", "91320505MA1MXK7U5E", "commercial", SHEET, (Document("a.pdf", 3, bytes(32)),),
    "2026-11-21T08:30:00Z",
)  # fmt: skip


def test_a_statement_signs_and_opens_with_the_bidders_key_only() -> None:
    signed = sign_statement(STATEMENT, SIGNER)
    assert signed.startswith(b"bidding/bid-statement/v1\ntender T-2026-001\n")
    assert parse_unverified_statement(signed) == STATEMENT
    assert open_statement(signed, SIGNER.verifier()) == STATEMENT
    with pytest.raises(StatementError, match="not signed by the bidder"):
        open_statement(signed, OTHER.verifier())
    check_envelope(STATEMENT, hashlib.sha256(b"age").digest(), 3)


def test_an_envelope_other_than_the_stated_one_is_refused() -> None:
    with pytest.raises(StatementError, match="4 bytes"):
        check_envelope(STATEMENT, STATEMENT.envelope_sha256, 4)
    with pytest.raises(StatementError, match="SHA-256 differs"):
        check_envelope(STATEMENT, bytes(32), 3)


def _mangled(old: str, new: str) -> bytes:
    text = STATEMENT.text().replace(old, new)
    return format_note(text, [OTHER.sign(text.encode())])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("bidding/bid-statement/v1", "bidding/other/v1", "not a bid statement"),
        ("size 3\n", "size 3\nextra 1\n", "not a bid statement"),
        ("lot 1", "lots 1", "expected the lot line"),
        ("envelope sha256:", "envelope md5:", "envelope line"),
        ("size 3", "size 03", "decimal number"),
        ("size 3", "size x", "decimal number"),
        ("tender T-2026-001", "tender T 2026", "tender must be"),
        ("slot commercial", "slot other", "slot must be"),
    ],
)
def test_malformed_statements_are_refused(old: str, new: str, message: str) -> None:
    with pytest.raises(StatementError, match=message):
        parse_unverified_statement(_mangled(old, new))


def test_a_text_that_is_not_a_note_is_refused() -> None:
    with pytest.raises(StatementError, match="not a signed note"):
        parse_unverified_statement(b"just text")


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"envelope_sha256": b"x"}, "SHA-256"), ({"envelope_size": -1}, "negative"), ({"lot": ""}, "lot must be")],
)
def test_impossible_statements_cannot_be_made(changes: dict[str, object], message: str) -> None:
    with pytest.raises(StatementError, match=message):
        dataclasses.replace(STATEMENT, **changes)  # type: ignore[arg-type]  # wrong values on purpose


def test_a_manifest_is_canonical_signed_and_checked_against_its_statement() -> None:
    encoded = MANIFEST.encode()
    assert parse_manifest(encoded) == MANIFEST
    assert open_manifest(encoded, sign_manifest(encoded, SIGNER), SIGNER.verifier()) == MANIFEST
    assert SHEET.total_amount == 1234567.5
    check_manifest(MANIFEST, STATEMENT, [Document("a.pdf", 3, bytes(32))])
    with pytest.raises(StatementError, match="does not verify"):
        open_manifest(encoded, sign_manifest(encoded, OTHER), SIGNER.verifier())
    with pytest.raises(StatementError, match="for other bytes"):
        open_manifest(encoded, sign_manifest(encoded + b" ", SIGNER), SIGNER.verifier())
    with pytest.raises(StatementError, match="lot differs"):
        check_manifest(MANIFEST, dataclasses.replace(STATEMENT, lot="2"), [Document("a.pdf", 3, bytes(32))])
    with pytest.raises(StatementError, match="documents in the envelope differ"):
        check_manifest(MANIFEST, STATEMENT, [Document("a.pdf", 4, bytes(32))])


def _manifest_with(**changes: object) -> bytes:
    from crypto.canonical import canonical_json

    value = {
        "format": "bidding/bid-manifest/v1", "tender": "T", "lot": "1", "bidder": "B", "slot": "single",
        "price_sheet": {"currency": "CNY", "total": "1"}, "documents": [], "created": "2026-11-21T08:30:00Z",
    }  # fmt: skip
    value.update(changes)
    return canonical_json(value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"b":1, "a":2}', "not canonical"),
        (_manifest_with(format="other"), "not a bid manifest"),
        (_manifest_with(price_sheet={"currency": "CNY"}), "currency and a total"),
        (_manifest_with(price_sheet={"currency": "CNY", "total": 5}), "wrong type"),
        (_manifest_with(price_sheet={"currency": "CNY", "total": "1", "duration_days": "x"}), "wrong type"),
        (_manifest_with(price_sheet={"currency": "yuan", "total": "1"}), "ISO 4217"),
        (_manifest_with(price_sheet={"currency": "CNY", "total": "1.23456"}), "4 decimals"),
        (_manifest_with(price_sheet={"currency": "CNY", "total": "1", "duration_days": 0}), "positive number"),
        (_manifest_with(price_sheet={"currency": "CNY", "total": "1", "remarks": "x" * 2001}), "2000"),
        (_manifest_with(documents="x"), "at most 1000"),
        (_manifest_with(documents=[{"name": "a"}]), "exactly a name"),
        (_manifest_with(documents=[{"name": "a", "size": -1, "sha256": "0" * 64}]), "whole number"),
        (_manifest_with(documents=[{"name": "a", "size": True, "sha256": "0" * 64}]), "whole number"),
        (_manifest_with(documents=[{"name": "a", "size": 1, "sha256": "0" * 63}]), "64 lower-case"),
        (_manifest_with(documents=[{"name": "a", "size": 1, "sha256": "0" * 64}] * 2), "same name"),
        (_manifest_with(created="yesterday"), "RFC 3339"),
    ],
)
def test_malformed_manifests_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(StatementError, match=message):
        parse_manifest(data)


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "a/b", "a\\b", "a\x00", " a", "a\n", "x" * 256, 5]
    + ["a\u202egpj.exe", "\ue000", "a\u2028", "a\u3000b"],  # a bidi override, private use, separators
)
def test_document_names_cannot_escape_or_confuse(name: object) -> None:
    with pytest.raises(StatementError, match="not an acceptable document name"):
        check_document_name(name)


@pytest.mark.parametrize("name", ["投标文件 第1册.pdf", "a b.pdf", "报价\U00031350.pdf", "\U0001fae8.txt"])
def test_document_names_in_any_script_pass_whatever_this_python_s_unicode_version(name: str) -> None:
    """U+31350 (CJK Extension H) and U+1FAE8 are in Unicode 15, newer than Python 3.11's tables, as browsers are."""
    check_document_name(name)
