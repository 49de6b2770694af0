"""The rules of bids: their records, the tus 1.0 headers an upload speaks, and what a submission must prove.

Nothing here reads the clock or the database: the service passes the database's time and the stored rows in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum

from bidding.errors import InvalidInput, InvalidTransition
from bidding.i18n import N_, Message
from bidding.inputs import base64_bytes, parse_id
from crypto import age
from crypto.statement import Statement

#: The tus protocol version spoken, and the extensions (tus 1.0.0, "Protocol Extensions").
TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum"
#: ``Upload-Checksum`` algorithms accepted (the checksum extension requires sha1).
TUS_CHECKSUMS = {"sha1": 20, "sha256": 32}
#: The longest ``Upload-Metadata`` header read.
MAX_METADATA = 4096
#: The age header of an envelope is read from at most its first bytes: two post-quantum stanzas take about 3 KiB.
HEADER_READ = 64 * 1024
#: Stanzas an envelope may carry: the tender's opening recipient and the bidder's own, and a few more copies.
MAX_STANZAS = 8
#: Unfinished uploads an organisation may hold for one tender. An envelope is sealed and sent one at a time, so a
#: bidder reaching this has left earlier attempts behind (a reload, a lost connection): the oldest of them makes way
#: for the new one, which bounds what a bidder can leave on disk at this many times the tender's envelope limit
#: without ever refusing the attempt a person is making now.
MAX_OPEN_UPLOADS = 16


class BidStatus(StrEnum):
    SEALED = "sealed"
    REPLACED = "replaced"
    WITHDRAWN = "withdrawn"
    OPENED = "opened"
    #: Not opened through the bidder's fault (Measures for Electronic Bidding, art. 31: 视为撤销).
    REVOKED = "revoked"
    REJECTED = "rejected"


BID_STATUS_NAMES: Mapping[BidStatus, Message] = {
    BidStatus.SEALED: N_("Sealed"),
    BidStatus.REPLACED: N_("Replaced"),
    BidStatus.WITHDRAWN: N_("Withdrawn"),
    BidStatus.OPENED: N_("Opened"),
    BidStatus.REVOKED: N_("Revoked"),
    BidStatus.REJECTED: N_("Rejected"),
}

# --- Records ---------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Upload:
    id: str
    tender_id: int
    organisation_id: int
    user_id: int
    length: int
    received: int
    created_at: dt.datetime
    sha256: bytes | None
    bid_id: int | None
    terminated_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class Bid:
    id: int
    tender_id: int
    lot: int
    slot: str
    organisation_id: int
    organisation_name: str
    credit_code: str
    key_id: int
    statement: bytes
    statement_sha256: bytes
    envelope_sha256: bytes
    envelope_size: int
    submitted_by: int
    submitted_at: dt.datetime
    event_id: int
    status: BidStatus
    replaced_by: int | None
    ended_at: dt.datetime | None
    ended_event_id: int | None
    outcome_reason: str | None
    #: The bidder's name in English, for English readers of the opening hall.
    organisation_name_en: str | None = None

    @property
    def reference(self) -> str:
        """The bid as people see it (:func:`bid_reference`)."""
        return bid_reference(self.id)


#: Crockford's base32: digits and capitals without I, L, O and U, so that a reference read aloud or copied by hand
#: is not mistaken for another.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Characters of a bid's reference, and how many make a group.
REFERENCE_LENGTH = 12
REFERENCE_GROUP = 4


def bid_reference(bid_id: int) -> str:
    """How people see a bid, everywhere: 12 characters in groups of four, such as ``7KQ4-M2XD-9PVA``.

    They write the id's low 60 bits. Ids are random (63 bits), so the reference says nothing of how many bids there
    are; two bids of a tender would share one with a chance of 2^-60 per pair, and the API names bids by id anyway.
    """
    value = bid_id & ((1 << (5 * REFERENCE_LENGTH)) - 1)
    characters = "".join(
        _REFERENCE_ALPHABET[(value >> shift) & 31] for shift in range(5 * (REFERENCE_LENGTH - 1), -5, -5)
    )
    groups = range(0, REFERENCE_LENGTH, REFERENCE_GROUP)
    return "-".join(characters[start : start + REFERENCE_GROUP] for start in groups)


def bid_id_text(bid_id: int) -> str:
    """A bid's id as JSON carries it, in the log's entries, the opening record and the hall's messages: decimal text.

    Ids are random 63-bit numbers, beyond the 2^53 that JSON numbers hold exactly for most readers: RFC 8785's
    canonical form (which the log's entries take) refuses them, and a browser would round them to another bid's id.
    """
    return str(bid_id)


class TusError(InvalidInput):
    """A tus request header is missing or malformed (400, as the protocol asks)."""

    status_code = 400
    code = "invalid-upload-request"
    title = N_("The upload request is not valid")


def parse_upload_length(raw: str | None) -> int:
    """``Upload-Length``: the envelope's size, never 0 (an age file has a header at the very least)."""
    length = parse_length(raw, "Upload-Length")
    if length == 0:
        raise TusError(
            errors={"Upload-Length": N_("An envelope is never empty: seal the bid, then upload the sealed file.")}
        )
    return length


def parse_length(raw: str | None, header: str) -> int:
    """A non-negative integer header (``Upload-Length``, ``Upload-Offset``); raises :class:`TusError`."""
    if raw is None or not re.fullmatch(r"0|[1-9][0-9]{0,15}", raw.strip()):
        raise TusError(errors={header: N_("The %(header)s header must be a whole number of bytes.", header=header)})
    return int(raw)


def parse_metadata(raw: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs (values may be absent)."""
    if raw is None or not raw.strip():
        return {}
    if len(raw) > MAX_METADATA:
        raise TusError(N_("Upload-Metadata is longer than %(size)d characters.", size=MAX_METADATA))
    metadata = {}
    for pair in raw.split(","):
        key, _, value = pair.strip().partition(" ")
        if not re.fullmatch(r"[\x21-\x2b\x2d-\x7e]+", key) or key in metadata:
            raise TusError(N_("Upload-Metadata keys must be distinct and printable without spaces or commas."))
        decoded = base64_bytes(value.strip())
        try:
            metadata[key] = decoded.decode("utf-8") if decoded is not None else ""
        except UnicodeDecodeError:
            decoded = None
        if decoded is None:
            raise TusError(N_("Upload-Metadata values must be base64 of UTF-8 text."))
    return metadata


@dataclasses.dataclass(frozen=True, slots=True)
class Checksum:
    """A tus ``Upload-Checksum``: a hashlib algorithm name and the digest the request's bytes must have."""

    algorithm: str
    digest: bytes


def parse_checksum(raw: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>``; an unknown algorithm is the caller's 400."""
    if raw is None:
        return None
    algorithm, _, value = raw.strip().partition(" ")
    size = TUS_CHECKSUMS.get(algorithm)
    if size is None:
        raise TusError(N_("Upload-Checksum algorithms supported: %(names)s.", names=", ".join(TUS_CHECKSUMS)))
    digest = base64_bytes(value.strip())
    if digest is None or len(digest) != size:
        raise TusError(N_("The Upload-Checksum digest must be base64 of %(size)d bytes.", size=size))
    return Checksum(algorithm, digest)


def check_envelope_header(start: bytes) -> age.Header:
    """The envelope's age header, if it can be a sealed bid: age v1, only post-quantum stanzas, 1 to 8 of them.

    Post-quantum stanzas do not name their recipient (ML-KEM ciphertexts are anonymous), so whether one is for
    the tender's opening recipient is known only at the opening; what can be refused now is refused now.
    Raises :class:`InvalidInput`.
    """
    try:
        header = age.read_header(start, armored=False)
    except age.AgeError:
        raise InvalidInput(
            errors={"upload": N_("The upload is not an age-encrypted file: seal the bid before sending it.")}
        ) from None
    kinds = {stanza.type for stanza in header.stanzas}
    if kinds != {"mlkem768x25519"} or len(header.stanzas) > MAX_STANZAS:
        raise InvalidInput(
            errors={
                "upload": N_(
                    "The envelope must be sealed only to post-quantum recipients (mlkem768x25519): "
                    "the tender's opening recipient and your own."
                )
            }
        )
    return header


def check_statement_fits(
    statement: Statement,
    *,
    reference: str,
    lots: set[int],
    credit_code: str,
    upload_sha256: bytes,
    upload_size: int,
) -> int:
    """The lot number, if the statement names this tender, one of its lots, the bidder's organisation, and
    exactly the uploaded envelope; raises :class:`InvalidInput` naming what differs."""
    errors = {}
    if statement.tender != reference:
        errors["statement"] = N_(
            "The statement is for tender %(other)s, not %(this)s.", other=statement.tender, this=reference
        )
    elif parse_id(statement.lot) not in lots:
        errors["statement"] = N_("The statement names lot %(lot)s, which this tender does not have.", lot=statement.lot)
    elif statement.bidder != credit_code:
        errors["statement"] = N_("The statement names another bidder than your organisation.")
    elif statement.envelope_size != upload_size:
        errors["statement"] = N_(
            "The statement says the envelope has %(said)d bytes; %(got)d were uploaded.",
            said=statement.envelope_size,
            got=upload_size,
        )
    elif statement.envelope_sha256 != upload_sha256:
        errors["statement"] = N_(
            "The statement's SHA-256 is not the uploaded envelope's: it was changed or is another."
        )
    if errors:
        raise InvalidInput(errors=errors)
    return int(statement.lot)


def check_before_deadline(now: dt.datetime, deadline: dt.datetime) -> None:
    """Bids are taken until the deadline by the database clock, not one microsecond after."""
    if now >= deadline:
        raise InvalidTransition(N_("The deadline has passed: bids are no longer accepted."))


def receipt_subject(tender_id: int) -> str:
    return f"tender:{tender_id}"


def public_statement_fields(statement: Statement) -> Mapping[str, object]:
    """What a bid event records of its statement (in the private record: bids are sealed actions)."""
    return {
        "tender": statement.tender,
        "lot": statement.lot,
        "bidder": statement.bidder,
        "slot": statement.slot,
        "envelope_sha256": statement.envelope_sha256.hex(),
        "envelope_size": statement.envelope_size,
    }
