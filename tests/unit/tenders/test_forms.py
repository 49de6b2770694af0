"""The tender form's fields: dotted names to nested values, blank rows dropped, text to a tender, and back."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import msgspec
import pytest

from bidding.errors import InvalidInput
from bidding.settings import TimeRules
from bidding.tenders import forms
from bidding.tenders.model import Method, Procedure
from tests.samples import sample_tender

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = TimeRules()
NOW = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)


def _fields(**extra: str) -> list[tuple[str, str]]:
    """A whole form as a browser sends it: one lot with a scored price and a criterion with two parts."""
    fields = {
        "title.zh": "门诊楼改造",
        "title.en": "",
        "description.zh": "改造工程。",
        "category": "works",
        "procedure": "open",
        "purchaser_id": "7",
        "region": "示范市",
        "reference": "",
        "documents_from": "2026-05-04T10:00",
        "questions_until": "2026-05-24T17:00",
        "deadline": "2026-06-03T09:30",
        "evaluation_at": "2026-06-03T10:30",
        "committee_size": "5",
        "custody_threshold": "2",
        "lots.0.title.zh": "土建",
        "lots.0.budget": "1000000",
        "lots.0.bid_security": "",
        "lots.0.method": "comprehensive",
        "lots.0.criteria.0.name.zh": "价格",
        "lots.0.criteria.0.points": "40",
        "lots.0.criteria.0.kind": "price",
        "lots.0.criteria.0.formula.type": "lowest_price_ratio",
        "lots.0.criteria.1.name.zh": "技术",
        "lots.0.criteria.1.points": "60",
        "lots.0.criteria.1.kind": "subjective",
        "lots.0.criteria.1.children.0.name.zh": "方案",
        "lots.0.criteria.1.children.0.points": "35",
        "lots.0.criteria.1.children.0.kind": "subjective",
        "lots.0.criteria.1.children.1.name.zh": "工期",
        "lots.0.criteria.1.children.1.points": "25",
        "lots.0.criteria.1.children.1.kind": "objective",
        # Blank rows the page offers, with only their selects chosen.
        "lots.0.criteria.2.kind": "subjective",
        "lots.0.criteria.2.formula.type": "",
        "lots.1.method": "comprehensive",
        "specialties.0.specialty": "",
        "specialties.0.count": "",
    } | extra
    return [*fields.items(), ("custodian_ids", "3"), ("custodian_ids", "4")]


def test_a_whole_form_becomes_the_tender_it_describes() -> None:
    tender = forms.tender_from_values(forms.values_from_fields(_fields()), SHANGHAI, RULES)
    assert tender.title.zh == "门诊楼改造" and tender.purchaser_id == 7 and tender.reference is None
    assert tender.deadline == dt.datetime(2026, 6, 3, 1, 30, tzinfo=dt.UTC)
    assert tender.custodian_ids == [3, 4] and tender.invited_ids == [] and tender.specialties == []
    [lot] = tender.lots
    assert (lot.number, lot.budget, lot.bid_security, lot.method) == (1, "1000000", "0", Method.COMPREHENSIVE)
    price, technical = lot.criteria
    assert price.formula is not None and price.formula.type == "lowest_price_ratio" and price.formula.benchmark is None
    assert [(c.name.zh, c.points, c.kind) for c in technical.children] == [
        ("方案", "35", "subjective"),
        ("工期", "25", "objective"),
    ]


def test_rows_are_taken_in_order_of_their_numbers_whatever_the_gaps() -> None:
    fields = [("lots.7.title.zh", "第二"), ("lots.2.title.zh", "第一"), ("lots.10.budget", "5")]
    values = forms.values_from_fields(fields)
    assert [lot["title"]["zh"] or lot["budget"] for lot in values["lots"]] == ["第一", "第二", "5"]


@pytest.mark.parametrize(
    "name",
    ["lots.0.__class__", "Title.zh", "lots..0", "lots.0.budget.", "x" * 200, "lots.1234.budget"],
)
def test_names_not_from_the_form_are_ignored(name: str) -> None:
    assert forms.values_from_fields([(name, "1")]) == forms.values_from_fields([])


def test_a_name_that_is_both_a_value_and_a_group_keeps_the_first() -> None:
    values = forms.values_from_fields([("title.zh", "标题"), ("title", "flat")])
    assert values["title"] == {"zh": "标题", "en": ""}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"deadline": "next week"}, "deadline"),
        ({"purchaser_id": ""}, "purchaser_id"),
        ({"committee_size": "-5"}, "committee_size"),
        ({"category": ""}, "category"),
        ({"category": "spaceships"}, "category"),
        ({"lots.0.method": "cheapest"}, "lots.0.method"),
        ({"lots.0.criteria.1.children.0.kind": "vibes"}, "lots.0.criteria.1.children.0.kind"),
        ({"specialties.0.specialty": "土建", "specialties.0.count": "three"}, "specialties.0.count"),
    ],
)
def test_text_that_is_not_a_number_time_or_choice_is_named_by_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        forms.tender_from_values(forms.values_from_fields(_fields(**changes)), SHANGHAI, RULES)
    assert field in raised.value.errors


def test_every_conversion_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as raised:
        forms.tender_from_values(forms.values_from_fields(_fields(deadline="", purchaser_id="x")), SHANGHAI, RULES)
    assert set(raised.value.errors) == {"deadline", "purchaser_id"}


def test_the_rules_are_checked_too_when_some_values_cannot_be_read() -> None:
    """One round of corrections: a value that is not a number does not hide what is wrong elsewhere."""
    fields = _fields(**{"purchaser_id": "x", "title.zh": "", "lots.0.budget": "1.234", "questions_until": "soon"})
    with pytest.raises(InvalidInput) as raised:
        forms.tender_from_values(forms.values_from_fields(fields), SHANGHAI, RULES)
    assert set(raised.value.errors) == {"purchaser_id", "questions_until", "title", "lots.0.budget"}


def test_verdicts_that_rest_on_a_value_not_read_are_left_out() -> None:
    fields = _fields(**{"committee_size": "seven", "specialties.0.specialty": "土建", "specialties.0.count": "3"})
    with pytest.raises(InvalidInput) as raised:
        forms.tender_from_values(forms.values_from_fields(fields), SHANGHAI, RULES)
    # The counts do not add up to the stand-in committee of five, but the real committee is not known.
    assert set(raised.value.errors) == {"committee_size"}


def test_a_stored_tender_comes_back_unchanged_through_its_form() -> None:
    stored = sample_tender(NOW, purchaser_id=3, custodian_ids=[5, 6], reference="ZB-2026-001")
    fields = _flatten(forms.values_from_tender(stored, SHANGHAI))
    parsed = forms.tender_from_values(forms.values_from_fields(fields), SHANGHAI, RULES, current=stored)
    assert parsed == stored


def test_times_left_as_shown_keep_their_seconds() -> None:
    stored = sample_tender(NOW + dt.timedelta(seconds=17), purchaser_id=3, custodian_ids=[5])
    values = forms.values_from_tender(stored, SHANGHAI)
    assert values["documents_from"] == "2026-05-04T18:00"
    parsed = forms.tender_from_values(values, SHANGHAI, RULES, current=stored)
    assert parsed.documents_from == stored.documents_from and parsed.documents_from.second == 17


def test_an_amendment_keeps_what_is_fixed_at_publication_whatever_is_sent() -> None:
    stored = sample_tender(NOW, purchaser_id=3, custodian_ids=[5, 6], reference="ZB-2026-001")
    values = forms.values_from_tender(stored, SHANGHAI) | {
        "procedure": "invited",
        "purchaser_id": "99",
        "custodian_ids": [],
        "reference": "OTHER-1",
        "region": "别处",
    }
    parsed = forms.tender_from_values(values, SHANGHAI, RULES, current=stored, amending=True)
    assert parsed == msgspec.structs.replace(stored, region="别处")
    assert parsed.procedure is Procedure.OPEN


def test_the_form_is_drawn_with_blank_rows_to_fill() -> None:
    drawn = forms.with_blank_rows(forms.empty_tender())
    [lot] = drawn["lots"]
    assert len(lot["criteria"]) == forms.MIN_CRITERION_ROWS and len(drawn["specialties"]) == forms.MIN_SPECIALTY_ROWS
    filled = forms.with_blank_rows(forms.values_from_fields(_fields()))
    technical = filled["lots"][0]["criteria"][1]
    assert len(filled["lots"][0]["criteria"]) == 2 + forms.EXTRA_CRITERION_ROWS
    assert len(technical["children"]) == 3 and technical["children"][-1] == forms.empty_criterion()


def _flatten(values: object, prefix: str = "") -> list[tuple[str, str]]:
    """Values as the fields a browser would send for them."""
    if isinstance(values, dict):
        return [pair for key, value in values.items() for pair in _flatten(value, f"{prefix}{key}.")]
    name = prefix.rstrip(".")
    if isinstance(values, list):
        if name in forms.MULTIPLE:
            return [(name, item) for item in values]
        return [pair for index, item in enumerate(values) for pair in _flatten(item, f"{name}.{index}.")]
    return [(name, str(values))]


def test_an_unchosen_purchaser_is_asked_to_be_chosen_not_typed_as_a_number() -> None:
    with pytest.raises(InvalidInput) as raised:
        forms.tender_from_values(forms.values_from_fields(_fields(purchaser_id="")), SHANGHAI, RULES)
    assert raised.value.errors["purchaser_id"].text == "Choose one of the options."


def test_the_contact_persons_come_from_the_form_and_go_back_to_it() -> None:
    sent = _fields(
        **{"contact.name": " 张伟 ", "contact.telephone": "0512-6888 1234", "contact.email": "z@example.com"}
    )
    tender = forms.tender_from_values(forms.values_from_fields(sent), SHANGHAI, RULES)
    assert (tender.contact.name, tender.contact.telephone, tender.contact.email) == (
        "张伟",
        "0512-6888 1234",
        "z@example.com",
    )
    assert not tender.purchaser_contact.name
    values = forms.values_from_tender(tender, SHANGHAI)
    assert values["contact"] == {"name": "张伟", "telephone": "0512-6888 1234", "email": "z@example.com"}


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("deadline", ["Bid deadline"]),
        ("purchaser_id", ["Purchaser"]),
        ("contact.telephone", ["Contact telephone"]),
        ("lots", ["Lots"]),
        ("lots.1", ["Lot 2"]),
        ("lots.1.budget", ["Lot 2", "Budget (yuan)"]),
        ("lots.0.title.zh", ["Lot 1", "Lot title (Chinese)"]),
        ("lots.0.criteria", ["Lot 1", "Evaluation criteria"]),
        ("lots.0.criteria.2.points", ["Lot 1", "Criterion 3", "Points"]),
        ("lots.0.criteria.0.formula", ["Lot 1", "Criterion 1", "Price formula"]),
        ("lots.2.criteria.1.children.0.name.zh", ["Lot 3", "Criterion 2", "Sub-criterion 1", "Name (Chinese)"]),
        ("specialties.1.count", ["Experts by specialty", "Row 2", "Experts"]),
        ("form", ["The form"]),
    ],
)
def test_each_error_is_named_by_its_field_as_the_form_labels_it(key: str, label: list[str]) -> None:
    shown = [part.text % part.params if part.params else part.text for part in forms.field_label(key)]
    assert shown == label


def test_the_sections_holding_an_error_are_the_ones_that_open() -> None:
    errors = ["deadline", "lots.0.budget", "contact.email", "specialties.0.count"]
    assert forms.sections_with_errors(errors) == {"timeline", "lots", "contact", "committee"}
    assert forms.sections_with_errors([]) == set()
