import datetime as dt
import gc
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from bidding.experts.model import (
    MAX_CONFLICTS,
    MAX_RESERVES,
    MAX_SPECIALTIES,
    MAX_UNAVAILABLE_DAYS,
    Classification,
    ConflictInput,
    Declarations,
    PoolEntry,
    ProfileInput,
    QuotaInput,
    QuotaRequest,
    Relation,
    Specialty,
    Status,
    StatusChange,
    check_declarations,
    check_pool,
    check_profile,
    check_quotas,
    check_status,
    collector_paused,
    committee_rule,
    experts_by_label,
    label,
    load_specialties,
    make_pool,
    masked_identity_number,
    parse_specialties,
)
from bidding.names import load_regions
from bidding.settings import DrawRules, SettingsError
from crypto import draw as drawing
from crypto import draw_record

SHIPPED = load_specialties(None)


def test_the_shipped_classification_covers_works_goods_and_services_in_two_levels() -> None:
    assert [(c.code, c.en) for c in SHIPPED.classes] == [("A", "Works"), ("B", "Goods"), ("C", "Services")]
    for klass in SHIPPED.classes:
        specialties = SHIPPED.specialties_of(klass.code)
        assert len(specialties) >= 5
        assert all(s.code.startswith(klass.code) and s.zh and s.en for s in specialties)
    cost = SHIPPED.find("A08")
    assert cost == Specialty("A08", "A", "工程造价", "Cost engineering")
    assert SHIPPED.is_specialty("A08")
    assert not SHIPPED.is_specialty("A")
    assert not SHIPPED.is_specialty("Z99")
    assert SHIPPED.find("Z99") is None
    assert len(list(SHIPPED)) == len(SHIPPED)


def test_an_operator_ships_its_own_classification(tmp_path: Path) -> None:
    path = tmp_path / "specialties.csv"
    path.write_text("# ours\ncode,parent,zh,en\nD,,土地,Land\nD01,D,土地估价,Land valuation\n", encoding="utf-8")
    found = load_specialties(path)
    assert [s.code for s in found] == ["D", "D01"]
    assert found.specialties_of("D") == (Specialty("D01", "D", "土地估价", "Land valuation"),)


def test_an_unreadable_classification_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_specialties(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the first line must be the header"),
        ("code,zh,en\n", "the first line must be the header"),
        ("code,parent,zh,en\nA,,工程\n", "row 2 is not a code"),
        ("code,parent,zh,en\nA,,,Works\n", "row 2 is not a code"),
        ("code,parent,zh,en\nAB,,工程,Works\n", "a class's code is one capital letter"),
        ("code,parent,zh,en\nA01,A,房建,Buildings\n", "after its class"),
        ("code,parent,zh,en\nA,,工程,Works\nB01,A,房建,Buildings\n", "after its class"),
        ("code,parent,zh,en\nA,,工程,Works\nA1,A,房建,Buildings\n", "after its class"),
        ("code,parent,zh,en\nA,,工程,Works\nA,,工程,Works\n", "the code A is listed twice"),
    ],
)
def test_a_malformed_classification_is_refused_naming_the_row(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_specialties(text, "ours.csv")


def test_a_classification_has_a_bounded_size() -> None:
    letters = [chr(code) for code in range(ord("A"), ord("Z") + 1)]
    rows = [f"{letter},,类{letter},Class {letter}" for letter in letters]
    rows += [f"{letter}{n:02},{letter},专业,Specialty" for letter in letters for n in range(1, 40)]
    assert len(rows) > MAX_SPECIALTIES
    with pytest.raises(SettingsError, match="at most"):
        parse_specialties("code,parent,zh,en\n" + "\n".join(rows), "big.csv")


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110***********002X"),
        (" 11010519491231002x ", "110***********002X"),
        ("110105194912310021", None),
        ("11010519491331002X", None),
        ("01010519491231002X", None),
        ("1101051949123100", None),
        ("110105194902300020", None),
    ],
)
def test_identity_numbers_are_checked_and_kept_masked(number: str, masked: str | None) -> None:
    assert masked_identity_number(number) == masked


def test_a_valid_number_with_an_impossible_birth_date_is_refused() -> None:
    # 30 February 1949, with the check character that the first 17 digits give.
    first17 = "11010519490230002"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]
    assert masked_identity_number(first17 + check) is None


RULES = DrawRules()


def test_a_committee_has_five_or_more_members_unless_large_government_procurement() -> None:
    works = committee_rule("works", Decimal("50000000"), RULES)
    assert works.minimum == 5
    assert "art. 37" in works.basis.text
    small = committee_rule("goods", Decimal("9999999.99"), RULES)
    assert small.minimum == 5
    large = committee_rule("services", Decimal("10000000"), RULES)
    assert large.minimum == 7
    assert "art. 47" in large.basis.text
    assert large.basis.params["budget"] == "10,000,000"


def quotas(*given: tuple[str, int, int]) -> list[QuotaRequest]:
    return [QuotaRequest(*quota) for quota in given]


def test_quotas_that_fill_the_committee_are_accepted() -> None:
    rule = committee_rule("works", Decimal(1000), RULES)
    assert check_quotas(quotas(("A01", 3, 2), ("A08", 2, MAX_RESERVES)), 5, rule, SHIPPED) == {}


@pytest.mark.parametrize(
    ("given", "size", "fields"),
    [
        ([("A01", 3, 1), ("A08", 1, 1)], 5, {"quotas"}),
        ([("A01", 4, 1)], 4, {"committee_size"}),
        ([("A01", 3, 1)], 3, {"committee_size"}),
        ([], 5, {"quotas"}),
        ([("A", 5, 1)], 5, {"quotas.0.specialty"}),
        ([("A01", 3, 1), ("A01", 2, 1)], 5, {"quotas.1.specialty"}),
        ([("A01", 5, 1), ("A08", 0, 1)], 5, {"quotas.1.seats"}),
        ([("A01", 5, -1)], 5, {"quotas.0.reserves"}),
        ([("A01", 5, MAX_RESERVES + 1)], 5, {"quotas.0.reserves"}),
    ],
)
def test_quotas_that_do_not_make_a_committee_are_refused_by_field(
    given: list[tuple[str, int, int]], size: int, fields: set[str]
) -> None:
    rule = committee_rule("works", Decimal(1000), RULES)
    assert set(check_quotas(quotas(*given), size, rule, SHIPPED)) == fields


def test_a_large_government_procurement_refuses_a_committee_of_five() -> None:
    rule = committee_rule("goods", Decimal("12000000"), RULES)
    errors = check_quotas(quotas(("B01", 5, 2)), 5, rule, SHIPPED)
    assert errors == {"committee_size": rule.basis}


def test_an_empty_classification_offers_nothing() -> None:
    empty = Classification([])
    assert not empty.classes
    assert not empty.is_specialty("A01")


# --- Profiles, declarations and the pool ------------------------------------------------------------------------

REGIONS = load_regions(None)
TODAY = dt.date(2026, 12, 7)
#: A valid number (GB 11643 check character X) and its masked form.
NUMBER = "11010519491231002X"


def _profile(**changes: object) -> ProfileInput:
    values: dict[str, object] = {
        "title": "高级工程师",
        "years": 12,
        "region": "示范市高新区",
        "telephone": "139 0000 0000",
        "specialties": ["A01", "A08", "A01"],
        "identity_number": NUMBER,
    }
    return msgspec.convert(values | changes, ProfileInput)


def test_a_profile_is_kept_with_the_masked_number_and_each_specialty_once() -> None:
    profile, errors = check_profile(_profile(), SHIPPED, REGIONS, new=True)
    assert errors == {}
    assert profile.identity_number_masked == "110***********002X"
    assert profile.specialties == ("A01", "A08")
    assert profile.region == "示范市高新区"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"identity_number": "110105194912310021"}, "identity_number"),
        ({"title": " "}, "title"),
        ({"region": "Atlantis"}, "region"),
        ({"telephone": "call me"}, "telephone"),
        ({"email": "nobody"}, "email"),
        ({"specialties": []}, "specialties"),
        ({"specialties": ["A"]}, "specialties"),
        ({"employer_credit_code": "9132050", "employer_name": "华建"}, "employer_credit_code"),
    ],
)
def test_a_profile_names_what_is_wrong(changes: dict[str, object], field: str) -> None:
    assert field in check_profile(_profile(**changes), SHIPPED, REGIONS, new=True)[1]


def test_an_edit_may_keep_the_number_on_record() -> None:
    profile, errors = check_profile(_profile(identity_number=None), SHIPPED, REGIONS, new=False)
    assert errors == {} and profile.identity_number_masked is None
    assert "identity_number" in check_profile(_profile(identity_number=None), SHIPPED, REGIONS, new=True)[1]


def test_a_suspension_has_a_reason_and_ends_after_today() -> None:
    assert check_status(StatusChange(Status.SUSPENDED, " 违规 ", TODAY + dt.timedelta(days=1)), TODAY)[1] == {}
    assert set(check_status(StatusChange(Status.SUSPENDED, None, TODAY), TODAY)[1]) == {"reason", "until"}
    assert "until" in check_status(StatusChange(Status.ACTIVE, None, TODAY), TODAY)[1]
    assert check_status(StatusChange(Status.RETIRED, "x"), TODAY)[0].reason is None


def test_declarations_keep_future_days_once_and_need_a_former_employers_end() -> None:
    code = "91320500MA00000010"
    (days, conflicts), errors = check_declarations(
        Declarations(
            [TODAY, TODAY, TODAY - dt.timedelta(days=1)],
            [ConflictInput(code.lower(), "华建", Relation.RELATIVE_EMPLOYED)],
        ),
        TODAY,
    )
    assert errors == {} and days == (TODAY,) and conflicts[0].credit_code == code
    _, errors = check_declarations(Declarations([], [ConflictInput(code, "华建", Relation.FORMER_EMPLOYER)]), TODAY)
    assert set(errors) == {"conflicts.0.until"}


def test_the_pool_refuses_a_quota_short_of_three_per_seat_and_orders_the_scarcest_first() -> None:
    entries = [PoolEntry(n, ("A01",), ()) for n in range(1, 10)] + [
        PoolEntry(n, ("A08",), ("suspended",) if n % 2 else ()) for n in range(10, 30)
    ]
    quotas = [QuotaInput("A08", 2, 2), QuotaInput("A01", 3, 2)]
    ordered, errors = check_pool(entries, quotas, 3)
    assert errors == {}
    assert [q.specialty for q in ordered] == ["A01", "A08"]
    _, errors = check_pool(entries, [QuotaInput("A01", 4, 0)], 3)
    assert set(errors) == {"quotas.0.seats"}


def test_labels_are_opaque_and_differ_per_key() -> None:
    first, second = label(b"k" * 32, 7), label(b"j" * 32, 7)
    assert first != second and first.startswith("X") and len(first) == 13
    pool = make_pool("ctx", [PoolEntry(7, ("A01",), ("suspended",))], [QuotaInput("A01", 1, 0)], b"k" * 32)
    assert pool.experts == {first: 7}
    assert [(e.label, e.reason) for e in pool.inputs.exclusions] == [(first, "suspended")]


def test_the_collector_is_paused_for_a_block_and_left_as_it_was() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "paused already: stays paused"
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_the_picks_experts_are_found_in_the_documents_order_or_by_every_label() -> None:
    key = b"k" * 32
    pool = make_pool("ctx", [PoolEntry(n, ("A01",), ()) for n in range(1, 10)], [QuotaInput("A01", 2, 1)], key)
    stored = draw_record.inputs_from_json(draw_record.inputs_to_json(pool.inputs))
    result = drawing.draw(stored, b"r" * 32)
    in_document_order = [pool.experts[candidate.label] for candidate in stored.candidates]
    assert in_document_order != list(range(1, 10))
    assert experts_by_label(key, stored, in_document_order, result) == pool.experts
    assert experts_by_label(key, stored, list(range(1, 10)), result) == pool.experts, "the pool's order"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"years": 81}, "years"),
        ({"employer_name": "华" * 201}, "employer_name"),
        ({"employer_credit_code": "91320500MA00000010"}, "employer_name"),
    ],
)
def test_a_profile_built_in_code_is_checked_as_one_from_a_request(changes: dict[str, object], field: str) -> None:
    profile = msgspec.structs.replace(_profile(), **changes)
    assert field in check_profile(profile, SHIPPED, REGIONS, new=True)[1]


def test_declarations_name_each_wrong_conflict_and_the_limits() -> None:
    code = "91320500MA00000010"
    later = TODAY + dt.timedelta(days=1)
    (_, _), errors = check_declarations(
        Declarations(
            [later + dt.timedelta(days=n) for n in range(MAX_UNAVAILABLE_DAYS + 1)],
            [
                ConflictInput("9132", "坏码", Relation.RELATIVE_EMPLOYED),
                ConflictInput(code, "华建", Relation.RELATIVE_EMPLOYED),
                ConflictInput(code, "华建", Relation.RELATIVE_EMPLOYED),
                ConflictInput(code, " ", Relation.RELATIVE_SHAREHOLDER),
                ConflictInput(code, "旧东家", Relation.FORMER_EMPLOYER, TODAY - dt.timedelta(days=1)),
            ]
            + [ConflictInput(code, "多", Relation.RELATIVE_SHAREHOLDER)] * MAX_CONFLICTS,
        ),
        TODAY,
    )
    assert {"unavailable", "conflicts", "conflicts.0.credit_code", "conflicts.2.credit_code"} <= set(errors)
    assert {"conflicts.3.name", "conflicts.4.until"} <= set(errors)
