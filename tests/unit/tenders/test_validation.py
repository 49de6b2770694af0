"""What a valid tender is, amounts, amendments' diffs, questions' pseudonyms, documents' kinds and search terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bidding.errors import InvalidInput, InvalidTransition
from bidding.settings import TimeRules
from bidding.tenders import model, search_model, validation
from bidding.tenders.model import (
    Contact,
    Criterion,
    LocalText,
    LotInput,
    Method,
    PriceFormula,
    Procedure,
    Specialty,
    Status,
    TenderInput,
)
from tests.samples import sample_tender, scoring_criteria

NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)
RULES = TimeRules()


def tender(**changes: object) -> TenderInput:
    values: dict[str, object] = {"purchaser_id": 1, "custodian_ids": [1, 2, 3]} | changes
    return sample_tender(NOW, **values)  # type: ignore[arg-type]  # each test passes sample_tender's own fields


def problems(candidate: TenderInput) -> set[str]:
    try:
        validation.validate_tender(candidate, RULES)
    except InvalidInput as error:
        return set(error.errors)
    return set()


def lot(criteria: list[Criterion], method: Method = Method.COMPREHENSIVE, **changes: object) -> LotInput:
    values: dict[str, object] = {
        "number": 1,
        "title": LocalText("标段"),
        "budget": "1000000",
        "bid_security": "0",
        "method": method,
        "criteria": criteria,
    }
    return LotInput(**(values | changes))  # type: ignore[arg-type]  # each test passes LotInput's own fields


def criterion(points: str, kind: str = "subjective", **changes: object) -> Criterion:
    return Criterion(LocalText("因素"), points, kind, **changes)  # type: ignore[arg-type]  # each test passes Criterion's own fields


PRICE = criterion("40", "price", formula=PriceFormula("lowest_price_ratio"))


# --- Amounts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "amount"), [("1250000", "1250000.00"), ("0.5", "0.50"), (" 12.30", "12.30"), ("1E3", "1000.00")]
)
def test_amounts_are_exact_to_the_fen(raw: str, amount: str) -> None:
    assert str(validation.parse_amount(raw)) == amount


@pytest.mark.parametrize("raw", ["", "abc", "1.001", "-5", "0", "NaN", "Infinity", "100000000000000", "1e-3"])
def test_bad_amounts_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        validation.parse_amount(raw)


@given(st.decimals(min_value=Decimal("0.01"), max_value=model.MAX_AMOUNT, places=2))
def test_every_amount_with_fen_survives(amount: Decimal) -> None:
    assert validation.parse_amount(str(amount)) == amount


# --- The tender as a whole ----------------------------------------------------------------------------------------


def test_the_sample_is_valid_and_comes_back_normalised() -> None:
    valid = validation.validate_tender(tender(), RULES)
    assert [lot.budget for lot in valid.lots] == ["12500000.00", "3800000.50"]
    assert [lot.bid_security for lot in valid.lots] == ["200000.00", "0.00"]
    assert [c.points for c in valid.lots[0].criteria] == ["40", "45", "15"]
    # Normalising twice changes nothing: equal tenders hash equal.
    assert validation.validate_tender(valid, RULES) == valid


def test_every_problem_is_reported_at_once() -> None:
    broken = tender(
        title=LocalText(),
        region="",
        committee_size=4,
        custodian_ids=[],
        lots=[lot([criterion("50")], budget="1.001")],
    )
    assert problems(broken) == {
        "title",
        "region",
        "committee_size",
        "custodian_ids",
        "custody_threshold",
        "lots.0.budget",
        "lots.0.criteria",
    }


def test_text_is_cleaned_of_control_characters_and_limited() -> None:
    valid = validation.validate_tender(tender(title=LocalText(" 门诊楼\x00改造 ", "")), RULES)
    assert valid.title == LocalText("门诊楼改造", "")
    assert problems(tender(title=LocalText("长" * (model.MAX_TITLE_LENGTH + 1)))) == {"title.zh"}
    assert problems(tender(description=LocalText("", "x" * (model.MAX_DESCRIPTION_LENGTH + 1)))) == {"description.en"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lots": []}, "lots"),
        ({"lots": [lot(scoring_criteria(), number=2)]}, "lots"),
        ({"lots": [lot(scoring_criteria())] * 2}, "lots"),
        ({"lots": [lot(scoring_criteria(), budget="")]}, "lots.0.budget"),
        ({"lots": [lot(scoring_criteria(), budget="0")]}, "lots.0.budget"),
        ({"lots": [lot(scoring_criteria(), bid_security="20000.01")]}, "lots.0.bid_security"),
        ({"lots": [lot(scoring_criteria(), bid_security="-1")]}, "lots.0.bid_security"),
        ({"lots": [lot(scoring_criteria(), title=LocalText())]}, "lots.0.title"),
        ({"committee_size": 6}, "committee_size"),
        ({"committee_size": 27}, "committee_size"),
        ({"specialties": [Specialty("土建", 3)]}, "specialties"),
        ({"specialties": [Specialty(" ", 5)]}, "specialties"),
        ({"custodian_ids": [1, 1]}, "custodian_ids"),
        ({"custodian_ids": list(range(17))}, "custodian_ids"),
        ({"custody_threshold": 4}, "custody_threshold"),
        ({"custody_threshold": 0}, "custody_threshold"),
        ({"custody_threshold": 1}, "custody_threshold"),  # one custodian of three could open alone
        ({"currency": "USD"}, "currency"),
        ({"reference": "a b"}, "reference"),
        ({"invited_ids": [5, 6, 7]}, "invited_ids"),
        ({"procedure": Procedure.INVITED, "invited_ids": [5, 6]}, "invited_ids"),
        ({"procedure": Procedure.INVITED, "invited_ids": [5, 5, 6]}, "invited_ids"),
    ],
)
def test_each_rule_names_its_field(changes: dict[str, object], field: str) -> None:
    assert field in problems(tender(**changes))


def test_a_bid_security_of_exactly_two_percent_is_allowed() -> None:
    assert problems(tender(lots=[lot(scoring_criteria(), bid_security="20000")])) == set()


def test_specialties_add_up_to_the_committee() -> None:
    assert problems(tender(specialties=[Specialty("土建", 3), Specialty("造价", 2)])) == set()


def test_an_invited_tender_invites_at_least_three() -> None:
    assert problems(tender(procedure=Procedure.INVITED, invited_ids=[5, 6, 7])) == set()


@pytest.mark.parametrize(
    ("shift", "field"),
    [
        ({"questions_until": NOW}, "deadline"),
        ({"evaluation_at": NOW + dt.timedelta(days=1)}, "deadline"),
        ({"deadline": NOW + dt.timedelta(days=19, hours=23)}, "deadline"),
        ({"documents_from": dt.datetime(2026, 11, 21, 10, 0)}, "deadline"),
    ],
)
def test_the_timeline_is_in_order_and_long_enough(shift: dict[str, object], field: str) -> None:
    assert field in problems(tender(**shift))


# --- Criteria -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "criteria",
    [
        [],
        [PRICE],
        [PRICE, criterion("50")],
        [PRICE, criterion("60", "check")],
        [criterion("40", "price"), criterion("60")],
        [PRICE, PRICE, criterion("20")],
        [criterion("40"), criterion("60")],
        [PRICE, criterion("60", formula=PriceFormula("lowest_price_ratio"))],
        [PRICE, criterion("60", children=[criterion("30"), criterion("20")])],
        [PRICE, criterion("60", children=[criterion("30"), criterion("30", "price")])],
        [PRICE, criterion("60", children=[criterion("60", children=[criterion("60")])])],
        [PRICE, criterion("abc")],
        [PRICE, criterion("60.001")],
        [PRICE, criterion("0"), criterion("60")],
        [PRICE, criterion("160")],
        [criterion("40", "price", formula=PriceFormula("benchmark_deviation")), criterion("60")],
        [criterion("40", "price", formula=PriceFormula("benchmark_deviation", "average", "1", "-1")), criterion("60")],
        [criterion("40", "price", formula=PriceFormula("lowest_price_ratio", "average")), criterion("60")],
        [
            criterion("40", "price", children=[criterion("40")], formula=PriceFormula("lowest_price_ratio")),
            criterion("60"),
        ],
    ],
)
def test_comprehensive_scoring_criteria_must_add_up(criteria: list[Criterion]) -> None:
    assert any(field.startswith("lots.0.criteria") for field in problems(tender(lots=[lot(criteria)])))


def test_engineering_formulas_deduct_per_percent_from_a_benchmark() -> None:
    formula = PriceFormula("benchmark_deviation", "average", "1", "0.5")
    assert problems(tender(lots=[lot([criterion("40", "price", formula=formula), criterion("60")])])) == set()


def test_the_lowest_evaluated_price_has_only_pass_fail_checks() -> None:
    checks = [Criterion(LocalText("资格"), kind="check"), Criterion(LocalText("", "Bid security"), kind="check")]
    assert problems(tender(lots=[lot(checks, Method.LOWEST_PRICE)])) == set()
    assert problems(tender(lots=[lot([], Method.LOWEST_PRICE)])) == set()
    assert "lots.0.criteria" in problems(tender(lots=[lot([criterion("10", "check")], Method.LOWEST_PRICE)]))
    assert "lots.0.criteria" in problems(tender(lots=[lot(scoring_criteria(), Method.LOWEST_PRICE)]))


def test_a_lot_has_at_most_60_criteria() -> None:
    many = [PRICE, criterion("60", children=[criterion("1")] * 60)]
    assert "lots.0.criteria" in problems(tender(lots=[lot(many)]))


def test_a_tender_input_comes_from_json_as_clients_send_it() -> None:
    raw = msgspec.json.encode(validation.validate_tender(tender(), RULES))
    assert msgspec.json.decode(raw, type=TenderInput) == validation.validate_tender(tender(), RULES)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw.replace(b'"works"', b'"weapons"'), type=TenderInput)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw[:-1] + b',"surprise":1}', type=TenderInput)


# --- Publication --------------------------------------------------------------------------------------------------


def test_publication_counts_the_period_from_when_documents_are_really_available() -> None:
    deadline = NOW + dt.timedelta(days=25)
    assert model.check_publication(NOW - dt.timedelta(days=10), deadline, NOW, RULES) == NOW
    assert model.check_publication(NOW + dt.timedelta(days=2), deadline, NOW, RULES) == NOW + dt.timedelta(days=2)
    with pytest.raises(InvalidTransition):
        model.check_publication(NOW, NOW + dt.timedelta(days=19), NOW, RULES)
    with pytest.raises(InvalidTransition):
        model.check_publication(NOW - dt.timedelta(days=30), NOW, NOW, RULES)


# --- Amendments ---------------------------------------------------------------------------------------------------


def test_a_snapshot_names_each_term_and_diffs_list_what_changed() -> None:
    before = validation.validate_tender(tender(), RULES)
    lots = list(before.lots)
    lots[1] = msgspec.structs.replace(lots[1], budget="3900000.00")
    after = msgspec.structs.replace(before, lots=lots, title=LocalText(before.title.zh, "New title"))
    changes = model.diff(model.snapshot(before), model.snapshot(after))
    assert changes == {
        "lots.2.budget": {"before": "3800000.50", "after": "3900000.00"},
        "title.en": {"before": before.title.en, "after": "New title"},
    }
    assert model.is_substantive(changes, declared=False)
    assert not model.is_substantive({"title.en": changes["title.en"]}, declared=False)
    assert model.is_substantive({"title.en": changes["title.en"]}, declared=True)
    earlier = {"deadline": {"before": "2026-12-20T01:30:00+00:00", "after": "2026-12-19T01:30:00+00:00"}}
    assert model.is_substantive(earlier, declared=False)
    later = {"deadline": {"before": "2026-12-20T01:30:00+00:00", "after": "2026-12-21T01:30:00+00:00"}}
    assert not model.is_substantive(later, declared=False)


def test_what_publication_fixes_cannot_be_amended() -> None:
    before = validation.validate_tender(tender(reference="ZB-1"), RULES)
    model.check_amendment(before, msgspec.structs.replace(before, region="别处"))
    with pytest.raises(InvalidInput) as raised:
        model.check_amendment(
            before, msgspec.structs.replace(before, purchaser_id=2, custody_threshold=3, reference="ZB-2")
        )
    assert set(raised.value.errors) == {"purchaser_id", "custody_threshold", "reference"}


# --- Questions ----------------------------------------------------------------------------------------------------


def test_pseudonyms_run_like_spreadsheet_columns() -> None:
    assert [validation.pseudonym(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


@given(st.integers(0, 100_000), st.integers(0, 100_000))
def test_different_askers_never_share_a_pseudonym(a: int, b: int) -> None:
    assert (validation.pseudonym(a) == validation.pseudonym(b)) == (a == b)


def test_questions_need_registration_and_come_before_the_cutoff() -> None:
    cutoff = NOW + dt.timedelta(days=1)
    ask = dict(status=Status.PUBLISHED, questions_until=cutoff, now=NOW)
    assert validation.check_question("  工期？ ", registered=True, **ask) == "工期？"  # type: ignore[arg-type]  # the keywords of check_question
    with pytest.raises(InvalidTransition, match="Register"):
        validation.check_question("工期？", registered=False, **ask)  # type: ignore[arg-type]  # the keywords of check_question
    with pytest.raises(InvalidTransition, match="cutoff"):
        validation.check_question("工期？", registered=True, status=Status.PUBLISHED, questions_until=NOW, now=NOW)
    with pytest.raises(InvalidTransition):
        validation.check_question("工期？", registered=True, status=Status.CANCELLED, questions_until=cutoff, now=NOW)
    for text in ("", "  ", "问" * (model.MAX_QUESTION_LENGTH + 1)):
        with pytest.raises(InvalidInput):
            validation.check_question(text, registered=True, **ask)  # type: ignore[arg-type]  # the keywords of check_question


# --- Documents ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cleaned", "content_type"),
    [
        ("招标文件.pdf", "招标文件.pdf", "application/pdf"),
        ("C:\\Users\\李娜\\工程量清单.XLSX", "工程量清单.XLSX", validation.DOCUMENT_TYPES[".xlsx"]),
        ("/home/li/图纸/总平面图.dwg", "总平面图.dwg", "image/vnd.dwg"),
        ("资料包.7z", "资料包.7z", "application/x-7z-compressed"),
        (" 说明\n.txt", "说明 .txt", "text/plain"),
    ],
)
def test_document_kinds_come_from_the_name(name: str, cleaned: str, content_type: str) -> None:
    assert validation.document_type(name) == (cleaned, content_type)


@pytest.mark.parametrize("name", ["", "   ", ".pdf", "setup.exe", "page.html", "noextension", "a/", "x" * 252 + ".pdf"])
def test_other_files_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        validation.document_type(name)


# --- Search -------------------------------------------------------------------------------------------------------


def test_chinese_is_indexed_by_characters_and_pairs_and_words_whole() -> None:
    assert search_model.search_terms("门诊楼 CT-2026 Renovation") == {
        "门", "诊", "楼", "门诊", "诊楼", "ct-2026", "renovation",
    }  # fmt: skip


def test_queries_match_every_pair_of_a_chinese_word() -> None:
    assert search_model.query_terms("门诊楼改造") == ["改造", "楼改", "诊楼", "门诊"]
    assert search_model.query_terms("楼") == ["楼"]
    assert search_model.query_terms("ＣＴ机 采购") == ["ct", "机", "采购"]
    assert search_model.query_terms("!!! ???") == []
    assert set(search_model.query_terms("门诊楼改造")) <= search_model.search_terms("示范市门诊楼改造工程")


def test_a_tsquery_quotes_every_term_and_lets_words_be_prefixes() -> None:
    assert search_model.tsquery(["renov", "门诊"]) == "'renov':* & '门诊'"
    assert search_model.tsquery([]) is None


@given(st.text(max_size=300))
def test_query_terms_are_always_safe_in_a_tsquery(text: str) -> None:
    for term in search_model.query_terms(text):
        assert "'" not in term and "\\" not in term and term


def test_long_queries_are_cut() -> None:
    assert len(search_model.query_terms("门" * 1000)) == 1
    assert len("".join(search_model.query_terms("ab " * 1000))) <= search_model.MAX_QUERY_LENGTH


def test_generated_references_say_the_category_and_year() -> None:
    assert model.make_reference(model.Category.LAND_USE, 2026, 17) == "TD-2026-00017"
    assert model.REFERENCE_PATTERN.fullmatch(model.make_reference(model.Category.WORKS, 2026, 123456))


@pytest.mark.parametrize(
    "telephone", ["0512-6888 1234", "(0512) 68881234", "138 1234 5678", "+86 512 6888 1234", "0512-68881234 转 801"]
)
def test_telephone_numbers_as_people_write_them_are_accepted(telephone: str) -> None:
    assert problems(tender(contact=Contact("张伟", telephone, "zhang.wei@example.com"))) == set()


@pytest.mark.parametrize("telephone", ["12345", "call me", "0512-6888-1234-5678-9012", "+86 ", "6888 1234 ext"])
def test_a_telephone_number_that_is_not_one_is_refused(telephone: str) -> None:
    assert problems(tender(contact=Contact("张伟", telephone))) == {"contact.telephone"}


@pytest.mark.parametrize(
    "email", ["zhang", "zhang@", "@example.com", "zhang@example", "a..b@example.com", "张@例子.中国"]
)
def test_an_email_address_that_is_not_one_is_refused(email: str) -> None:
    assert problems(tender(contact=Contact("张伟", email=email))) == {"contact.email"}


def test_a_contact_is_cleaned_and_its_name_limited() -> None:
    cleaned = validation.validate_tender(
        tender(contact=Contact("  张\n伟 ", " 0512-6888  1234 ", "z@example.com ")), RULES
    )
    assert cleaned.contact == Contact("张 伟", "0512-6888 1234", "z@example.com")
    assert problems(tender(contact=Contact("张" * 51))) == {"contact.name"}


def test_a_purchasers_contact_is_optional_but_has_a_name_and_a_telephone_when_given() -> None:
    assert problems(tender(purchaser_contact=Contact())) == set()
    assert problems(tender(purchaser_contact=Contact(email="wang@example.com"))) == {
        "purchaser_contact.name",
        "purchaser_contact.telephone",
    }


def test_a_published_notice_needs_its_whole_contact() -> None:
    assert validation.missing_contact(Contact("张伟", "0512-6888 1234")) == ["email"]
    with pytest.raises(InvalidInput) as raised:
        validation.check_contact_given(Contact(telephone="0512-6888 1234"))
    assert set(raised.value.errors) == {"contact.name", "contact.email"}
    validation.check_contact_given(Contact("张伟", "0512-6888 1234", "zhang.wei@example.com"))


def test_an_amendment_of_the_contact_lists_it_as_changed_and_not_substantive() -> None:
    before = validation.validate_tender(tender(), RULES)
    after = msgspec.structs.replace(before, contact=Contact("李娜", before.contact.telephone, before.contact.email))
    changes = model.diff(model.snapshot(before), model.snapshot(after))
    assert changes == {"contact.name": {"before": "张伟", "after": "李娜"}}
    assert not model.is_substantive(changes, declared=False)
