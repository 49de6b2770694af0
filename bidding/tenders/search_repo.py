"""SQL of the notice board and the lists of tenders: summaries, the search, the regions.

The status of a summary is the one people see (``model.effective_status``): open for bids until the deadline,
closed from it.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from bidding.db import Connection
from bidding.tenders.model import Category, LocalText, Procedure, Status
from bidding.tenders.repo import TENDER_FROM
from bidding.tenders.search_model import SearchFilters, TenderSummary

# The status as people see it (model.effective_status): open for bids until the deadline, closed from it.
_SUMMARY_COLUMNS = """t.id, t.reference,
    CASE WHEN t.status = 'published' AND t.deadline <= now() THEN 'closed' ELSE t.status END AS status,
    t.category, t.procedure, t.region, t.budget, t.title_zh, t.title_en, t.deadline, t.published_at,
    a.name AS agency_name, p.name AS purchaser_name, a.name_en AS agency_name_en, p.name_en AS purchaser_name_en,
    (SELECT count(*) FROM tender_lots l WHERE l.tender_id = t.id) AS lot_count, t.cancelled_at, t.cancel_reason"""


def _summary(row: asyncpg.Record) -> TenderSummary:
    return TenderSummary(
        id=row["id"],
        reference=row["reference"],
        status=Status(row["status"]),
        category=Category(row["category"]),
        procedure=Procedure(row["procedure"]),
        region=row["region"],
        budget=row["budget"],
        title=LocalText(row["title_zh"], row["title_en"]),
        deadline=row["deadline"],
        published_at=row["published_at"],
        agency_name=row["agency_name"],
        purchaser_name=row["purchaser_name"],
        lot_count=row["lot_count"],
        agency_name_en=row["agency_name_en"],
        purchaser_name_en=row["purchaser_name_en"],
        cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"],
    )


#: The condition of each status filter (see :class:`SearchFilters`).
_STATUS_CONDITIONS = {
    "open": "t.status = 'published' AND t.deadline > now()",
    "closed": "(t.status = 'closed' OR (t.status = 'published' AND t.deadline <= now()))",
}


async def search_tenders(
    connection: Connection, filters: SearchFilters, *, after: tuple[dt.datetime, int] | None, limit: int
) -> list[TenderSummary]:
    """Published tenders matching every filter, newest first, after the keyset cursor ``after``.

    The statement names only the filters given (each a fixed condition with its value as a parameter), so that
    every combination gets a plan made for it rather than one generic plan for all. The page is chosen first and
    only its rows are joined to their organisations: the planner underestimates how many tenders match several
    Chinese character pairs at once (they occur together, it assumes they do not), and would otherwise join
    every match before keeping the newest.
    """
    conditions = ["t.published_at IS NOT NULL"]
    values: list[object] = []

    def where(condition: str, *params: object) -> None:
        numbers = [f"${len(values) + i}" for i in range(1, len(params) + 1)]
        conditions.append(condition.format(*numbers))
        values.extend(params)

    if filters.terms is not None:
        where("t.search @@ {}::tsquery", filters.terms)
    if filters.category is not None:
        where("t.category = {}", filters.category)
    if filters.region is not None:
        where("t.region = {}", filters.region)
    if filters.status is not None:
        if filters.status in _STATUS_CONDITIONS:
            conditions.append(_STATUS_CONDITIONS[filters.status])
        else:
            where("t.status = {}", filters.status)
    if filters.budget_min is not None:
        where("t.budget >= {}", filters.budget_min)
    if filters.budget_max is not None:
        where("t.budget <= {}", filters.budget_max)
    if filters.deadline_from is not None:
        where("t.deadline >= {}", filters.deadline_from)
    if filters.deadline_to is not None:
        where("t.deadline < {}", filters.deadline_to)
    if after is not None:
        where("(t.published_at, t.id) < ({}, {})", *after)
    values.append(limit)
    page = (
        "SELECT * FROM tenders t WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY t.published_at DESC, t.id DESC LIMIT ${len(values)}"
    )
    rows = await connection.fetch(
        "SELECT "
        + _SUMMARY_COLUMNS
        + " FROM ("
        + page
        + """) t
           JOIN organisations a ON a.id = t.agency_id
           JOIN organisations p ON p.id = t.purchaser_id
           ORDER BY t.published_at DESC, t.id DESC""",
        *values,
    )
    return [_summary(row) for row in rows]


async def select_regions(connection: Connection, *, limit: int = 200) -> list[str]:
    """The regions of published tenders, in order: a skip scan of the region index, one probe per region."""
    rows = await connection.fetch(
        """WITH RECURSIVE regions (region) AS (
               (SELECT region FROM tenders WHERE published_at IS NOT NULL ORDER BY region LIMIT 1)
               UNION ALL
               SELECT (SELECT t.region FROM tenders t
                       WHERE t.published_at IS NOT NULL AND t.region > r.region ORDER BY t.region LIMIT 1)
               FROM regions r WHERE r.region IS NOT NULL
           )
           SELECT region FROM regions WHERE region IS NOT NULL LIMIT $1""",
        limit,
    )
    return [row["region"] for row in rows]


async def select_organisation_tenders(connection: Connection, organisation_id: int) -> list[TenderSummary]:
    """Tenders an organisation runs or purchases for, drafts included, most recently changed first."""
    rows = await connection.fetch(
        "SELECT "
        + _SUMMARY_COLUMNS
        + " "
        + TENDER_FROM
        + """ WHERE t.agency_id = $1 OR t.purchaser_id = $1
           ORDER BY t.updated_at DESC, t.id DESC LIMIT 500""",
        organisation_id,
    )
    return [_summary(row) for row in rows]


async def select_registered_tenders(connection: Connection, organisation_id: int) -> list[TenderSummary]:
    rows = await connection.fetch(
        "SELECT "
        + _SUMMARY_COLUMNS
        + " "
        + TENDER_FROM
        + """ JOIN tender_registrations r ON r.tender_id = t.id AND r.organisation_id = $1
           ORDER BY t.deadline DESC, t.id DESC LIMIT 500""",
        organisation_id,
    )
    return [_summary(row) for row in rows]
