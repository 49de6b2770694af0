"""What a bidder signs: the statement that announces a sealed envelope, and the manifest sealed inside it.

The **statement** is a C2SP signed note by the bidder's Ed25519 key::

    bidding/bid-statement/v1
    tender T-2026-001
    lot 1
    bidder 91320505MA1MXK7U5E
    slot commercial
    envelope sha256:4ae7…
    size 104857600

The platform accepts an uploaded envelope only if it is exactly the file this statement names, signed by the
bidder's registered key. The **manifest** is canonical JSON (RFC 8785) inside the envelope, naming the same tender,
lot, bidder and slot, the structured price sheet, and each document's size and SHA-256; its signature is a signed
note over the manifest's SHA-256, by the same key. At the opening both are checked against each other.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crypto.canonical import CanonicalJSONError, canonical_json, parse_canonical_json
from crypto.note import NoteError, Signer, Verifier, open_note, parse_unverified_note, sign_note

STATEMENT_FORMAT = "bidding/bid-statement/v1"
MANIFEST_FORMAT = "bidding/bid-manifest/v1"
MANIFEST_SIGNATURE_FORMAT = "bidding/bid-manifest-signature/v1"
#: Envelope slots: two-envelope procedures seal the technical and the commercial part apart.
SLOTS = ("single", "technical", "commercial")
#: Documents per envelope, and characters in a document's name.
MAX_DOCUMENTS = 1000
MAX_NAME_LENGTH = 255
#: Tender references, lot numbers and similar identifiers: printable, no spaces, at most this long.
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MONEY = re.compile(r"(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?")


class StatementError(ValueError):
    """A statement or manifest is malformed, not signed by the expected key, or disagrees with its envelope."""


def _identifier(kind: str, value: object) -> str:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise StatementError(f"{kind} must be 1 to 64 printable characters without spaces")
    return value


def _slot(value: object) -> str:
    if value not in SLOTS:
        raise StatementError(f"slot must be one of {', '.join(SLOTS)}")
    return str(value)


# --- Statements -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Statement:
    tender: str
    lot: str
    bidder: str
    slot: str
    envelope_sha256: bytes
    envelope_size: int

    def __post_init__(self) -> None:
        _identifier("tender", self.tender)
        _identifier("lot", self.lot)
        _identifier("bidder", self.bidder)
        _slot(self.slot)
        if len(self.envelope_sha256) != 32:
            raise StatementError("the envelope hash must be a SHA-256")
        if self.envelope_size < 0:
            raise StatementError("the envelope size cannot be negative")

    def text(self) -> str:
        return (
            f"{STATEMENT_FORMAT}\ntender {self.tender}\nlot {self.lot}\nbidder {self.bidder}\nslot {self.slot}\n"
            f"envelope sha256:{self.envelope_sha256.hex()}\nsize {self.envelope_size}\n"
        )


def sign_statement(statement: Statement, signer: Signer) -> bytes:
    """The statement as a signed note."""
    return sign_note(statement.text(), [signer])


def _parse_statement_text(text: str) -> Statement:
    lines = text.split("\n")
    if len(lines) != 8 or lines[0] != STATEMENT_FORMAT or lines[7] != "":
        raise StatementError("not a bid statement")
    fields = {}
    for line, key in zip(lines[1:7], ("tender", "lot", "bidder", "slot", "envelope", "size"), strict=True):
        name, _, value = line.partition(" ")
        if name != key:
            raise StatementError(f"expected the {key} line, found {name!r}")
        fields[key] = value
    envelope = fields["envelope"]
    if not envelope.startswith("sha256:") or not _SHA256.fullmatch(envelope[7:]):
        raise StatementError("the envelope line must be sha256: and 64 lower-case hex digits")
    size = fields["size"]
    if not (size.isascii() and size.isdigit()) or (size != "0" and size.startswith("0")) or len(size) > 15:
        raise StatementError("the size must be a decimal number of bytes")
    return Statement(
        fields["tender"], fields["lot"], fields["bidder"], fields["slot"], bytes.fromhex(envelope[7:]), int(size)
    )


def parse_unverified_statement(data: bytes) -> Statement:
    """The statement a note claims, signature unchecked: to find whose key to check it with.

    Raises :class:`StatementError` if it is not a well-formed statement.
    """
    try:
        note = parse_unverified_note(data)
    except NoteError as error:
        raise StatementError(f"not a signed note: {error}") from None
    return _parse_statement_text(note.text)


def open_statement(data: bytes, verifier: Verifier) -> Statement:
    """The statement, if ``verifier`` (the bidder's registered key) signed it; raises :class:`StatementError`."""
    try:
        note = open_note(data, [verifier])
    except NoteError as error:
        raise StatementError(f"the statement is not signed by the bidder's key: {error}") from None
    return _parse_statement_text(note.text)


def check_envelope(statement: Statement, sha256: bytes, size: int) -> None:
    """Raise :class:`StatementError` unless the envelope received is the one the statement names."""
    if size != statement.envelope_size:
        raise StatementError(f"the envelope has {size} bytes, the statement says {statement.envelope_size}")
    if sha256 != statement.envelope_sha256:
        raise StatementError("the envelope's SHA-256 differs from the statement's")


# --- Manifests ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    name: str
    size: int
    sha256: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class PriceSheet:
    """The figures read out at the opening. Amounts are decimal strings in ``currency``, never floats."""

    currency: str
    total: str
    duration_days: int | None = None
    bid_security: str | None = None
    remarks: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{3}", self.currency):
            raise StatementError("currency must be an ISO 4217 code such as CNY")
        for name, amount in (("total", self.total), ("bid security", self.bid_security)):
            if amount is not None and not _MONEY.fullmatch(amount):
                raise StatementError(f"{name} must be a decimal amount with at most 4 decimals, such as 1234.50")
        if self.duration_days is not None and not 0 < self.duration_days <= 100_000:
            raise StatementError("duration must be a positive number of days")
        if len(self.remarks) > 2000:
            raise StatementError("remarks can have at most 2000 characters")

    @property
    def total_amount(self) -> Decimal:
        return Decimal(self.total)


@dataclasses.dataclass(frozen=True, slots=True)
class Manifest:
    tender: str
    lot: str
    bidder: str
    slot: str
    price_sheet: PriceSheet
    documents: tuple[Document, ...]
    #: When the bidder sealed it, as the bidder's clock says (RFC 3339, UTC); the platform's clock decides time.
    created: str

    def encode(self) -> bytes:
        """The manifest's canonical JSON: what is hashed, signed and stored in the envelope."""
        return canonical_json(
            {
                "format": MANIFEST_FORMAT,
                "tender": self.tender,
                "lot": self.lot,
                "bidder": self.bidder,
                "slot": self.slot,
                "price_sheet": {
                    key: value for key, value in dataclasses.asdict(self.price_sheet).items() if value is not None
                },
                "documents": [{"name": d.name, "size": d.size, "sha256": d.sha256.hex()} for d in self.documents],
                "created": self.created,
            }
        )


def _document(value: Any) -> Document:
    if not isinstance(value, dict) or set(value) != {"name", "size", "sha256"}:
        raise StatementError("each document needs exactly a name, a size and a sha256")
    name, size, digest = value["name"], value["size"], value["sha256"]
    check_document_name(name)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise StatementError("a document size must be a whole number of bytes")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise StatementError("a document sha256 must be 64 lower-case hex digits")
    return Document(name, size, bytes.fromhex(digest))


#: General categories refused in a document name: controls, format characters (bidi overrides among them),
#: surrogates, private use, and line and paragraph separators; of the spaces, only the ASCII space is allowed.
#: Unassigned code points are allowed: which ones are unassigned depends on the Unicode version of whoever checks
#: (a browser's is often newer than this Python's), and a name accepted at sealing must not be refused at opening.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"})


def check_document_name(name: object) -> None:
    """Refuse names that could escape a folder or confuse a reader: plain file names only."""
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_NAME_LENGTH
        or name in (".", "..")
        or any(c in name for c in "/\\\x00")
        or any(c != " " and unicodedata.category(c) in REFUSED_CATEGORIES for c in name)
        or name != name.strip()
    ):
        raise StatementError(f"{name!r} is not an acceptable document name")


def parse_manifest(data: bytes) -> Manifest:
    """A manifest from its canonical JSON; raises :class:`StatementError` if malformed or not canonical."""
    try:
        value = parse_canonical_json(data)
    except CanonicalJSONError as error:
        raise StatementError(f"the manifest is not canonical JSON: {error}") from None
    expected = {"format", "tender", "lot", "bidder", "slot", "price_sheet", "documents", "created"}
    if not isinstance(value, dict) or set(value) != expected or value["format"] != MANIFEST_FORMAT:
        raise StatementError("not a bid manifest")
    sheet = value["price_sheet"]
    if not isinstance(sheet, dict) or not {"currency", "total"} <= set(sheet) <= set(PriceSheet.__dataclass_fields__):
        raise StatementError("the price sheet needs a currency and a total, and nothing unknown")
    try:
        price_sheet = PriceSheet(**sheet)
    except TypeError:
        raise StatementError("the price sheet has values of the wrong type") from None
    documents = value["documents"]
    if not isinstance(documents, list) or len(documents) > MAX_DOCUMENTS:
        raise StatementError(f"the manifest lists at most {MAX_DOCUMENTS} documents")
    parsed = tuple(_document(d) for d in documents)
    if len({d.name for d in parsed}) != len(parsed):
        raise StatementError("two documents have the same name")
    if not isinstance(value["created"], str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value["created"]):
        raise StatementError("created must be an RFC 3339 UTC time such as 2026-11-21T08:30:00Z")
    return Manifest(
        _identifier("tender", value["tender"]),
        _identifier("lot", value["lot"]),
        _identifier("bidder", value["bidder"]),
        _slot(value["slot"]),
        price_sheet,
        parsed,
        value["created"],
    )


def _manifest_signature_text(manifest_bytes: bytes) -> str:
    return f"{MANIFEST_SIGNATURE_FORMAT}\nsha256 {hashlib.sha256(manifest_bytes).hexdigest()}\n"


def sign_manifest(manifest_bytes: bytes, signer: Signer) -> bytes:
    """The detached signature of a manifest: a signed note over its SHA-256."""
    return sign_note(_manifest_signature_text(manifest_bytes), [signer])


def open_manifest(manifest_bytes: bytes, signature: bytes, verifier: Verifier) -> Manifest:
    """The manifest, if ``signature`` is ``verifier``'s over exactly these bytes; raises :class:`StatementError`."""
    try:
        note = open_note(signature, [verifier])
    except NoteError as error:
        raise StatementError(f"the manifest signature does not verify: {error}") from None
    if note.text != _manifest_signature_text(manifest_bytes):
        raise StatementError("the manifest signature is for other bytes")
    return parse_manifest(manifest_bytes)


def check_manifest(manifest: Manifest, statement: Statement, documents: Sequence[Document]) -> None:
    """Raise :class:`StatementError` unless manifest, statement and the documents found agree."""
    for field in ("tender", "lot", "bidder", "slot"):
        if getattr(manifest, field) != getattr(statement, field):
            raise StatementError(f"the manifest's {field} differs from the statement's")
    if sorted(manifest.documents, key=lambda d: d.name) != sorted(documents, key=lambda d: d.name):
        raise StatementError("the documents in the envelope differ from those the manifest lists")
