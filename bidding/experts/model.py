"""The expert pool's rules: the classification of specialties, identity numbers as the pool keeps them, and the
size and quotas of a committee. Plain data and functions; no I/O.

The classification is shipped as data (``bidding/data/specialties.csv``), in two levels: classes (works, goods,
services) divided into specialties. Experts hold specialties, and a draw's quotas name them, never a class.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from bidding.i18n import N_, Message
from bidding.names import read_data_file
from bidding.settings import DrawRules, SettingsError

#: A class is one capital letter; a specialty its class's letter and two digits (``A08``).
_CLASS_CODE = re.compile(r"[A-Z]")
_SPECIALTY_CODE = re.compile(r"[A-Z][0-9]{2}")
#: Entries of a classification, at most: it is offered whole wherever specialties are chosen.
MAX_SPECIALTIES = 1000
#: Reserves a quota may ask for, per quota.
MAX_RESERVES = 20


@dataclasses.dataclass(frozen=True, slots=True)
class Specialty:
    """A class (``parent`` None) or a specialty of a class, named in both languages."""

    code: str
    parent: str | None
    zh: str
    en: str


class Classification:
    """The specialties of the pool, found by code."""

    def __init__(self, entries: Sequence[Specialty]) -> None:
        self._entries = tuple(entries)
        self._by_code = {entry.code: entry for entry in self._entries}

    def __iter__(self) -> Iterator[Specialty]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, code: str) -> Specialty | None:
        return self._by_code.get(code)

    @property
    def classes(self) -> tuple[Specialty, ...]:
        return tuple(entry for entry in self._entries if entry.parent is None)

    def specialties_of(self, class_code: str) -> tuple[Specialty, ...]:
        return tuple(entry for entry in self._entries if entry.parent == class_code)

    def is_specialty(self, code: str) -> bool:
        """Whether ``code`` names a specialty an expert can hold and a quota can ask for (not a class)."""
        found = self._by_code.get(code)
        return found is not None and found.parent is not None


def parse_specialties(text: str, source: str) -> Classification:
    """The classification of a CSV file (``code,parent,zh,en``, a header line, ``#`` comments); raises
    SettingsError naming the line of ``source`` that is wrong. A class comes before its specialties."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows or [cell.strip() for cell in rows[0]] != ["code", "parent", "zh", "en"]:
        raise SettingsError(f"{source}: the first line must be the header code,parent,zh,en")
    entries: list[Specialty] = []
    codes: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if len(cells) != 4 or not cells[2] or not cells[3]:
            raise SettingsError(f"{source}: row {number} is not a code, a parent, a Chinese and an English name")
        code, parent = cells[0], cells[1] or None
        if parent is None and not _CLASS_CODE.fullmatch(code):
            raise SettingsError(f"{source}: row {number}: a class's code is one capital letter, not {code!r}")
        if parent is not None and not (_SPECIALTY_CODE.fullmatch(code) and code[0] == parent and parent in codes):
            raise SettingsError(
                f"{source}: row {number}: a specialty's code is its class's letter and two digits, after its class"
            )
        if code in codes:
            raise SettingsError(f"{source}: the code {code} is listed twice")
        codes.add(code)
        entries.append(Specialty(code, parent, cells[2], cells[3]))
    if len(entries) > MAX_SPECIALTIES:
        raise SettingsError(f"{source}: at most {MAX_SPECIALTIES} entries")
    return Classification(entries)


def load_specialties(path: Path | None) -> Classification:
    """The classification in ``path``, or the one shipped with the platform; raises SettingsError."""
    return parse_specialties(*read_data_file(path, "specialties.csv", "specialties"))


# --- Identity numbers ------------------------------------------------------------------------------------------

#: GB 11643-1999: 17 digits, then a check character from ISO 7064 MOD 11-2 with these weights.
_IDENTITY_NUMBER = re.compile(r"[1-9][0-9]{16}[0-9X]")
_IDENTITY_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_IDENTITY_CHECKS = "10X98765432"


def masked_identity_number(text: str) -> str | None:
    """The citizen identity number as the pool keeps it, its first three and last four characters, or None if
    ``text`` is not a valid one (18 characters, a real date of birth, the right check character).

    The pool never stores the whole number: the masked form tells an expert's number apart on the pages, and
    nothing the platform does needs more.
    """
    number = text.strip().upper()
    if not _IDENTITY_NUMBER.fullmatch(number):
        return None
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _IDENTITY_WEIGHTS, strict=True))
    if _IDENTITY_CHECKS[total % 11] != number[17]:
        return None
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    return number[:3] + "*" * 11 + number[14:]


# --- Committees ------------------------------------------------------------------------------------------------

#: The categories procured under the Government Procurement Law, to which 财政部令第87号 applies.
GOVERNMENT_PROCUREMENT_CATEGORIES = frozenset({"goods", "services"})


@dataclasses.dataclass(frozen=True, slots=True)
class CommitteeRule:
    """The least number of members a committee must have, and the rule that says so."""

    minimum: int
    basis: Message


def committee_rule(category: str, budget: Decimal, rules: DrawRules) -> CommitteeRule:
    """The rule on a committee's size for a tender of ``category`` and ``budget``."""
    if category in GOVERNMENT_PROCUREMENT_CATEGORIES and budget >= rules.large_procurement_budget:
        return CommitteeRule(
            rules.large_procurement_committee,
            N_(
                "Government procurement with a budget of ¥%(budget)s or more: %(minimum)d members or more, an odd"
                " number (MOF Order No. 87, art. 47).",
                budget=f"{rules.large_procurement_budget:,}",
                minimum=rules.large_procurement_committee,
            ),
        )
    return CommitteeRule(
        rules.committee_minimum,
        N_(
            "%(minimum)d members or more, an odd number (Tendering and Bidding Law, art. 37).",
            minimum=rules.committee_minimum,
        ),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class QuotaRequest:
    """Seats and reserves asked of one specialty."""

    specialty: str
    seats: int
    reserves: int


def check_quotas(
    quotas: Sequence[QuotaRequest], committee_size: int, rule: CommitteeRule, classification: Classification
) -> Mapping[str, Message]:
    """What is wrong with a draw's quotas for a committee of ``committee_size``, by field; empty if nothing."""
    errors: dict[str, Message] = {}
    if committee_size < rule.minimum or committee_size % 2 == 0:
        errors["committee_size"] = rule.basis
    if not quotas:
        errors["quotas"] = N_("Give the seats wanted of at least one specialty.")
    elif sum(quota.seats for quota in quotas) != committee_size:
        errors["quotas"] = N_(
            "The seats of the specialties add up to %(total)d; the committee has %(size)d.",
            total=sum(quota.seats for quota in quotas),
            size=committee_size,
        )
    seen: set[str] = set()
    for index, quota in enumerate(quotas):
        if not classification.is_specialty(quota.specialty):
            errors[f"quotas.{index}.specialty"] = N_("Choose a specialty of the classification.")
        elif quota.specialty in seen:
            errors[f"quotas.{index}.specialty"] = N_("Each specialty is asked for once.")
        seen.add(quota.specialty)
        if quota.seats < 1:
            errors[f"quotas.{index}.seats"] = N_("A specialty asked for has one seat or more.")
        if not 0 <= quota.reserves <= MAX_RESERVES:
            errors[f"quotas.{index}.reserves"] = N_("Reserves are 0 to %(most)d.", most=MAX_RESERVES)
    return errors
