"""The notice board: what a tender is found by, what a query must match, and the summaries it lists.

Plain functions, no I/O: the tender use cases store a tender's terms as it is saved, and
:mod:`bidding.tenders.search` matches a query's against them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from bidding.tenders.model import Category, LocalText, Procedure, Status

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+(?:[._/-][0-9a-z]+)*")
#: Characters of a query considered; longer queries are cut.
MAX_QUERY_LENGTH = 100


def search_terms(text: str) -> set[str]:
    """Index terms of a text: Chinese as overlapping character pairs, other words whole and lower-cased.

    Chinese has no spaces between words, and the database has no Chinese word splitter; character bigrams
    match any word of two or more characters without one (the classic CJK bigram index), and single
    characters are kept for one-character queries.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    terms = set(_WORD.findall(text))
    for run in _CJK.findall(text):
        terms.update(run)
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def tender_search_terms(
    reference: str, region: str, title: LocalText, description: LocalText, lot_titles: Iterable[LocalText]
) -> list[str]:
    """What a tender is found by: its reference, region, titles, descriptions and lot titles, in both languages."""
    texts = [reference, region, title.zh, title.en, description.zh, description.en]
    texts += [text for lot_title in lot_titles for text in (lot_title.zh, lot_title.en)]
    return sorted(search_terms("\n".join(texts)))


def query_terms(query: str) -> list[str]:
    """The terms a search must all match: bigrams of Chinese runs (the character alone if single), and words."""
    text = unicodedata.normalize("NFKC", query[:MAX_QUERY_LENGTH]).lower()
    terms = _WORD.findall(text)
    for run in _CJK.findall(text):
        terms += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    return sorted(set(terms))


def tsquery(terms: list[str]) -> str | None:
    """The PostgreSQL ``tsquery`` text matching every term (English words also as prefixes), or ``None``."""
    if not terms:
        return None
    return " & ".join(f"'{term}'" + ("" if _CJK.match(term) else ":*") for term in terms)


# --- What the board lists, and what it is filtered by ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class TenderSummary:
    id: int
    reference: str
    status: Status
    category: Category
    procedure: Procedure
    region: str
    budget: Decimal
    title: LocalText
    deadline: dt.datetime
    published_at: dt.datetime | None
    agency_name: str
    purchaser_name: str
    lot_count: int
    cancelled_at: dt.datetime | None
    cancel_reason: str | None
    agency_name_en: str | None = None
    purchaser_name_en: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SearchFilters:
    #: A tsquery of quoted search terms joined by ``&`` (see :func:`bidding.tenders.search.search`), or ``None``.
    terms: str | None = None
    category: Category | None = None
    region: str | None = None
    #: "open" (published, before its deadline), "closed" (after it), or any stored status.
    status: str | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    deadline_from: dt.datetime | None = None
    deadline_to: dt.datetime | None = None
