"""Sample tenders for tests: valid as given, so that each test changes only what it is about."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from bidding.tenders.model import (
    Category,
    Contact,
    Criterion,
    LocalText,
    LotInput,
    Method,
    Party,
    PriceFormula,
    Procedure,
    Status,
    Tender,
    TenderInput,
)

PRICE_FORMULA = PriceFormula("lowest_price_ratio")
#: The contact person a published notice names.
CONTACT = Contact("张伟", "0512-6888 1234", "zhang.wei@example.com")


def scoring_criteria() -> list[Criterion]:
    """Comprehensive scoring adding up to 100: price 40 (formula), technical 45 (three parts), service 15."""
    return [
        Criterion(LocalText("价格", "Price"), "40", "price", PRICE_FORMULA),
        Criterion(
            LocalText("技术方案", "Technical proposal"),
            "45",
            "subjective",
            children=[
                Criterion(LocalText("施工组织设计", "Construction plan"), "20"),
                Criterion(LocalText("质量保证措施", "Quality assurance"), "15"),
                Criterion(LocalText("工期保证", "Schedule"), "10", "objective"),
            ],
        ),
        Criterion(LocalText("售后服务", "After-sales service"), "15"),
    ]


def sample_tender(
    now: dt.datetime,
    *,
    purchaser_id: int,
    custodian_ids: list[int],
    days: int = 30,
    **changes: object,
) -> TenderInput:
    """A works tender with two lots, documents from ``now``, the deadline ``days`` later at 09:30."""
    deadline = (now + dt.timedelta(days=days)).replace(hour=9, minute=30, second=0, microsecond=0)
    values: dict[str, object] = {
        "title": LocalText(
            "示范市第一人民医院门诊楼改造工程", "Outpatient building renovation, First People's Hospital"
        ),
        "description": LocalText(
            "门诊楼主体结构加固、机电安装及室内装修。",
            "Structural reinforcement, MEP installation and interior fit-out.",
        ),
        "category": Category.WORKS,
        "procedure": Procedure.OPEN,
        "purchaser_id": purchaser_id,
        "region": "示范市",
        "lots": [
            LotInput(
                1,
                LocalText("土建施工", "Civil works"),
                "12500000.00",
                "200000",
                Method.COMPREHENSIVE,
                scoring_criteria(),
            ),
            LotInput(
                2,
                LocalText("机电安装", "MEP installation"),
                "3800000.5",
                "0",
                Method.LOWEST_PRICE,
                [Criterion(LocalText("资格审查", "Qualification"), kind="check")],
            ),
        ],
        "documents_from": now,
        "questions_until": deadline - dt.timedelta(days=10),
        "deadline": deadline,
        "evaluation_at": deadline + dt.timedelta(hours=1),
        "committee_size": 5,
        "custodian_ids": custodian_ids,
        "custody_threshold": min(2, len(custodian_ids)),
        "contact": CONTACT,
    }
    values.update(changes)
    return TenderInput(**values)  # type: ignore[arg-type]  # the keys are TenderInput's fields


def tender_record(**changes: Any) -> Tender:
    """A published tender as a repo returns it (agency 1, purchaser 2, no lots), with ``changes`` replaced."""
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    tender = Tender(
        id=7,
        reference="GC-2026-00007",
        status=Status.PUBLISHED,
        category=Category.WORKS,
        procedure=Procedure.OPEN,
        region="330100",
        currency="CNY",
        budget=Decimal("100"),
        title=LocalText("工程", "Works"),
        description=LocalText("说明", "About"),
        documents_from=now,
        questions_until=now + dt.timedelta(days=10),
        deadline=now + dt.timedelta(days=20),
        evaluation_at=now + dt.timedelta(days=21),
        committee_size=5,
        specialties=[],
        custody_threshold=1,
        custodian_ids=(),
        invited_ids=(),
        version=1,
        agency=Party(1, "代理", None, None),
        purchaser=Party(2, "采购人", None, None),
        created_by=10,
        created_at=now,
        updated_at=now,
        published_at=now,
        cancelled_at=None,
        cancel_reason=None,
        lots=(),
        contact=Contact(),
        purchaser_contact=Contact(),
    )
    return dataclasses.replace(tender, **changes)
