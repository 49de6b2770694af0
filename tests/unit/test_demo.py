"""The demo data without a database: valid tenders, real PDF and CSV files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest

from bidding.demo import seed as demo
from bidding.demo.tenders import TENDERS, DemoTender
from bidding.identity import PLATFORM
from bidding.settings import TimeRules
from bidding.tenders import model, validation
from bidding.tenders.model import Category, Procedure

#: Seeding late in the evening and early in the morning (deadlines fall at 09:30).
MOMENTS = [
    dt.datetime(2026, 3, 2, 22, 45, tzinfo=ZoneInfo("Asia/Shanghai")),
    dt.datetime(2026, 12, 30, 6, 0, tzinfo=dt.UTC),
]
CAST = demo.Cast(
    agent=PLATFORM,
    bidders={},
    purchaser_ids={key: index for index, (key, *_) in enumerate(demo.ORGANISATIONS, start=1)},
    custodian_ids=[101, 102, 103],
    bidder_organisation_ids=[201, 202, 203],
)


@pytest.mark.parametrize("now", MOMENTS)
@pytest.mark.parametrize("spec", TENDERS, ids=[spec.reference for spec in TENDERS])
def test_every_demo_tender_is_valid_and_publishable_when_seeded(spec: DemoTender, now: dt.datetime) -> None:
    tender = validation.validate_tender(demo.tender_input(spec, now, CAST), TimeRules())
    model.check_publication(tender.documents_from, tender.deadline, now, TimeRules())
    assert 25 <= (tender.deadline - now).days <= 45
    assert tender.title.zh and tender.title.en and tender.description.zh and tender.description.en
    for question in spec.questions:
        assert question.asker in spec.registrations


def test_the_board_covers_every_category_an_invitation_a_draft_and_a_cancellation() -> None:
    published = [spec for spec in TENDERS if spec.outcome == "published"]
    assert {spec.category for spec in published} == set(Category)
    assert any(spec.procedure is Procedure.INVITED for spec in published)
    assert [spec.outcome for spec in TENDERS].count("draft") == 1
    assert all(spec.cancel_reason for spec in TENDERS if spec.outcome == "cancelled")
    assert len({spec.reference for spec in TENDERS}) == len(TENDERS)


def test_the_pdf_has_an_exact_cross_reference_table() -> None:
    pdf = demo.minimal_pdf(["Tender (demo) \\ 招标", "x" * 200])
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    startxref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))  # type: ignore[union-attr]  # the PDF has it: a missing match fails the test anyway
    assert pdf[startxref:].startswith(b"xref\n0 6\n")
    offsets = re.findall(rb"(\d{10}) 00000 n ", pdf[startxref:])
    for number, offset in enumerate(offsets, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj\n" % number)
    length = int(re.search(rb"/Length (\d+) >>\nstream\n", pdf).group(1))  # type: ignore[union-attr]  # the PDF has it: a missing match fails the test anyway
    assert re.search(rb"stream\n(.*)\nendstream", pdf, re.S).group(1).__len__() == length  # type: ignore[union-attr]  # the PDF has it: a missing match fails the test anyway
    assert b"(Tender \\(demo\\) \\\\ ??) Tj" in pdf
    assert b"T* (    xxx" in pdf, "long lines are wrapped"


def test_tables_are_csv_with_a_byte_order_mark() -> None:
    data = demo.table_csv([["序号", "项目名称"], ["1", "钢筋, HRB400"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["序号", "项目名称"], ["1", "钢筋, HRB400"]]
