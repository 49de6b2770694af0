"""What a valid tender is: its inputs checked and normalised, documents' names and kinds, questions, free text.

Plain functions over the inputs of :mod:`bidding.tenders.model`; no I/O. Every refusal is an
:class:`InvalidInput` (listing every problem of the input at once) or :class:`InvalidTransition` naming the rule.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import msgspec

from bidding.errors import InvalidInput, InvalidTransition
from bidding.i18n import N_, Message
from bidding.settings import TimeRules
from bidding.tenders.model import (
    EMAIL_PATTERN,
    MAX_AMOUNT,
    MAX_CONTACT_NAME_LENGTH,
    MAX_CRITERIA,
    MAX_CUSTODIANS,
    MAX_DESCRIPTION_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_INVITED,
    MAX_LOTS,
    MAX_QUESTION_LENGTH,
    MAX_TELEPHONE_LENGTH,
    MAX_TITLE_LENGTH,
    MIN_INVITED,
    REFERENCE_PATTERN,
    TELEPHONE_DIGITS,
    TELEPHONE_PATTERN,
    Contact,
    Criterion,
    LocalText,
    LotInput,
    Method,
    PriceFormula,
    Procedure,
    Status,
    TenderInput,
)

# --- Validation -----------------------------------------------------------------------------------------------


def parse_amount(raw: str, *, allow_zero: bool = False) -> Decimal:
    """A money amount: a decimal string with at most two decimals; raises ``ValueError`` with a reason."""
    try:
        amount = Decimal(raw)
    except (InvalidOperation, TypeError):
        raise ValueError("not a number") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2:  # type: ignore[operator]  # a finite Decimal's exponent is an int
        raise ValueError("too many decimals")
    if amount < 0 or (amount == 0 and not allow_zero) or amount > MAX_AMOUNT:
        raise ValueError("out of range")
    return amount.quantize(Decimal("0.01"))


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).strip()
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")


def clean_local_text(value: LocalText) -> LocalText:
    return LocalText(_clean(value.zh), _clean(value.en))


class _Errors:
    """Collects every problem of an input, so a form shows them all at once."""

    def __init__(self) -> None:
        self.found: dict[str, Message] = {}

    def add(self, field: str, message: Message) -> None:
        self.found.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidInput(errors=self.found)


def _check_local_text(errors: _Errors, field: str, value: LocalText, maximum: int, *, required: bool = True) -> None:
    if required and not (value.zh or value.en):
        errors.add(field, N_("Give the text in Chinese, English or both."))
    for language, text in (("zh", value.zh), ("en", value.en)):
        if len(text) > maximum:
            errors.add(f"{field}.{language}", N_("This can have at most %(count)d characters.", count=maximum))


def _clean_contact(contact: Contact) -> Contact:
    """A contact with each value on one line, its spaces collapsed."""
    return Contact(*(" ".join(_clean(value).split()) for value in (contact.name, contact.telephone, contact.email)))


def _check_contact(errors: _Errors, field: str, contact: Contact) -> None:
    if len(contact.name) > MAX_CONTACT_NAME_LENGTH:
        errors.add(f"{field}.name", N_("This can have at most %(count)d characters.", count=MAX_CONTACT_NAME_LENGTH))
    if contact.telephone:
        main = re.split(r"转|ext|x", contact.telephone, maxsplit=1, flags=re.IGNORECASE)[0]
        digits = sum(c.isdigit() for c in main)
        low, high = TELEPHONE_DIGITS
        if (
            len(contact.telephone) > MAX_TELEPHONE_LENGTH
            or not TELEPHONE_PATTERN.fullmatch(contact.telephone)
            or not low <= digits <= high
        ):
            errors.add(
                f"{field}.telephone",
                N_("Give a telephone number such as 0512-6888 1234 or 138 1234 5678, with an extension if needed."),
            )
    if contact.email and (len(contact.email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.fullmatch(contact.email)):
        errors.add(f"{field}.email", N_("Give an e-mail address such as zhang.wei@example.com."))


def missing_contact(contact: Contact) -> list[str]:
    """What a published notice's contact still lacks, by field: name, telephone and e-mail are all needed."""
    return [field for field in ("name", "telephone", "email") if not getattr(contact, field)]


def check_contact_given(contact: Contact) -> None:
    """Refuse a published notice without its full contact (the notice must name one, art. 5 of the Measures on
    Publishing Tender Notices): raises :class:`InvalidInput` naming each missing value."""
    missing = missing_contact(contact)
    if missing:
        message = N_("A published notice names its contact person with a telephone number and an e-mail address.")
        raise InvalidInput(errors={f"contact.{field}": message for field in missing})


def _check_amount(errors: _Errors, field: str, raw: str, *, allow_zero: bool = False) -> Decimal | None:
    try:
        return parse_amount(raw, allow_zero=allow_zero)
    except ValueError as error:
        if str(error) == "too many decimals":
            errors.add(field, N_("Amounts have at most two decimals (fen)."))
        else:
            errors.add(field, N_("Give an amount greater than zero, such as 1250000.00."))
        return None


def _points(errors: _Errors, field: str, raw: str | None) -> Decimal | None:
    try:
        points = Decimal(raw or "")
    except InvalidOperation:
        errors.add(field, N_("Give the points as a number."))
        return None
    if not points.is_finite() or points <= 0 or points > 100 or points.as_tuple().exponent < -2:  # type: ignore[operator]  # a finite Decimal's exponent is an int
        errors.add(field, N_("Points are between 0 and 100, with at most two decimals."))
        return None
    return points


def _check_criteria(errors: _Errors, field: str, lot: LotInput) -> None:
    criteria = lot.criteria
    if len(criteria) + sum(len(c.children) for c in criteria) > MAX_CRITERIA:
        errors.add(field, N_("A lot can have at most %(count)d criteria.", count=MAX_CRITERIA))
        return
    for index, criterion in enumerate(criteria):
        _check_local_text(errors, f"{field}.{index}.name", criterion.name, MAX_TITLE_LENGTH)
    if lot.method is Method.LOWEST_PRICE:
        # Under the lowest evaluated price, criteria are pass/fail checks; the price decides.
        if any(c.points is not None or c.kind != "check" or c.children for c in criteria):
            errors.add(field, N_("Under the lowest evaluated price, criteria are pass/fail checks without points."))
        return
    if not criteria:
        errors.add(field, N_("Comprehensive scoring needs criteria with points."))
        return
    total = Decimal(0)
    prices = 0
    for index, criterion in enumerate(criteria):
        points = _points(errors, f"{field}.{index}.points", criterion.points)
        if points is None:
            return
        total += points
        if criterion.kind == "check":
            errors.add(f"{field}.{index}.kind", N_("Comprehensive scoring has no pass/fail criteria."))
        if criterion.kind == "price":
            prices += 1
            _check_formula(errors, f"{field}.{index}.formula", criterion.formula)
        elif criterion.formula is not None:
            errors.add(f"{field}.{index}.formula", N_("Only the price criterion has a formula."))
        if criterion.children:
            if criterion.kind == "price":
                errors.add(f"{field}.{index}", N_("The price criterion has no sub-criteria."))
            child_total = Decimal(0)
            for child_index, child in enumerate(criterion.children):
                name = f"{field}.{index}.children.{child_index}"
                _check_local_text(errors, f"{name}.name", child.name, MAX_TITLE_LENGTH)
                child_points = _points(errors, f"{name}.points", child.points)
                if child.kind in ("price", "check") or child.children or child.formula is not None:
                    errors.add(name, N_("Sub-criteria are scored subjectively or objectively, one level deep."))
                child_total += child_points or 0
            if child_total != points:
                errors.add(
                    f"{field}.{index}",
                    N_(
                        "Sub-criteria add up to %(sum)s points, not %(points)s.",
                        sum=str(child_total),
                        points=str(points),
                    ),
                )
    if prices != 1:
        errors.add(field, N_("Comprehensive scoring has exactly one price criterion."))
    if total != 100:
        errors.add(field, N_("The criteria add up to %(sum)s points; they must add up to 100.", sum=str(total)))


def _check_formula(errors: _Errors, field: str, formula: PriceFormula | None) -> None:
    if formula is None:
        errors.add(field, N_("The price criterion needs a formula."))
    elif formula.type == "benchmark_deviation":
        if formula.benchmark is None:
            errors.add(field, N_("Say whether the benchmark is the average or the lowest valid price."))
        for raw in (formula.deduct_above, formula.deduct_below):
            try:
                rate = Decimal(raw or "")
            except InvalidOperation:
                rate = Decimal(-1)
            if not rate.is_finite() or rate < 0 or rate > 100:
                errors.add(field, N_("Deductions are points per 1 % of deviation, between 0 and 100."))
                break
    elif formula.benchmark or formula.deduct_above or formula.deduct_below:
        errors.add(field, N_("The lowest-price ratio takes no benchmark or deductions."))


def validate_tender(unverified: TenderInput, rules: TimeRules) -> TenderInput:
    """Normalise a tender and check every rule that does not depend on the clock or on other records.

    Raises :class:`InvalidInput` listing every field that is wrong. The clock-dependent rules are in
    :func:`check_publication`.
    """
    errors = _Errors()
    tender = msgspec.structs.replace(
        unverified,
        title=clean_local_text(unverified.title),
        description=clean_local_text(unverified.description),
        region=_clean(unverified.region),
        reference=(_clean(unverified.reference) or None) if unverified.reference is not None else None,
        contact=_clean_contact(unverified.contact),
        purchaser_contact=_clean_contact(unverified.purchaser_contact),
        lots=[
            msgspec.structs.replace(lot, title=clean_local_text(lot.title), budget=lot.budget.strip())
            for lot in unverified.lots
        ],
    )
    _check_local_text(errors, "title", tender.title, MAX_TITLE_LENGTH)
    _check_local_text(errors, "description", tender.description, MAX_DESCRIPTION_LENGTH)
    if not 0 < len(tender.region) <= 100:
        errors.add("region", N_("Give the region, at most 100 characters."))
    if tender.reference is not None and not REFERENCE_PATTERN.fullmatch(tender.reference):
        errors.add("reference", N_("A reference has 3 to 64 letters, digits, “.”, “_”, “/” or “-”."))
    if tender.currency != "CNY":
        errors.add("currency", N_("Tenders are in yuan (CNY)."))
    _check_contact(errors, "contact", tender.contact)
    _check_contact(errors, "purchaser_contact", tender.purchaser_contact)
    purchaser = tender.purchaser_contact
    if any((purchaser.name, purchaser.telephone, purchaser.email)):
        for part in ("name", "telephone"):
            if not getattr(purchaser, part):
                errors.add(
                    f"purchaser_contact.{part}", N_("The purchaser's contact has a name and a telephone number.")
                )
    if not tender.lots:
        errors.add("lots", N_("A tender has at least one lot."))
    if len(tender.lots) > MAX_LOTS:
        errors.add("lots", N_("A tender can have at most %(count)d lots.", count=MAX_LOTS))
    if sorted(lot.number for lot in tender.lots) != list(range(1, len(tender.lots) + 1)):
        errors.add("lots", N_("Lots are numbered 1, 2, 3… without gaps."))
    for index, lot in enumerate(tender.lots):
        field = f"lots.{index}"
        _check_local_text(errors, f"{field}.title", lot.title, MAX_TITLE_LENGTH)
        budget = _check_amount(errors, f"{field}.budget", lot.budget)
        security = _check_amount(errors, f"{field}.bid_security", lot.bid_security, allow_zero=True)
        # Bid security is at most 2 % of the estimated price (Implementing Regulations, art. 26).
        if budget is not None and security is not None and security > budget * Decimal("0.02"):
            errors.add(f"{field}.bid_security", N_("Bid security is at most 2 % of the lot's budget."))
        _check_criteria(errors, f"{field}.criteria", lot)
    if tender.committee_size < 5 or tender.committee_size % 2 == 0 or tender.committee_size > 25:
        errors.add("committee_size", N_("An evaluation committee has an odd number of members, 5 or more."))
    if tender.specialties and sum(s.count for s in tender.specialties) != tender.committee_size:
        errors.add("specialties", N_("The experts wanted per specialty add up to the committee size."))
    if any(not s.specialty.strip() or s.count < 1 for s in tender.specialties):
        errors.add("specialties", N_("Each specialty has a name and at least one expert."))
    custodians = len(tender.custodian_ids)
    if len(set(tender.custodian_ids)) != custodians or not 1 <= custodians <= MAX_CUSTODIANS:
        errors.add("custodian_ids", N_("Choose 1 to 16 different key custodians."))
    if not 1 <= tender.custody_threshold <= max(custodians, 1):
        errors.add("custody_threshold", N_("The number of custodians needed is between 1 and the number chosen."))
    elif tender.custody_threshold == 1 and custodians > 1:
        # SLIP-0039 allows a threshold of 1 only for a single share: with several, each would be the whole key.
        errors.add("custody_threshold", N_("With more than one custodian, at least two are needed to open the bids."))
    invited = len(tender.invited_ids)
    if tender.procedure is Procedure.OPEN and invited:
        errors.add("invited_ids", N_("An open tender invites nobody in particular: anyone may register."))
    if tender.procedure is Procedure.INVITED and (
        len(set(tender.invited_ids)) != invited or not MIN_INVITED <= invited <= MAX_INVITED
    ):
        errors.add(
            "invited_ids",
            N_(
                "An invited tender invites %(least)d to %(most)d different bidders.",
                least=MIN_INVITED,
                most=MAX_INVITED,
            ),
        )
    _check_timeline(errors, tender, rules)
    errors.raise_if_any()
    return msgspec.structs.replace(tender, lots=[_normalised_lot(lot) for lot in tender.lots])


def _decimal_text(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: ``30.00`` → ``30``, ``12.50`` → ``12.5``."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _normalised_criterion(criterion: Criterion) -> Criterion:
    return msgspec.structs.replace(
        criterion,
        name=clean_local_text(criterion.name),
        points=_decimal_text(Decimal(criterion.points)) if criterion.points is not None else None,
        children=[_normalised_criterion(child) for child in criterion.children],
    )


def _normalised_lot(lot: LotInput) -> LotInput:
    """One spelling per value (``1250000`` → ``1250000.00``), so that equal tenders compare and hash equal."""
    return msgspec.structs.replace(
        lot,
        budget=str(parse_amount(lot.budget)),
        bid_security=str(parse_amount(lot.bid_security, allow_zero=True)),
        criteria=[_normalised_criterion(criterion) for criterion in lot.criteria],
    )


def _check_timeline(errors: _Errors, tender: TenderInput, rules: TimeRules) -> None:
    times = (tender.documents_from, tender.questions_until, tender.deadline, tender.evaluation_at)
    if any(moment.tzinfo is None for moment in times):
        errors.add("deadline", N_("Times need a time zone."))
        return
    if not tender.documents_from < tender.questions_until < tender.deadline <= tender.evaluation_at:
        errors.add("deadline", N_("Documents, then the question cutoff, then the deadline, then the evaluation."))
    if tender.deadline - tender.documents_from < dt.timedelta(days=rules.bidding_days):
        errors.add(
            "deadline",
            N_("The deadline is at least %(days)d days after the documents are available.", days=rules.bidding_days),
        )


def clean_text(field: str, text: str, maximum: int) -> str:
    """A person's free text (a question, an answer, a reason), cleaned; raises InvalidInput if empty or too long."""
    cleaned = _clean(text)
    if not 0 < len(cleaned) <= maximum:
        raise InvalidInput(errors={field: N_("Write 1 to %(count)d characters.", count=maximum)})
    return cleaned


# --- Documents ------------------------------------------------------------------------------------------------

#: The kinds of tender documents accepted, by file extension, with the type they are served as. The type is
#: decided here, never by what the uploader claims, and downloads are always attachments.
DOCUMENT_TYPES: Mapping[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".wps": "application/vnd.ms-works",
    ".dwg": "image/vnd.dwg",
    ".dxf": "image/vnd.dxf",
    ".zip": "application/zip",
    ".rar": "application/vnd.rar",
    ".7z": "application/x-7z-compressed",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".txt": "text/plain",
    ".csv": "text/csv",
}
MAX_DOCUMENT_NAME_LENGTH = 255


def document_type(name: str) -> tuple[str, str]:
    """A document's cleaned file name and its content type; raises InvalidInput for a name or kind not accepted.

    Only the last part of a path is kept (browsers on some systems send the whole path).
    """
    cleaned = _clean(name.replace("\\", "/").rsplit("/", 1)[-1]).replace("\n", " ").replace("\t", " ")
    if not 0 < len(cleaned) <= MAX_DOCUMENT_NAME_LENGTH or cleaned.startswith("."):
        raise InvalidInput(errors={"file": N_("Give the file a name of 1 to 255 characters.")})
    extension = "." + cleaned.rsplit(".", 1)[-1].lower() if "." in cleaned else ""
    if extension not in DOCUMENT_TYPES:
        raise InvalidInput(
            errors={
                "file": N_(
                    "Tender documents are PDF, office files, drawings, images or archives (%(kinds)s).",
                    kinds=", ".join(sorted(DOCUMENT_TYPES)),
                )
            }
        )
    return cleaned, DOCUMENT_TYPES[extension]


# --- Questions ------------------------------------------------------------------------------------------------


def check_question(
    text: str, *, registered: bool, status: Status, questions_until: dt.datetime, now: dt.datetime
) -> str:
    """A bidder's question, cleaned; raises :class:`InvalidInput` or :class:`InvalidTransition`."""
    if not registered:
        raise InvalidTransition(N_("Register for the tender before asking questions."))
    if status is not Status.PUBLISHED or now >= questions_until:
        raise InvalidTransition(N_("Questions closed at the cutoff."))
    return clean_text("question", text, MAX_QUESTION_LENGTH)


def pseudonym(order: int) -> str:
    """The stable name of the ``order``-th bidder (from 0) to ask about a tender: A, B, … Z, AA, AB, …

    Answers are public, askers are not: everyone sees which questions came from the same bidder, nobody which.
    """
    name = ""
    order += 1
    while order:
        order, rest = divmod(order - 1, 26)
        name = chr(ord("A") + rest) + name
    return name
