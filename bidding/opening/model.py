"""The rules of the opening: what each bid's line of the record (唱标) says, whose fault a failure is, and the
signed opening record.

Measures for Electronic Bidding (电子招标投标办法) art. 31: a bid that cannot be decrypted through the bidder's
own fault is treated as revoked (撤销); through any other cause, as withdrawn (撤回).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from bidding.rooms.model import room_name
from bidding.tenders.model import Status
from crypto.canonical import canonical_json
from crypto.note import Signer, sign_note
from crypto.statement import Manifest

RECORD_FORMAT = "bidding/opening-record/v1"
SIGNATURE_FORMAT = "bidding/opening-record-signature/v1"
#: Longest objection to a line, and longest answer to one.
MAX_OBJECTION = 2000

#: The kind of room the opening halls are (:mod:`bidding.rooms`): tender 42's hall is the room ``opening/42``.
HALL_ROOM_KIND = "opening"

OPENED = "opened"
REVOKED = "revoked"
WITHDRAWN = "withdrawn"


def opened_line(bid: Mapping[str, Any], manifest: Manifest) -> dict[str, Any]:
    """The line read out for a bid that opened: bidder, lot, slot, and its price sheet."""
    sheet = manifest.price_sheet
    return {
        **bid,
        "outcome": OPENED,
        "currency": sheet.currency,
        "total": sheet.total,
        "duration_days": sheet.duration_days,
        "bid_security": sheet.bid_security,
        "remarks": sheet.remarks,
    }


def failed_line(bid: Mapping[str, Any], *, bidders_fault: bool, reason: str) -> dict[str, Any]:
    """The line of a bid that did not open: revoked if through the bidder's fault, else withdrawn (art. 31)."""
    return {**bid, "outcome": REVOKED if bidders_fault else WITHDRAWN, "reason": reason}


def opening_record(reference: str, opened_at: str, lines: Sequence[Mapping[str, Any]]) -> bytes:
    """The opening record as canonical JSON: the tender, when it was opened, and every line in order."""
    return canonical_json({"format": RECORD_FORMAT, "tender": reference, "opened_at": opened_at, "lines": list(lines)})


def sign_record(record: bytes, signer: Signer) -> bytes:
    """The platform's signature of a record: a signed note over its SHA-256, checkable with ``/log/key``."""
    return sign_note(f"{SIGNATURE_FORMAT}\nsha256 {hashlib.sha256(record).hexdigest()}\n", [signer])


def hall_room(tender_id: int) -> str:
    """The name of a tender's opening hall as a room."""
    return room_name(HALL_ROOM_KIND, tender_id)


class HallPhase(StrEnum):
    """Where a tender's opening stands, as the hall's status line says it."""

    BEFORE_DEADLINE = "before_deadline"
    #: The deadline has passed; the agency has not started the opening.
    NOT_STARTED = "not_started"
    #: Started: the custodians' shares are awaited, k of them.
    SHARES = "shares"
    #: The key is rebuilt: the bids are being decrypted and read out.
    DECRYPTING = "decrypting"
    #: The record is signed, the bids opened with the rebuilt key.
    FINISHED = "finished"
    #: The record is signed without the key ever rebuilt: bids opened with their bidders' file keys, or withdrawn.
    CLOSED_WITHOUT_KEY = "closed_without_key"
    CANCELLED = "cancelled"


@dataclasses.dataclass(frozen=True, slots=True)
class OpeningTimes:
    """When the opening started, its key was rebuilt and its record signed (``None`` for what has not happened)."""

    started_at: dt.datetime | None
    key_rebuilt_at: dt.datetime | None
    finished_at: dt.datetime | None


def hall_phase(status: Status, times: OpeningTimes) -> HallPhase:
    """The phase of a tender's opening, from the tender's status as of now and its opening's times."""
    if status is Status.CANCELLED:
        return HallPhase.CANCELLED
    if times.finished_at is not None:
        return HallPhase.FINISHED if times.key_rebuilt_at is not None else HallPhase.CLOSED_WITHOUT_KEY
    if times.key_rebuilt_at is not None:
        return HallPhase.DECRYPTING
    if times.started_at is not None:
        return HallPhase.SHARES
    return HallPhase.BEFORE_DEADLINE if status in (Status.DRAFT, Status.PUBLISHED) else HallPhase.NOT_STARTED


@dataclasses.dataclass(frozen=True, slots=True)
class RecordLine:
    """A line of a signed record as the public reads it: who bid on which lot, and what was read out."""

    position: int
    bidder: str
    credit_code: str | None
    lot: int
    #: :data:`OPENED`, :data:`REVOKED` or :data:`WITHDRAWN`.
    outcome: str
    currency: str | None = None
    total: str | None = None
    duration_days: int | None = None
    bid_security: str | None = None
    remarks: str = ""
    #: Why a bid that did not open did not, in the record's words.
    reason: str = ""


def record_lines(record: bytes) -> list[RecordLine]:
    """The lines of a record made by :func:`opening_record`, in their order."""
    lines = json.loads(record)["lines"]
    return [
        RecordLine(
            position=line["position"],
            bidder=line["bidder"],
            credit_code=line.get("credit_code"),
            lot=line["lot"],
            outcome=line["outcome"],
            currency=line.get("currency"),
            total=line.get("total"),
            duration_days=line.get("duration_days"),
            bid_security=line.get("bid_security"),
            remarks=line.get("remarks") or "",
            reason=line.get("reason") or "",
        )
        for line in lines
    ]
