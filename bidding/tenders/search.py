"""The notice board's search: published tenders matching a query, newest first, a page at a time.

Anyone may search (drafts are never found); the filters are checked here and the statement made in
:mod:`bidding.tenders.search_repo`, from the terms of :mod:`bidding.tenders.search_model`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from bidding.db import Database
from bidding.errors import InvalidInput
from bidding.i18n import N_, Message
from bidding.inputs import decode_cursor, encode_cursor
from bidding.settings import Settings
from bidding.tenders import search_model, search_repo, validation
from bidding.tenders.model import Category, Status

#: Search results per page, by default and at most.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class SearchQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A search of published tenders, as the notice list's form and the API's query string give it."""

    q: str = ""
    category: Category | None = None
    region: str | None = None
    #: ``open`` (before the deadline), ``closed`` (after it) or a lifecycle status.
    status: str | None = None
    budget_min: str | None = None
    budget_max: str | None = None
    #: Dates, in the platform's time zone, between which the deadline falls (both included).
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    cursor: str | None = None
    limit: int = PAGE_SIZE


SEARCH_STATUSES = ("open", "closed", *(s.value for s in Status if s not in (Status.DRAFT, Status.PUBLISHED)))


@dataclasses.dataclass(frozen=True, slots=True)
class SearchPage:
    items: list[search_model.TenderSummary]
    #: The cursor of the next page, ``None`` on the last.
    next_cursor: str | None


def _encode_cursor(summary: search_model.TenderSummary) -> str:
    assert summary.published_at is not None, "search lists published tenders"
    return encode_cursor(summary.published_at, summary.id)


def _search_filters(query: SearchQuery, timezone: ZoneInfo) -> search_model.SearchFilters:
    errors: dict[str, Message] = {}
    amounts: dict[str, Decimal | None] = {}
    for field in ("budget_min", "budget_max"):
        raw = getattr(query, field)
        try:
            amounts[field] = validation.parse_amount(raw, allow_zero=True) if raw not in (None, "") else None
        except ValueError:
            errors[field] = N_("Give an amount such as 500000, with at most two decimals.")
    if query.status not in (None, "", *SEARCH_STATUSES):
        errors["status"] = N_("Choose a status from the list.")
    if not 1 <= query.limit <= MAX_PAGE_SIZE:
        errors["limit"] = N_("A page has 1 to %(count)d results.", count=MAX_PAGE_SIZE)
    if errors:
        raise InvalidInput(errors=errors)

    def start_of(day: dt.date | None) -> dt.datetime | None:
        return dt.datetime.combine(day, dt.time(), timezone) if day else None

    return search_model.SearchFilters(
        terms=search_model.tsquery(search_model.query_terms(query.q)),
        category=query.category,
        region=(query.region or "").strip() or None,
        status=query.status or None,
        budget_min=amounts["budget_min"],
        budget_max=amounts["budget_max"],
        deadline_from=start_of(query.deadline_from),
        deadline_to=start_of(query.deadline_to + dt.timedelta(days=1)) if query.deadline_to else None,
    )


async def search(db: Database, settings: Settings, query: SearchQuery) -> SearchPage:
    """Published tenders matching the query, newest first, a page at a time; raises InvalidInput."""
    filters = _search_filters(query, ZoneInfo(settings.timezone))
    after = decode_cursor(query.cursor) if query.cursor else None
    async with db.connection() as connection:
        found = await search_repo.search_tenders(connection, filters, after=after, limit=query.limit + 1)
    items = found[: query.limit]
    return SearchPage(items, _encode_cursor(items[-1]) if len(found) > query.limit else None)


async def regions(db: Database) -> list[str]:
    async with db.connection() as connection:
        return await search_repo.select_regions(connection)
