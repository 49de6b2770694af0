"""OCDS merging (compiled releases) by the standard's rules, and exact amounts on the wire."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bidding.opendata import model
from bidding.tenders.model import Contact, LocalText, Lot, Method, Party
from tests.samples import tender_record


def release(date: str, **fields: object) -> dict[str, object]:
    return {"ocid": "ocds-test-1", "id": f"r-{date}", "date": date, "tag": ["tender"], **fields}


def test_later_values_win_and_omitted_fields_are_kept() -> None:
    compiled = model.compile_releases(
        [
            release("2026-01-01T00:00:00+00:00", tender={"id": "T", "title": "旧", "description": "说明"}),
            release("2026-01-02T00:00:00+00:00", tender={"id": "T", "title": "新"}),
        ]
    )
    assert compiled == {
        "ocid": "ocds-test-1",
        "id": "ocds-test-1-compiled",
        "date": "2026-01-02T00:00:00+00:00",
        "tag": ["compiled"],
        "tender": {"id": "T", "title": "新", "description": "说明"},
    }


def test_null_removes_a_field() -> None:
    compiled = model.compile_releases(
        [release("2026-01-01", tender={"id": "T", "title": "x"}), release("2026-01-02", tender={"title": None})]
    )
    assert compiled["tender"] == {"id": "T"}


def test_objects_with_ids_merge_by_id_and_other_arrays_are_replaced() -> None:
    compiled = model.compile_releases(
        [
            release(
                "2026-01-01",
                parties=[{"id": "a", "name": "甲", "roles": ["buyer"]}, {"id": "b", "name": "乙"}],
                tender={"submissionMethod": ["written", "electronicSubmission"]},
            ),
            release(
                "2026-01-02",
                parties=[{"id": "b", "roles": ["procuringEntity"]}, {"id": "c", "name": "丙"}],
                tender={"submissionMethod": ["electronicSubmission"]},
            ),
        ]
    )
    assert compiled["parties"] == [
        {"id": "a", "name": "甲", "roles": ["buyer"]},
        {"id": "b", "name": "乙", "roles": ["procuringEntity"]},
        {"id": "c", "name": "丙"},
    ]
    assert compiled["tender"] == {"submissionMethod": ["electronicSubmission"]}


def test_merging_does_not_change_the_releases() -> None:
    first = release("2026-01-01", tender={"amendments": [{"id": "1", "rationale": "a"}]})
    second = release("2026-01-02", tender={"amendments": [{"id": "1"}, {"id": "2", "rationale": "b"}]})
    before = repr((first, second))
    model.compile_releases([first, second])
    assert repr((first, second)) == before


def test_amounts_keep_every_digit() -> None:
    encoded = model.encode({"amount": Decimal("99999999999999.99"), "small": Decimal("0.10")})
    assert encoded == b'{"amount":99999999999999.99,"small":0.10}'
    assert model.decode(encoded) == {"amount": Decimal("99999999999999.99"), "small": Decimal("0.10")}


def test_a_release_package_splices_stored_releases_in() -> None:
    publisher = model.Publisher("中心", "https://bids.example.org/")
    body = model.release_package(
        [b'{"id":"a"}', b'{"id":"b"}'],
        uri="https://bids.example.org/ocds/releases",
        publisher=publisher,
        published=dt.datetime(2026, 11, 21, tzinfo=dt.UTC),
        next_url="https://bids.example.org/ocds/releases?cursor=2",
    )
    decoded = model.decode(body)
    assert decoded["releases"] == [{"id": "a"}, {"id": "b"}]
    assert decoded["links"] == {"next": "https://bids.example.org/ocds/releases?cursor=2"}
    assert decoded["version"] == "1.1" and decoded["extensions"] == [model.LOTS_EXTENSION, model.BIDS_EXTENSION]


def test_arrays_inside_arrays_are_copied_whole() -> None:
    compiled = model.compile_releases([release("2026-01-01", tender={"milestones": [[1, 2], [3]]})])
    assert compiled["tender"] == {"milestones": [[1, 2], [3]]}


def test_a_purchaser_running_its_own_tender_is_one_party_named_only_as_it_is() -> None:
    """A purchaser that is its own agency is one party, buyer and procuring entity, with the notice's contact;
    without an English name or a credit code, it is named as it is and identified by its id."""
    purchaser = Party(3, "某县人民医院", None, None)
    context = model.ReleaseContext("ocds-test", "https://bidding.example", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    tender = tender_record(
        agency=purchaser,
        purchaser=purchaser,
        lots=(Lot(1, LocalText("一标段", ""), Decimal("100.00"), Decimal("0"), Method.LOWEST_PRICE, criteria=[]),),
        contact=Contact("王工", "025-12345678", "wang@example.cn"),
    )
    released = model.release(tender, [], [], "tender", context)
    assert released["parties"] == [
        {
            "id": "org-3",
            "name": "某县人民医院",
            "roles": ["buyer", "procuringEntity"],
            "contactPoint": {"name": "王工", "telephone": "025-12345678", "email": "wang@example.cn"},
        }
    ]
