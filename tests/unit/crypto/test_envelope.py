import dataclasses
import io
import zipfile

import pytest

from crypto import age, envelope, keyfile
from crypto.envelope import EnvelopeError
from crypto.statement import PriceSheet, sign_manifest

KEYS = keyfile.key_file_from_parts("bidder-91320505MA1MXK7U5E", bytes(32), bytes(range(32)))
TENDER = age.HybridIdentity(bytes(range(1, 33)))
FIELDS = {
    "tender": "T-2026-001",
    "lot": "1",
    "bidder": "91320505MA1MXK7U5E",
    "slot": "commercial",
    "price_sheet": PriceSheet("CNY", "1234567.50", 180),
    "created": "2026-11-21T08:30:00Z",
}


def _seal(documents: list[tuple[str, bytes]]) -> tuple[bytes, envelope.SealedBid]:
    out = io.BytesIO()
    sealed = envelope.seal_envelope(
        out,
        [(name, io.BytesIO(data)) for name, data in documents],
        recipients=[TENDER.recipient, KEYS.recipient],
        signer=KEYS.signer,
        **FIELDS,  # type: ignore[arg-type]  # the test's fields, of the types they name
    )
    return out.getvalue(), sealed


def test_a_sealed_envelope_opens_for_the_tender_and_the_bidder_and_checks_out() -> None:
    big = bytes(range(256)) * 1200  # several age chunks
    data, sealed = _seal([("technical.pdf", big), ("price.xlsx", b"prices")])
    assert sealed.statement.envelope_size == len(data)
    for identity in (TENDER, KEYS.identity):
        with envelope.open_envelope(io.BytesIO(data), sealed.statement, KEYS.signer.verifier(), [identity]) as bid:
            assert bid.manifest == sealed.manifest
            assert bid.open_document("technical.pdf").read() == big


def test_the_envelope_is_not_readable_without_a_key() -> None:
    data, sealed = _seal([("a.pdf", b"secret prices")])
    assert b"secret prices" not in data
    with pytest.raises(age.NoIdentityMatch):
        _open_with(data, sealed.statement, [])


@pytest.mark.parametrize("names", [["a.pdf", "a.pdf"], ["manifest.json"], ["../a.pdf"]])
def test_bad_document_names_are_refused_before_sealing(names: list[str]) -> None:
    with pytest.raises(EnvelopeError):
        _seal([(name, b"x") for name in names])


def _envelope_of(entries: list[tuple[str, bytes]], *, compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return age.encrypt(buffer.getvalue(), [TENDER.recipient])


def _open_with(data: bytes, statement: envelope.Statement, identities: list[age.AnyIdentity]) -> None:
    with envelope.open_envelope(io.BytesIO(data), statement, KEYS.signer.verifier(), identities):
        pass


def _open(data: bytes, statement: envelope.Statement) -> None:
    _open_with(data, statement, [TENDER])


def test_forged_or_malformed_envelopes_are_refused() -> None:
    _, sealed = _seal([("a.pdf", b"doc")])
    manifest = sealed.manifest.encode()
    signature = sign_manifest(manifest, KEYS.signer)
    cases = [
        (age.encrypt(b"not a zip", [TENDER.recipient]), "does not hold a ZIP"),
        (_envelope_of([("a.pdf", b"doc")]), "no signed manifest"),
        (_envelope_of([("manifest.json", manifest), ("manifest.sig", signature), ("a.pdf", b"doc")], compress=True),
         "not a plain stored file"),
        (_envelope_of([("manifest.json", manifest), ("manifest.sig", signature), ("a.pdf", b"DOC")]),
         "differ from those the manifest lists"),
        (_envelope_of([("manifest.json", manifest), ("manifest.sig", signature), ("a.pdf", b"doc"), ("b", b"")]),
         "differ from those the manifest lists"),
        (_envelope_of([("manifest.json", manifest), ("manifest.sig", b"bad"), ("a.pdf", b"doc")]), "does not verify"),
        (_envelope_of([("manifest.json", manifest), ("manifest.sig", signature), (" a", b"")]), "document name"),
    ]  # fmt: skip
    for data, message in cases:
        with pytest.raises(EnvelopeError, match=message):
            _open(data, sealed.statement)
    with pytest.raises(EnvelopeError, match="slot differs"):
        _open(_seal([("a.pdf", b"doc")])[0], dataclasses.replace(sealed.statement, slot="technical"))


def test_duplicate_entries_are_refused() -> None:
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate this test makes on purpose
        archive.writestr("a.pdf", b"1")
        archive.writestr("a.pdf", b"2")
    _, sealed = _seal([("a.pdf", b"1")])
    with pytest.raises(EnvelopeError, match="two entries"):
        _open(age.encrypt(buffer.getvalue(), [TENDER.recipient]), sealed.statement)
