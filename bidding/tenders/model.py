"""Tenders as people give them and as they are stored, their lifecycle, its time rules, and amendments (what a
valid tender is: :mod:`bidding.tenders.validation`; who may run or see one: :mod:`bidding.tenders.policy`).

Plain data, plain functions and small state machines; no I/O. Times come in as arguments (the service reads them
from the database clock, the only clock that decides); every refusal is an :class:`InvalidTransition` or
:class:`InvalidInput` naming the rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

import msgspec

from bidding.errors import InvalidInput, InvalidTransition
from bidding.i18n import N_, Message
from bidding.inputs import RowId
from bidding.settings import TimeRules
from crypto.canonical import canonical_json


class Category(StrEnum):
    WORKS = "works"
    GOODS = "goods"
    SERVICES = "services"
    LAND_USE = "land_use"
    STATE_PROPERTY = "state_property"


class Procedure(StrEnum):
    OPEN = "open"
    INVITED = "invited"


class Method(StrEnum):
    LOWEST_PRICE = "lowest_price"
    COMPREHENSIVE = "comprehensive"


class Status(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    OPENING = "opening"
    OPENED = "opened"
    EVALUATION = "evaluation"
    EVALUATED = "evaluated"
    PUBLICISED = "publicised"
    AWARDED = "awarded"
    FAILED = "failed"
    CANCELLED = "cancelled"


CATEGORY_NAMES: Mapping[Category, Message] = {
    Category.WORKS: N_("Construction works"),
    Category.GOODS: N_("Goods"),
    Category.SERVICES: N_("Services"),
    Category.LAND_USE: N_("Land-use rights"),
    Category.STATE_PROPERTY: N_("State-owned property rights"),
}
PROCEDURE_NAMES: Mapping[Procedure, Message] = {
    Procedure.OPEN: N_("Open tendering"),
    Procedure.INVITED: N_("Invited tendering"),
}
METHOD_NAMES: Mapping[Method, Message] = {
    Method.LOWEST_PRICE: N_("Lowest evaluated price"),
    Method.COMPREHENSIVE: N_("Comprehensive scoring"),
}
STATUS_NAMES: Mapping[Status, Message] = {
    Status.DRAFT: N_("Draft"),
    Status.PUBLISHED: N_("Open for bids"),
    Status.CLOSED: N_("Bidding closed"),
    Status.OPENING: N_("Opening"),
    Status.OPENED: N_("Opened"),
    Status.EVALUATION: N_("Under evaluation"),
    Status.EVALUATED: N_("Evaluated"),
    Status.PUBLICISED: N_("Candidates publicised"),
    Status.AWARDED: N_("Awarded"),
    Status.FAILED: N_("Failed"),
    Status.CANCELLED: N_("Cancelled"),
}

# --- Limits ---------------------------------------------------------------------------------------------------

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 20_000
MAX_LOTS = 50
MAX_CRITERIA = 60
#: Amounts: at most two decimals (fen), positive, below a hundred trillion.
MAX_AMOUNT = Decimal("99999999999999.99")
MAX_QUESTION_LENGTH = 2000
MAX_ANSWER_LENGTH = 5000
MAX_REASON_LENGTH = 1000
MAX_CUSTODIANS = 16
#: An invited tender invites at least three bidders (Tendering and Bidding Law, art. 17).
MIN_INVITED = 3
MAX_INVITED = 100
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{2,63}")
MAX_CONTACT_NAME_LENGTH = 50
MAX_TELEPHONE_LENGTH = 40
#: The longest address a mail path can carry (RFC 5321, 4.5.3.1.3).
MAX_EMAIL_LENGTH = 254
#: A telephone number as people write one in China: an optional "+", digits in groups separated by spaces or
#: hyphens, an area code perhaps in brackets, and an optional extension ("转 801", "ext. 801").
TELEPHONE_PATTERN = re.compile(r"\+?\(?[0-9][0-9 ()-]*[0-9](?:\s*(?:转|ext\.?|x)\s*[0-9]{1,6})?", re.IGNORECASE)
#: Digits of a telephone number without its extension: a local number has 7, E.164 allows 15 in all.
TELEPHONE_DIGITS = (7, 15)
#: An e-mail address as people give one: a dot-atom local part (RFC 5322) at a domain with a top-level name.
EMAIL_PATTERN = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)

# --- Inputs ---------------------------------------------------------------------------------------------------


class LocalText(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A text in Chinese and/or English: at least one of them."""

    zh: str = ""
    en: str = ""


class PriceFormula(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How price points are computed, as data.

    ``lowest_price_ratio``: lowest valid price ÷ bid price × the criterion's points (government procurement).
    ``benchmark_deviation``: the criterion's points less ``deduct_above`` per 1 % above the benchmark and
    ``deduct_below`` per 1 % below it, never below zero; the benchmark is the ``average`` or ``lowest`` valid price.
    """

    type: Literal["lowest_price_ratio", "benchmark_deviation"]
    benchmark: Literal["average", "lowest"] | None = None
    deduct_above: str | None = None
    deduct_below: str | None = None


class Criterion(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: LocalText
    #: Points as a decimal string; ``None`` for a pass/fail check (lowest evaluated price).
    points: str | None = None
    kind: Literal["subjective", "objective", "price", "check"] = "subjective"
    formula: PriceFormula | None = None
    children: list[Criterion] = []


class LotInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    number: int
    title: LocalText
    budget: str
    bid_security: str = "0"
    method: Method = Method.COMPREHENSIVE
    criteria: list[Criterion] = []


class Contact(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Whom bidders ask about a tender: a notice names a contact person and how to reach them (Measures on
    Publishing Tender Notices and Publicity Information, art. 5)."""

    name: str = ""
    telephone: str = ""
    email: str = ""


class Specialty(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    specialty: str
    count: int


class TenderInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A tender as an agency drafts it (pages and API alike)."""

    title: LocalText
    description: LocalText
    category: Category
    procedure: Procedure
    purchaser_id: RowId
    region: str
    lots: list[LotInput]
    documents_from: dt.datetime
    questions_until: dt.datetime
    deadline: dt.datetime
    evaluation_at: dt.datetime
    committee_size: int = 5
    specialties: list[Specialty] = []
    custodian_ids: list[RowId] = []
    custody_threshold: int = 2
    #: The bidder organisations invited, for an invited tender (at least three); none for an open one.
    invited_ids: list[RowId] = []
    currency: str = "CNY"
    reference: str | None = None
    #: The contact person of the organisation running the tender: name, telephone and e-mail, all three needed
    #: before publication (a draft may be saved without them).
    contact: Contact = Contact()
    #: The purchaser's own contact person, if the notice gives one: a name and a telephone at least.
    purchaser_contact: Contact = Contact()


# --- Records: tenders as stored -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Party:
    id: int
    name: str
    name_en: str | None
    credit_code: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Lot:
    number: int
    title: LocalText
    budget: Decimal
    bid_security: Decimal
    method: Method
    #: The criteria tree as stored (the shape of :class:`bidding.tenders.model.Criterion`).
    criteria: list[dict[str, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class Tender:
    id: int
    reference: str
    status: Status
    category: Category
    procedure: Procedure
    region: str
    currency: str
    budget: Decimal
    title: LocalText
    description: LocalText
    documents_from: dt.datetime
    questions_until: dt.datetime
    deadline: dt.datetime
    evaluation_at: dt.datetime
    committee_size: int
    specialties: list[dict[str, Any]]
    custody_threshold: int
    custodian_ids: tuple[int, ...]
    invited_ids: tuple[int, ...]
    version: int
    agency: Party
    purchaser: Party
    created_by: int
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    lots: tuple[Lot, ...]
    #: The contact persons the notice names: the running organisation's, and the purchaser's (empty if none).
    contact: Contact
    purchaser_contact: Contact


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentVersion:
    id: int
    tender_id: int
    name: str
    version: int
    sha256: bytes
    size: int
    content_type: str
    uploaded_at: dt.datetime
    #: Whether this is the newest version of its name.
    current: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Amendment:
    version: int
    summary: str
    substantive: bool
    changes: dict[str, Any]
    deadline_before: dt.datetime
    deadline_after: dt.datetime
    deadline_pushed: bool
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Registration:
    organisation_id: int
    organisation_name: str
    credit_code: str | None
    registered_at: dt.datetime
    organisation_name_en: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Question:
    id: int
    pseudonym: str
    question: str
    asked_at: dt.datetime
    #: The answer as first published (corrections do not change it: they are kept beside it).
    answer: str | None
    answered_at: dt.datetime | None
    #: The asking organisation: shown to supervisors only, never in public or to the agency.
    organisation_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class Correction:
    id: int
    question_id: int
    answer: str
    corrected_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Person:
    id: int
    display_name: str
    organisation_name: str | None
    login: str = ""
    display_name_en: str | None = None
    organisation_name_en: str | None = None


#: The fields of :class:`TenderInput` that the record holds as they were given; :func:`tender_input` gives the others.
_GIVEN_AS_STORED = tuple(
    field
    for field in TenderInput.__struct_fields__
    if field in Tender.__dataclass_fields__ and field not in ("lots", "specialties", "custodian_ids", "invited_ids")
)


def tender_input(tender: Tender) -> TenderInput:
    """A stored tender as the input that would make it: to fill the edit and amend forms, and to compare."""
    return TenderInput(
        **{field: getattr(tender, field) for field in _GIVEN_AS_STORED},
        purchaser_id=tender.purchaser.id,
        lots=[
            LotInput(
                number=lot.number,
                title=lot.title,
                budget=str(lot.budget),
                bid_security=str(lot.bid_security),
                method=lot.method,
                criteria=msgspec.convert(lot.criteria, list[Criterion]),
            )
            for lot in tender.lots
        ],
        specialties=msgspec.convert(tender.specialties, list[Specialty]),
        custodian_ids=list(tender.custodian_ids),
        invited_ids=list(tender.invited_ids),
    )


def tender_budget(tender: TenderInput) -> Decimal:
    """A tender's budget: what its lots' budgets add up to (validated amounts)."""
    return sum((Decimal(lot.budget) for lot in tender.lots), Decimal(0))


def digest(value: Any) -> str:
    """The SHA-256 of a value's canonical JSON: what audit events carry instead of the value (a tender's
    :func:`snapshot`, a question, a reason)."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


# --- Publication and the clock --------------------------------------------------------------------------------


def check_publication(
    documents_from: dt.datetime, deadline: dt.datetime, now: dt.datetime, rules: TimeRules
) -> dt.datetime:
    """When the documents become available if the tender is published at ``now``; raises InvalidTransition.

    Documents "available from" a past moment become available now, and the bidding period is counted from then.
    """
    if deadline <= now:
        raise InvalidTransition(N_("The bid deadline has passed."))
    documents_from = max(documents_from, now)
    if deadline - documents_from < dt.timedelta(days=rules.bidding_days):
        raise InvalidTransition(
            N_(
                "Published now, bidders would have less than %(days)d days before the deadline.",
                days=rules.bidding_days,
            )
        )
    return documents_from


def effective_status(status: Status, deadline: dt.datetime | None, now: dt.datetime) -> Status:
    """The status as people see it: a published tender whose deadline has passed is closed."""
    if status is Status.PUBLISHED and deadline is not None and now >= deadline:
        return Status.CLOSED
    return status


#: Every transition the lifecycle allows (DESIGN §4), by action.
TRANSITIONS: Mapping[Status, Mapping[str, Status]] = {
    Status.DRAFT: {"publish": Status.PUBLISHED, "cancel": Status.CANCELLED},
    Status.PUBLISHED: {"close": Status.CLOSED, "cancel": Status.CANCELLED},
    Status.CLOSED: {"start_opening": Status.OPENING, "cancel": Status.CANCELLED, "fail": Status.FAILED},
    Status.OPENING: {"finish_opening": Status.OPENED, "fail": Status.FAILED},
    Status.OPENED: {"start_evaluation": Status.EVALUATION, "fail": Status.FAILED, "cancel": Status.CANCELLED},
    Status.EVALUATION: {"finish_evaluation": Status.EVALUATED, "fail": Status.FAILED},
    Status.EVALUATED: {"publicise": Status.PUBLICISED, "fail": Status.FAILED},
    Status.PUBLICISED: {"award": Status.AWARDED, "fail": Status.FAILED},
    Status.AWARDED: {},
    Status.FAILED: {},
    Status.CANCELLED: {},
}
ACTION_NAMES: Mapping[str, Message] = {
    "publish": N_("publish"),
    "cancel": N_("cancel"),
    "close": N_("close"),
    "start_opening": N_("start the opening"),
    "finish_opening": N_("finish the opening"),
    "start_evaluation": N_("start the evaluation"),
    "finish_evaluation": N_("finish the evaluation"),
    "publicise": N_("publicise the candidates"),
    "award": N_("award"),
    "fail": N_("declare the tender failed"),
}

#: Said of an action the lifecycle does not know.
UNKNOWN_ACTION = N_("do that")


@dataclasses.dataclass(frozen=True, slots=True)
class Clock:
    """The moments a transition depends on: now (the database's), the deadline, the publicity start."""

    now: dt.datetime
    deadline: dt.datetime | None = None
    publicised_at: dt.datetime | None = None


def transition(status: Status, action: str, clock: Clock, rules: TimeRules) -> Status:
    """The status after ``action``, or :class:`InvalidTransition` saying why it cannot happen now.

    A published tender is closed from its deadline on, whether or not "close" was recorded; recording it is
    the one action judged on the stored status rather than the effective one.
    """
    if action == "close" and status is Status.PUBLISHED:
        if clock.deadline is None or clock.now < clock.deadline:
            raise InvalidTransition(N_("Bidding closes at the deadline, not before."))
        return Status.CLOSED
    current = effective_status(status, clock.deadline, clock.now)
    target = TRANSITIONS[current].get(action)
    if target is None:
        raise InvalidTransition(
            N_(
                "A tender that is “%(status)s” cannot %(action)s.",
                status=STATUS_NAMES[current],
                action=ACTION_NAMES.get(action, UNKNOWN_ACTION),
            )
        )
    if action == "start_opening" and (clock.deadline is None or clock.now < clock.deadline):
        raise InvalidTransition(N_("The opening starts at the deadline, not before."))
    publicity_ends = clock.publicised_at + dt.timedelta(days=rules.publicity_days) if clock.publicised_at else None
    if action == "award" and (publicity_ends is None or clock.now < publicity_ends):
        raise InvalidTransition(
            N_("Candidates stay publicised at least %(days)d days before the award.", days=rules.publicity_days)
        )
    return target


# --- Amendments -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class AmendmentPlan:
    #: The deadline after the amendment: the proposed one, or later if the notice period requires it.
    deadline: dt.datetime
    #: Whether the deadline was pushed out by the notice period rather than chosen.
    pushed: bool


def plan_amendment(
    *,
    status: Status,
    current_deadline: dt.datetime,
    proposed_deadline: dt.datetime,
    substantive: bool,
    now: dt.datetime,
    rules: TimeRules,
) -> AmendmentPlan:
    """Where the deadline goes after an amendment; raises :class:`InvalidTransition` if none can be made now.

    Amendments are possible until the deadline. A substantive one (it changes how bids are prepared) made less
    than ``amendment_notice_days`` before the deadline moves the deadline to the first moment that many days
    after now, at the deadline's own time of day.
    """
    if effective_status(status, current_deadline, now) is not Status.PUBLISHED:
        raise InvalidTransition(N_("A tender can be amended only while it is open for bids, before the deadline."))
    if proposed_deadline <= now:
        raise InvalidTransition(N_("The new deadline must be in the future."))
    if not substantive:
        return AmendmentPlan(proposed_deadline, pushed=False)
    earliest = now + dt.timedelta(days=rules.amendment_notice_days)
    if proposed_deadline >= earliest:
        return AmendmentPlan(proposed_deadline, pushed=False)
    pushed = earliest.replace(hour=proposed_deadline.hour, minute=proposed_deadline.minute, second=0, microsecond=0)
    if pushed < earliest:
        pushed += dt.timedelta(days=1)
    return AmendmentPlan(pushed, pushed=True)


#: What may not change once a tender is published: bidders registered and custodians were chosen under them.
FIXED_AFTER_PUBLICATION = (
    "reference",
    "category",
    "procedure",
    "purchaser_id",
    "currency",
    "documents_from",
    "custodian_ids",
    "custody_threshold",
    "invited_ids",
)
#: Changes under these keys of :func:`snapshot` always affect how bids are prepared.
SUBSTANTIVE_PREFIXES = ("lots.", "documents.")


def snapshot(tender: TenderInput) -> dict[str, Any]:
    """A tender's terms as one flat mapping of JSON values, one key per thing a person would name.

    Amendments list what changed by comparing two snapshots (:func:`diff`); audit events carry the SHA-256 of
    its canonical JSON. Times are in UTC, amounts and points already normalised by :func:`validate_tender`.
    """

    def moment(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).isoformat()

    view: dict[str, Any] = {
        "reference": tender.reference,
        "title.zh": tender.title.zh,
        "title.en": tender.title.en,
        "description.zh": tender.description.zh,
        "description.en": tender.description.en,
        "category": str(tender.category),
        "procedure": str(tender.procedure),
        "purchaser_id": tender.purchaser_id,
        "region": tender.region,
        "currency": tender.currency,
        "documents_from": moment(tender.documents_from),
        "questions_until": moment(tender.questions_until),
        "deadline": moment(tender.deadline),
        "evaluation_at": moment(tender.evaluation_at),
        "committee_size": tender.committee_size,
        "specialties": msgspec.to_builtins(tender.specialties),
        "custodian_ids": list(tender.custodian_ids),
        "custody_threshold": tender.custody_threshold,
        "invited_ids": sorted(tender.invited_ids),
    }
    for field, contact in (("contact", tender.contact), ("purchaser_contact", tender.purchaser_contact)):
        view |= {f"{field}.{part}": getattr(contact, part) for part in ("name", "telephone", "email")}
    for lot in tender.lots:
        prefix = f"lots.{lot.number}"
        view |= {
            f"{prefix}.title.zh": lot.title.zh,
            f"{prefix}.title.en": lot.title.en,
            f"{prefix}.budget": lot.budget,
            f"{prefix}.bid_security": lot.bid_security,
            f"{prefix}.method": str(lot.method),
            f"{prefix}.criteria": msgspec.to_builtins(lot.criteria),
        }
    return view


def check_amendment(published: TenderInput, amended: TenderInput) -> None:
    """Refuse changes to what is fixed at publication (:data:`FIXED_AFTER_PUBLICATION`)."""
    before, after = snapshot(published), snapshot(amended)
    errors = {
        field: N_("This cannot change after publication; cancel the tender and publish a new one instead.")
        for field in FIXED_AFTER_PUBLICATION
        if before[field] != after[field]
    }
    if errors:
        raise InvalidInput(errors=errors)


def is_substantive(changes: Mapping[str, Mapping[str, object]], *, declared: bool) -> bool:
    """Whether an amendment affects how bids are prepared: as the agency declares, and always when it changes a
    lot or a document, or brings the deadline forward."""
    if declared or any(key.startswith(SUBSTANTIVE_PREFIXES) for key in changes):
        return True
    deadline = changes.get("deadline")
    return deadline is not None and str(deadline["after"]) < str(deadline["before"])


def diff(before: Mapping[str, object], after: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """What changed between two public views of a tender: ``{field: {"before": …, "after": …}}``."""
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


#: The two-letter codes of generated references, by category: 工程, 货物, 服务, 土地, 产权.
REFERENCE_CODES: Mapping[Category, str] = {
    Category.WORKS: "GC",
    Category.GOODS: "HW",
    Category.SERVICES: "FW",
    Category.LAND_USE: "TD",
    Category.STATE_PROPERTY: "CQ",
}


def make_reference(category: Category, year: int, serial: int) -> str:
    """A reference such as ``GC-2026-00017``, for a tender drafted without one."""
    return f"{REFERENCE_CODES[category]}-{year}-{serial:05d}"
