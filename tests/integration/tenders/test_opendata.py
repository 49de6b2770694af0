"""The OCDS feed and records of real tenders, validated against the official OCDS 1.1.5 schemas."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import asyncpg
import msgspec
import pytest

from bidding.db import Database
from bidding.errors import InvalidInput, NotFound
from bidding.opendata import service as opendata
from bidding.opendata.model import ocid
from bidding.tenders import documents, drafting, model, reading
from bidding.tenders.model import LocalText
from tests.integration.tenders.conftest import Cast, chunks_of, published_tender
from tests.ocds import assert_valid


async def _feed(db: Database, cast: Cast, cursor: str | None = None, limit: int | None = None) -> dict[str, Any]:
    after, size = opendata.parse_cursor(cursor, limit)
    body = await opendata.releases_page(db, cast.settings, after=after, size=size)
    package: dict[str, Any] = json.loads(body)
    if package["releases"]:
        assert_valid("release-package", package)
    return package


async def _record(db: Database, cast: Cast, tender_id: int) -> dict[str, Any]:
    body = await opendata.record(db, cast.settings, ocid(cast.settings.ocid_prefix, tender_id))
    package: dict[str, Any] = json.loads(body)
    assert_valid("record-package", package)
    return package


async def _amend_title(db: Database, cast: Cast, tender_id: int) -> None:
    stored = (await reading.get_tender(db, cast.agent, tender_id)).tender
    changed = msgspec.structs.replace(model.tender_input(stored), title=LocalText(stored.title.zh + "（第二次）"))
    await drafting.amend(db, cast.settings, cast.agent, tender_id, changed, summary="更正标题", substantive=False)


async def test_a_published_tender_is_an_ocds_release(db: Database, cast: Cast) -> None:
    tender_id = await published_tender(db, cast)
    [release] = (await _feed(db, cast))["releases"]
    assert release["ocid"] == f"ocds-bidding-{tender_id}" and release["id"].endswith("-v1")
    assert release["tag"] == ["tender"] and release["initiationType"] == "tender" and release["language"] == "zh"
    tender = release["tender"]
    assert tender["status"] == "active" and tender["procurementMethod"] == "open"
    assert tender["mainProcurementCategory"] == "works" and "awardCriteria" not in tender  # lots differ
    assert tender["title"].startswith("示范市") and tender["title_en"].startswith("Outpatient")
    assert tender["value"] == {"amount": 16300000.5, "currency": "CNY"}
    assert [lot["value"]["amount"] for lot in tender["lots"]] == [12500000, 3800000.5]
    assert dt.datetime.fromisoformat(tender["tenderPeriod"]["endDate"]) > cast.now
    assert {d["documentType"] for d in tender["documents"]} == {"tenderNotice", "biddingDocuments"}
    roles = {party["name"]: party["roles"] for party in release["parties"]}
    assert roles == {"第一人民医院": ["buyer"], "明诚招标代理": ["procuringEntity"]}
    assert all(party["identifier"]["scheme"] == "CN-USCC" for party in release["parties"])
    assert release["buyer"]["id"] == next(p["id"] for p in release["parties"] if "buyer" in p["roles"])


async def test_drafts_are_not_published(db: Database, cast: Cast) -> None:
    await drafting.create_draft(db, cast.settings, cast.agent, cast.tender())
    assert (await _feed(db, cast))["releases"] == []


async def test_amounts_keep_their_fen_on_the_wire(db: Database, cast: Cast) -> None:
    await published_tender(db, cast)
    body = await opendata.releases_page(db, cast.settings, after=0, size=10)
    assert b'"value":{"amount":16300000.50,"currency":"CNY"}' in body


async def test_amendments_and_cancellation_are_releases_and_the_record_compiles_them(db: Database, cast: Cast) -> None:
    tender_id = await published_tender(db, cast)
    await _amend_title(db, cast, tender_id)
    await documents.upload_document(
        db,
        cast.settings,
        cast.blobs,
        cast.agent,
        tender_id,
        filename="补充文件.pdf",
        chunks=chunks_of(b"%PDF-1.7 addendum"),
        summary="补充图纸",
    )
    await drafting.cancel(db, cast.settings, cast.agent, tender_id, "项目资金未落实")
    releases = (await _feed(db, cast))["releases"]
    assert [r["tag"] for r in releases] == [
        ["tender"],
        ["tenderAmendment"],
        ["tenderAmendment"],
        ["tenderCancellation"],
    ]
    assert [r["id"].rsplit("-", 1)[1] for r in releases] == ["v1", "v2", "v3", "cancelled"]
    amendments = releases[2]["tender"]["amendments"]
    assert [(a["id"], a["amendsReleaseID"][-2:], a["releaseID"][-2:]) for a in amendments] == [
        ("2", "v1", "v2"),
        ("3", "v2", "v3"),
    ]
    record = (await _record(db, cast, tender_id))["records"][0]
    assert [r["id"] for r in record["releases"]] == [r["id"] for r in releases]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"] and compiled["date"] == releases[-1]["date"]
    assert compiled["tender"]["status"] == "cancelled" and compiled["tender"]["title"].endswith("（第二次）")
    cancellation = next(d for d in compiled["tender"]["documents"] if d["documentType"] == "cancellationDetails")
    assert cancellation["description"] == "项目资金未落实"
    assert len([d for d in compiled["tender"]["documents"] if d["documentType"] == "biddingDocuments"]) == 2


async def test_the_feed_pages_oldest_first_with_a_cursor(db: Database, cast: Cast) -> None:
    first = await published_tender(db, cast)
    second = await published_tender(db, cast, reference="ZB-2026-002")
    await _amend_title(db, cast, first)
    page = await _feed(db, cast, limit=2)
    assert [r["ocid"] for r in page["releases"]] == [f"ocds-bidding-{first}", f"ocds-bidding-{second}"]
    next_url = page["links"]["next"]
    assert next_url.startswith("http://127.0.0.1:8000/ocds/releases?cursor=") and next_url.endswith("&limit=2")
    cursor = next_url.split("cursor=")[1].split("&")[0]
    last = await _feed(db, cast, cursor=cursor, limit=2)
    assert [r["tag"] for r in last["releases"]] == [["tenderAmendment"]] and "links" not in last
    # Polling past the end finds nothing new, without error.
    beyond = await _feed(db, cast, cursor=str(int(cursor) + 1), limit=2)
    assert beyond["releases"] == []


@pytest.mark.parametrize(("cursor", "limit"), [("abc", None), ("-1", None), ("9" * 19, None), (None, 0), (None, 1001)])
async def test_bad_cursors_and_limits_are_refused(cursor: str | None, limit: int | None) -> None:
    with pytest.raises(InvalidInput):
        opendata.parse_cursor(cursor, limit)


async def test_an_unknown_ocid_has_no_record(db: Database, cast: Cast) -> None:
    with pytest.raises(NotFound):
        await opendata.record(db, cast.settings, "ocds-bidding-999999")


async def test_the_publisher_is_the_trading_centre(db: Database, cast: Cast, connection: asyncpg.Connection) -> None:
    await published_tender(db, cast)
    assert (await _feed(db, cast))["publisher"] == {"name": "交易中心", "uri": "http://127.0.0.1:8000/"}
