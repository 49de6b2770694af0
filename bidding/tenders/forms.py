"""The tender form of the pages: the flat fields a browser sends, the nested values the form is drawn from, and
the :class:`~bidding.tenders.model.TenderInput` the use cases take.

A browser sends fields with dotted names such as ``lots.0.criteria.1.children.0.points``; the page numbers its
rows (its script renumbers them when one is added or removed). Three plain functions do the work:
:func:`values_from_fields` nests the fields and drops empty rows (the page always offers a few blank ones),
:func:`tender_from_values` turns text into numbers and times, and the use case then checks every rule.

The values are strings all the way down, and complete in shape, so that a refused form comes back exactly as it
was typed, row for row at the indexes the errors name (the use case numbers rows after empty ones are dropped,
and so does the form when it is drawn again).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from bidding.errors import InvalidInput
from bidding.i18n import N_, Message
from bidding.settings import TimeRules
from bidding.tenders.model import FIXED_AFTER_PUBLICATION, Criterion, PriceFormula, TenderInput
from bidding.tenders.validation import validate_tender

#: Names a field may have: words and row numbers joined by dots. Anything else is not from the form and is ignored.
_FIELD_NAME = re.compile(r"[a-z_]{1,30}(?:\.(?:[a-z_]{1,30}|[0-9]{1,3}))*")
MAX_FIELD_NAME_LENGTH = 120
#: Fields sent once per ticked box.
MULTIPLE = ("custodian_ids", "invited_ids")
TIMES = ("documents_from", "questions_until", "deadline", "evaluation_at")
#: The contact persons of the notice, each with these values.
CONTACTS = ("contact", "purchaser_contact")
CONTACT_FIELDS = ("name", "telephone", "email")
FORMULA_FIELDS = ("type", "benchmark", "deduct_above", "deduct_below")
#: How ``<input type="datetime-local">`` writes a moment: to the minute, in the platform's time zone.
LOCAL_TIME_FORMAT = "%Y-%m-%dT%H:%M"
#: Blank rows drawn below the filled ones, so that the form can grow without its script.
EXTRA_CRITERION_ROWS = 2
MIN_CRITERION_ROWS = 4
EXTRA_SPECIALTY_ROWS = 1
MIN_SPECIALTY_ROWS = 2

Values = dict[str, Any]


# --- Empty shapes -----------------------------------------------------------------------------------------------


def empty_local() -> dict[str, str]:
    return {"zh": "", "en": ""}


def empty_criterion() -> Values:
    return {
        "name": empty_local(),
        "points": "",
        "kind": "subjective",
        "formula": dict.fromkeys(FORMULA_FIELDS, ""),
        "children": [],
    }


def empty_lot() -> Values:
    return {"title": empty_local(), "budget": "", "bid_security": "", "method": "comprehensive", "criteria": []}


def empty_specialty() -> Values:
    return {"specialty": "", "count": ""}


def empty_tender() -> Values:
    """The values of a new tender's form: nothing chosen but the usual defaults."""
    return {
        "title": empty_local(),
        "description": empty_local(),
        "category": "",
        "procedure": "open",
        "purchaser_id": "",
        "region": "",
        "reference": "",
        **dict.fromkeys(TIMES, ""),
        "committee_size": "5",
        "specialties": [],
        "custodian_ids": [],
        "custody_threshold": "2",
        "invited_ids": [],
        "lots": [],
        **{key: dict.fromkeys(CONTACT_FIELDS, "") for key in CONTACTS},
    }


# --- Fields to values -------------------------------------------------------------------------------------------


def _nest(fields: Iterable[tuple[str, str]]) -> Values:
    """Dotted names as nested dictionaries: ``{"lots": {"0": {"budget": "100"}}}``; the first value of a name wins."""
    root: Values = {}
    for name, value in fields:
        if len(name) > MAX_FIELD_NAME_LENGTH or not _FIELD_NAME.fullmatch(name):
            continue
        if name in MULTIPLE:
            listed = root.setdefault(name, [])
            if isinstance(listed, list):
                listed.append(value.strip())
            continue
        *path, last = name.split(".")
        node: Any = root
        for part in path:
            node = node.setdefault(part, {}) if isinstance(node, dict) else None
        # A name used both for a value and for a group of values (``title`` and ``title.zh``): the first one sent.
        if isinstance(node, dict) and last not in node:
            node[last] = value
    return root


def _group(node: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    group = node.get(key)
    return group if isinstance(group, dict) else {}


def _text(node: Mapping[str, Any], key: str) -> str:
    value = node.get(key)
    return value.strip() if isinstance(value, str) else ""


def _rows(node: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The rows under ``key``, in the order of their numbers (gaps left by removed rows do not matter)."""
    group = _group(node, key)
    numbers = sorted((number for number in group if number.isascii() and number.isdigit()), key=int)
    return [group[number] for number in numbers if isinstance(group[number], dict)]


def _local(node: Mapping[str, Any], key: str) -> dict[str, str]:
    group = _group(node, key)
    return {"zh": _text(group, "zh"), "en": _text(group, "en")}


def _criterion(node: Mapping[str, Any], *, child: bool) -> Values | None:
    """A criterion row's values, or ``None`` for a row left blank (its kind, always chosen, does not count)."""
    children = [] if child else [c for c in (_criterion(row, child=True) for row in _rows(node, "children")) if c]
    values: Values = {
        "name": _local(node, "name"),
        "points": _text(node, "points"),
        "kind": _text(node, "kind") or "subjective",
        "formula": {field: _text(_group(node, "formula"), field) for field in FORMULA_FIELDS},
        "children": children,
    }
    filled = any(values["name"].values()) or values["points"] or any(values["formula"].values()) or children
    return values if filled else None


def _lot(node: Mapping[str, Any]) -> Values | None:
    criteria = [c for c in (_criterion(row, child=False) for row in _rows(node, "criteria")) if c]
    values: Values = {
        "title": _local(node, "title"),
        "budget": _text(node, "budget"),
        "bid_security": _text(node, "bid_security"),
        "method": _text(node, "method") or "comprehensive",
        "criteria": criteria,
    }
    filled = any(values["title"].values()) or values["budget"] or values["bid_security"] or criteria
    return values if filled else None


def values_from_fields(fields: Iterable[tuple[str, str]]) -> Values:
    """The form's values from the fields sent, in the shape of :func:`empty_tender`, without blank rows."""
    nested = _nest(fields)
    values = empty_tender()
    for key in ("title", "description"):
        values[key] = _local(nested, key)
    for key in ("category", "procedure", "purchaser_id", "region", "reference", *TIMES):
        values[key] = _text(nested, key)
    for key in CONTACTS:
        values[key] = {field: _text(_group(nested, key), field) for field in CONTACT_FIELDS}
    values["committee_size"] = _text(nested, "committee_size")
    values["custody_threshold"] = _text(nested, "custody_threshold")
    for key in MULTIPLE:
        listed = nested.get(key)
        values[key] = [item for item in listed if item] if isinstance(listed, list) else []
    specialties = [
        {"specialty": _text(row, "specialty"), "count": _text(row, "count")} for row in _rows(nested, "specialties")
    ]
    values["specialties"] = [row for row in specialties if row["specialty"] or row["count"]]
    values["lots"] = [lot for lot in (_lot(row) for row in _rows(nested, "lots")) if lot]
    return values


def with_blank_rows(values: Values) -> Values:
    """The values with blank rows to fill in, as the form is drawn: at least one lot, a few criteria and
    specialties, and one more sub-criterion under each criterion that already has some."""

    def criterion(values: Values) -> Values:
        children = list(values["children"])
        if children:
            children.append(empty_criterion())
        return values | {"children": children}

    lots = []
    for lot in values["lots"] or [empty_lot()]:
        criteria = [criterion(c) for c in lot["criteria"]]
        blank = max(EXTRA_CRITERION_ROWS, MIN_CRITERION_ROWS - len(criteria))
        lots.append(lot | {"criteria": criteria + [empty_criterion() for _ in range(blank)]})
    specialties = list(values["specialties"])
    blank = max(EXTRA_SPECIALTY_ROWS, MIN_SPECIALTY_ROWS - len(specialties))
    return values | {"lots": lots, "specialties": specialties + [empty_specialty() for _ in range(blank)]}


# --- Values to a tender -----------------------------------------------------------------------------------------

#: A conversion error's place in msgspec's words: ``… - at `$.lots[0].method```.
_ERROR_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _field_of(error: msgspec.ValidationError) -> str:
    """The dotted field name of the value msgspec could not convert (``lots.0.method``)."""
    found = _ERROR_PATH.search(str(error))
    path = found.group("path") if found else ""
    return re.sub(r"\[(\d+)\]", r".\1", path).lstrip(".") or "form"


class _Converter:
    """Turns text into numbers and times, collecting every problem so that the form shows them all at once."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self.timezone = timezone
        self.errors: dict[str, Message] = {}

    def integer(self, field: str, raw: str) -> int | None:
        if raw.isascii() and raw.isdigit() and len(raw) <= 9:
            return int(raw)
        self.errors.setdefault(field, N_("Give a whole number."))
        return None

    def moment(self, field: str, raw: str) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            self.errors.setdefault(field, N_("Give a date and a time."))
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.timezone)

    def chosen_id(self, field: str, raw: str) -> int | None:
        """The id of an option chosen from a list: left unchosen, it is a choice to make, not a number to type."""
        return self.integer(field, raw) if self.choice(field, raw) else None

    def choice(self, field: str, raw: str) -> str | None:
        if not raw:
            self.errors.setdefault(field, N_("Choose one of the options."))
            return None
        return raw


def _criterion_data(values: Values) -> dict[str, Any]:
    formula = values["formula"]
    return {
        "name": values["name"],
        "points": values["points"] or None,
        "kind": values["kind"],
        "formula": (
            {
                "type": formula["type"],
                "benchmark": formula["benchmark"] or None,
                "deduct_above": formula["deduct_above"] or None,
                "deduct_below": formula["deduct_below"] or None,
            }
            if formula["type"]
            else None
        ),
        "children": [_criterion_data(child) for child in values["children"]],
    }


#: The rules whose verdicts (by error key) rest on a value of the form, and mean nothing when it cannot be read.
_RESTS_ON: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(TIMES, ("deadline",)),
    "procedure": ("invited_ids",),
    "committee_size": ("specialties",),
    "custodian_ids": ("custody_threshold",),
}
#: What stands in for a value that cannot be read while the rest of the form is checked: none breaks a rule.
_STAND_INS: Mapping[str, object] = {
    "category": "works",
    "procedure": "open",
    "purchaser_id": 1,
    "committee_size": 5,
    "custody_threshold": 2,
}


def _other_problems(data: Mapping[str, Any], unread: Mapping[str, Message], rules: TimeRules) -> dict[str, Message]:
    """What the rules say about the rest of a form some of whose values could not be read, so that the form shows
    every problem at once rather than one round after another.

    The values not read are replaced by stand-ins that break no rule, and the verdicts that rest on them are left
    out. The use case checks the whole tender again once every value can be read.
    """
    stand_in = dict(data) | {key: value for key, value in _STAND_INS.items() if data[key] is None}
    if any(data[key] is None for key in TIMES):
        start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        deadline = start + dt.timedelta(days=rules.bidding_days + 1)
        stand_in |= {
            "documents_from": start,
            "questions_until": deadline - dt.timedelta(days=1),
            "deadline": deadline,
            "evaluation_at": deadline,
        }
    stand_in["specialties"] = [row | {"count": 1} if row["count"] is None else row for row in data["specialties"]]
    for key in ("custodian_ids", "invited_ids"):
        stand_in[key] = [item for item in data[key] if item is not None]
    try:
        validate_tender(msgspec.convert(stand_in, TenderInput), rules)
    except msgspec.ValidationError as error:
        return {_field_of(error): N_("Choose one of the options given.")}
    except InvalidInput as error:
        fields = {key.split(".", 1)[0] for key in unread}
        hidden = fields | {rule for field in fields for rule in _RESTS_ON.get(field, ())}
        return {key: message for key, message in error.errors.items() if key not in hidden}
    return {}


def tender_from_values(
    values: Values,
    timezone: ZoneInfo,
    rules: TimeRules,
    *,
    current: TenderInput | None = None,
    amending: bool = False,
) -> TenderInput:
    """The tender the form's values describe; raises :class:`InvalidInput` naming each field that is not a number,
    a time or a choice where one is needed, with what the rules (of ``rules``' procedure) say about the others.
    When every value can be read, the rules are the use case's to check.

    ``current`` is the tender as stored, when editing or amending one. A time left as the form showed it keeps its
    stored seconds (the form shows minutes only); when ``amending``, what is fixed at publication is taken from
    ``current`` whatever was sent, since the form shows it read-only.
    """
    if amending:
        assert current is not None, "an amendment changes a stored tender"
        shown = values_from_tender(current, timezone)
        values = values | {key: shown[key] for key in FIXED_AFTER_PUBLICATION if key in shown}
    convert = _Converter(timezone)
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "category": convert.choice("category", values["category"]),
        "procedure": convert.choice("procedure", values["procedure"]),
        "purchaser_id": convert.chosen_id("purchaser_id", values["purchaser_id"]),
        "region": values["region"],
        "reference": values["reference"] or None,
        **{key: values[key] for key in CONTACTS},
        **{key: convert.moment(key, values[key]) for key in TIMES},
        "committee_size": convert.integer("committee_size", values["committee_size"]),
        "specialties": [
            {"specialty": row["specialty"], "count": convert.integer(f"specialties.{index}.count", row["count"])}
            for index, row in enumerate(values["specialties"])
        ],
        "custodian_ids": [convert.integer("custodian_ids", raw) for raw in values["custodian_ids"]],
        "custody_threshold": convert.integer("custody_threshold", values["custody_threshold"]),
        "invited_ids": [convert.integer("invited_ids", raw) for raw in values["invited_ids"]],
        "lots": [
            {
                "number": number,
                "title": lot["title"],
                "budget": lot["budget"],
                # No bid security is asked for unless one is given.
                "bid_security": lot["bid_security"] or "0",
                "method": lot["method"],
                "criteria": [_criterion_data(criterion) for criterion in lot["criteria"]],
            }
            for number, lot in enumerate(values["lots"], start=1)
        ],
    }
    if convert.errors:
        raise InvalidInput(errors=convert.errors | _other_problems(data, convert.errors, rules))
    try:
        tender = msgspec.convert(data, TenderInput)
    except msgspec.ValidationError as error:
        raise InvalidInput(errors={_field_of(error): N_("Choose one of the options given.")}) from None
    if current is None:
        return tender
    kept: dict[str, Any] = {
        key: getattr(current, key)
        for key in TIMES
        if getattr(tender, key) == getattr(current, key).replace(second=0, microsecond=0)
    }
    if amending:
        kept |= {key: getattr(current, key) for key in FIXED_AFTER_PUBLICATION}
    return msgspec.structs.replace(tender, **kept)


# --- A tender to values -----------------------------------------------------------------------------------------


def local_time(moment: dt.datetime, timezone: ZoneInfo) -> str:
    """A moment as ``<input type="datetime-local">`` shows it, in the platform's time zone."""
    return moment.astimezone(timezone).strftime(LOCAL_TIME_FORMAT)


def _criterion_values(criterion: Criterion) -> Values:
    formula: PriceFormula | None = criterion.formula
    return {
        "name": {"zh": criterion.name.zh, "en": criterion.name.en},
        "points": criterion.points or "",
        "kind": criterion.kind,
        "formula": {field: (getattr(formula, field) or "") if formula else "" for field in FORMULA_FIELDS},
        "children": [_criterion_values(child) for child in criterion.children],
    }


def values_from_tender(tender: TenderInput, timezone: ZoneInfo) -> Values:
    """The form's values for a stored tender: what the edit and amendment forms start from."""
    return {
        "title": {"zh": tender.title.zh, "en": tender.title.en},
        "description": {"zh": tender.description.zh, "en": tender.description.en},
        "category": str(tender.category),
        "procedure": str(tender.procedure),
        "purchaser_id": str(tender.purchaser_id),
        "region": tender.region,
        "reference": tender.reference or "",
        **{key: msgspec.to_builtins(getattr(tender, key)) for key in CONTACTS},
        **{key: local_time(getattr(tender, key), timezone) for key in TIMES},
        "committee_size": str(tender.committee_size),
        "specialties": [{"specialty": s.specialty, "count": str(s.count)} for s in tender.specialties],
        "custodian_ids": [str(i) for i in tender.custodian_ids],
        "custody_threshold": str(tender.custody_threshold),
        "invited_ids": [str(i) for i in tender.invited_ids],
        "lots": [
            {
                "title": {"zh": lot.title.zh, "en": lot.title.en},
                "budget": lot.budget,
                "bid_security": lot.bid_security,
                "method": str(lot.method),
                "criteria": [_criterion_values(criterion) for criterion in lot.criteria],
            }
            for lot in tender.lots
        ],
    }


# --- Labels and sections ----------------------------------------------------------------------------------------

#: The label of each field of the tender outside its lots, as the form shows it; amendments name changes by it too.
FIELD_LABELS: Mapping[str, Message] = {
    "reference": N_("Reference"),
    "title": N_("Title"),
    "title.zh": N_("Title (Chinese)"),
    "title.en": N_("Title (English)"),
    "description": N_("Description"),
    "description.zh": N_("Description (Chinese)"),
    "description.en": N_("Description (English)"),
    "category": N_("Category"),
    "procedure": N_("Procedure"),
    "purchaser_id": N_("Purchaser"),
    "region": N_("Region"),
    "currency": N_("Currency"),
    "contact.name": N_("Contact person"),
    "contact.telephone": N_("Contact telephone"),
    "contact.email": N_("Contact e-mail"),
    "purchaser_contact.name": N_("Purchaser's contact person"),
    "purchaser_contact.telephone": N_("Purchaser's contact telephone"),
    "purchaser_contact.email": N_("Purchaser's contact e-mail"),
    "documents_from": N_("Documents available from"),
    "questions_until": N_("Questions until"),
    "deadline": N_("Bid deadline"),
    "evaluation_at": N_("Evaluation starts"),
    "committee_size": N_("Evaluation committee"),
    "specialties": N_("Experts by specialty"),
    "custodian_ids": N_("Key custodians"),
    "custody_threshold": N_("Custodians needed to open"),
    "invited_ids": N_("Invited bidders"),
    "lots": N_("Lots"),
    "summary": N_("What changed and why, for bidders"),
}
#: The labels of a lot's fields, and of a criterion's, as the form shows them.
LOT_FIELD_LABELS: Mapping[str, Message] = {
    "title": N_("Lot title"),
    "title.zh": N_("Lot title (Chinese)"),
    "title.en": N_("Lot title (English)"),
    "budget": N_("Budget (yuan)"),
    "bid_security": N_("Bid security (yuan)"),
    "method": N_("Evaluation method"),
    "criteria": N_("Evaluation criteria"),
}
CRITERION_FIELD_LABELS: Mapping[str, Message] = {
    "name": N_("Name"),
    "name.zh": N_("Name (Chinese)"),
    "name.en": N_("Name (English)"),
    "points": N_("Points"),
    "kind": N_("Scoring"),
    "formula": N_("Price formula"),
    "formula.type": N_("Formula"),
    "formula.benchmark": N_("Benchmark price"),
    "formula.deduct_above": N_("Points off per percent above the benchmark"),
    "formula.deduct_below": N_("Points off per percent below the benchmark"),
}
#: Said of a problem with the form as a whole rather than one of its fields.
WHOLE_FORM = N_("The form")


def _numbered(row: Message, index: str) -> Message:
    """A row as the form numbers it, from 1: ``Lot 2`` for ``lots.1``."""
    return dataclasses.replace(row, params={"number": int(index) + 1})


def field_label(key: str) -> list[Message]:
    """What an error's field is called on the form, outermost first: ``Lot 2 · Budget (yuan)``,
    ``Lot 1 · Criterion 3 · Sub-criterion 1 · Points``, ``Bid deadline``."""
    if key in FIELD_LABELS:
        return [FIELD_LABELS[key]]
    parts = key.split(".")
    if parts[0] == "specialties" and len(parts) == 3 and parts[1].isdigit():
        field = N_("Specialty") if parts[2] == "specialty" else N_("Experts")
        return [FIELD_LABELS["specialties"], _numbered(N_("Row %(number)s"), parts[1]), field]
    if parts[0] != "lots" or len(parts) < 2 or not parts[1].isdigit():
        return [WHOLE_FORM]
    labels, rest, names = [_numbered(N_("Lot %(number)s"), parts[1])], parts[2:], LOT_FIELD_LABELS
    for group, row in (("criteria", N_("Criterion %(number)s")), ("children", N_("Sub-criterion %(number)s"))):
        if rest[:1] == [group] and len(rest) > 1 and rest[1].isdigit():
            labels.append(_numbered(row, rest[1]))
            rest, names = rest[2:], CRITERION_FIELD_LABELS
    name = ".".join(rest)
    return labels + ([names.get(name, Message(name))] if name else [])


#: The sections of the form, each with the first part of the names of the fields it holds.
SECTIONS: Mapping[str, tuple[str, ...]] = {
    "notice": ("title", "description", "category", "procedure", "purchaser_id", "region", "reference", "currency"),
    "contact": CONTACTS,
    "timeline": TIMES,
    "lots": ("lots",),
    "committee": ("committee_size", "specialties"),
    "custody": ("custodian_ids", "custody_threshold"),
    "invited": ("invited_ids",),
    "amendment": ("summary",),
}


def sections_with_errors(errors: Iterable[str]) -> set[str]:
    """The sections holding a field of ``errors``: they open by themselves when the form is drawn again."""
    first = {key.split(".", 1)[0] for key in errors}
    return {section for section, names in SECTIONS.items() if first & set(names)}
