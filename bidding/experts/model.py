"""The expert pool's rules: the classification of specialties, identity numbers as the pool keeps them, and the
size and quotas of a committee. Plain data and functions; no I/O.

The classification is shipped as data (``bidding/data/specialties.csv``), in two levels: classes (works, goods,
services) divided into specialties. Experts hold specialties, and a draw's quotas name them, never a class.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import datetime as dt
import gc
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NamedTuple

import msgspec

from bidding.accounts.model import credit_code_problem, normalise_credit_code
from bidding.i18n import N_, Message
from bidding.inputs import RowId
from bidding.names import Regions, read_data_file
from bidding.settings import DrawRules, SettingsError
from crypto.draw import Candidate, DrawInputs, DrawResult, Exclusion, Quota

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


# --- Profiles --------------------------------------------------------------------------------------------------

#: Specialties one expert may hold, dates it may mark unavailable, conflicts it may declare.
MAX_EXPERT_SPECIALTIES = 10
MAX_UNAVAILABLE_DAYS = 366
MAX_CONFLICTS = 50
#: Years a former employer counts as a conflict after the expert left it (GP Implementing Regulations art. 9).
FORMER_EMPLOYER_YEARS = 3


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRED = "retired"


class Relation(StrEnum):
    """How an expert is tied to an organisation it declares (GP Implementing Regulations art. 9)."""

    FORMER_EMPLOYER = "former_employer"
    RELATIVE_EMPLOYED = "relative_employed"
    RELATIVE_SHAREHOLDER = "relative_shareholder"


RELATION_NAMES: Mapping[Relation, Message] = {
    Relation.FORMER_EMPLOYER: N_("Former employer (counts for 3 years after leaving)"),
    Relation.RELATIVE_EMPLOYED: N_("A close relative works there"),
    Relation.RELATIVE_SHAREHOLDER: N_("A close relative holds shares"),
}


class ProfileInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An expert's profile as an administrator enters it. ``identity_number`` is the whole citizen number, of which
    only the masked form is kept; on an edit it may be left out to keep the number on record."""

    title: Annotated[str, msgspec.Meta(max_length=1000)]
    years: Annotated[int, msgspec.Meta(ge=0, le=80)]
    region: Annotated[str, msgspec.Meta(max_length=1000)]
    telephone: Annotated[str, msgspec.Meta(max_length=1000)]
    specialties: Annotated[list[Annotated[str, msgspec.Meta(max_length=10)]], msgspec.Meta(max_length=100)]
    identity_number: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    employer_name: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    employer_credit_code: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class NewExpert(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An expert added to the pool: a person who holds the expert role, and its profile."""

    user_id: RowId
    profile: ProfileInput


class StatusChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Suspend (until a date, or until lifted, with a reason), retire, or return an expert to the pool."""

    status: Status
    reason: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None
    until: dt.date | None = None


class ConflictInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    credit_code: Annotated[str, msgspec.Meta(max_length=100)]
    name: Annotated[str, msgspec.Meta(max_length=1000)]
    relation: Relation
    until: dt.date | None = None


class Declarations(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What an expert keeps up to date itself: the days it cannot sit, and its standing conflicts."""

    unavailable: Annotated[list[dt.date], msgspec.Meta(max_length=10 * MAX_UNAVAILABLE_DAYS)]
    conflicts: Annotated[list[ConflictInput], msgspec.Meta(max_length=10 * MAX_CONFLICTS)]


@dataclasses.dataclass(frozen=True, slots=True)
class Profile:
    """A profile as checked: what the pool stores."""

    identity_number_masked: str | None
    title: str
    years: int
    region: str
    telephone: str
    specialties: tuple[str, ...]
    employer_name: str | None
    employer_credit_code: str | None
    email: str | None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TELEPHONE = re.compile(r"\+?[0-9][0-9 -]{4,38}")


def _optional(value: str | None) -> str | None:
    """A text trimmed, or None for one left out or blank."""
    return (value or "").strip() or None


def check_profile(
    profile: ProfileInput, classification: Classification, regions: Regions, *, new: bool
) -> tuple[Profile, dict[str, Message]]:
    """A profile cleaned, and what is wrong with it by field (empty if nothing)."""
    errors: dict[str, Message] = {}
    masked = None
    if profile.identity_number is not None or new:
        masked = masked_identity_number(profile.identity_number or "")
        if masked is None:
            errors["identity_number"] = N_(
                "A citizen identity number has 18 characters: a real date of birth and the right check character"
                " (GB 11643)."
            )
    title = (profile.title or "").strip()
    if not 1 <= len(title) <= 100:
        errors["title"] = N_("Give the professional title, up to 100 characters.")
    if not 0 <= profile.years <= 80:
        errors["years"] = N_("Years in the field are 0 to 80.")
    region = regions.find(profile.region)
    if region is None:
        errors["region"] = N_("Choose one of the platform's regions.")
    telephone = (profile.telephone or "").strip()
    if not _TELEPHONE.fullmatch(telephone):
        errors["telephone"] = N_("Give a telephone number of digits, spaces and hyphens.")
    email = _optional(profile.email)
    if email is not None and not (len(email) <= 254 and _EMAIL.fullmatch(email)):
        errors["email"] = N_("This is not an e-mail address.")
    specialties = tuple(dict.fromkeys(code.strip() for code in profile.specialties))
    if not 1 <= len(specialties) <= MAX_EXPERT_SPECIALTIES:
        errors["specialties"] = N_("Choose 1 to %(most)d specialties.", most=MAX_EXPERT_SPECIALTIES)
    elif not all(classification.is_specialty(code) for code in specialties):
        errors["specialties"] = N_("Choose a specialty of the classification.")
    employer_name = _optional(profile.employer_name)
    if employer_name is not None and len(employer_name) > 200:
        errors["employer_name"] = N_("At most %(most)d characters.", most=200)
    credit_code = normalise_credit_code(profile.employer_credit_code) if profile.employer_credit_code else None
    if credit_code:
        if problem := credit_code_problem(credit_code):
            errors["employer_credit_code"] = problem
        elif employer_name is None:
            errors["employer_name"] = N_("Give the employer's name with its credit code.")
    checked = Profile(
        masked,
        title,
        profile.years,
        region.zh if region else "",
        telephone,
        specialties,
        employer_name,
        credit_code or None,
        email,
    )
    return checked, errors


def check_status(change: StatusChange, today: dt.date) -> tuple[StatusChange, dict[str, Message]]:
    """A status change cleaned, and what is wrong with it: a suspension has a reason and, if it ends, a future date."""
    errors: dict[str, Message] = {}
    reason = (change.reason or "").strip() or None
    if change.status is Status.SUSPENDED:
        if reason is None or len(reason) > 1000:
            errors["reason"] = N_("Give the reason for the suspension, up to 1,000 characters.")
        if change.until is not None and change.until <= today:
            errors["until"] = N_("A suspension ends after today.")
    elif change.until is not None:
        errors["until"] = N_("Only a suspension has an end date.")
    cleaned = StatusChange(change.status, reason if change.status is Status.SUSPENDED else None, change.until)
    return cleaned, errors


def check_declarations(
    declarations: Declarations, today: dt.date
) -> tuple[tuple[tuple[dt.date, ...], tuple[ConflictInput, ...]], dict[str, Message]]:
    """Declarations cleaned (days from today on, each once; conflicts with normalised codes), and what is wrong."""
    errors: dict[str, Message] = {}
    days = tuple(sorted({day for day in declarations.unavailable if day >= today}))
    if len(days) > MAX_UNAVAILABLE_DAYS:
        errors["unavailable"] = N_("At most %(most)d days.", most=MAX_UNAVAILABLE_DAYS)
    if len(declarations.conflicts) > MAX_CONFLICTS:
        errors["conflicts"] = N_("At most %(most)d conflicts.", most=MAX_CONFLICTS)
    conflicts: list[ConflictInput] = []
    seen: set[tuple[str, Relation]] = set()
    for index, conflict in enumerate(declarations.conflicts[:MAX_CONFLICTS]):
        code = normalise_credit_code(conflict.credit_code)
        name = conflict.name.strip()
        if problem := credit_code_problem(code):
            errors[f"conflicts.{index}.credit_code"] = problem
        elif (code, conflict.relation) in seen:
            errors[f"conflicts.{index}.credit_code"] = N_("This organisation is declared twice for the same tie.")
        seen.add((code, conflict.relation))
        if not 1 <= len(name) <= 200:
            errors[f"conflicts.{index}.name"] = N_("Give the organisation's name, up to 200 characters.")
        until = conflict.until
        if conflict.relation is Relation.FORMER_EMPLOYER and until is None:
            errors[f"conflicts.{index}.until"] = N_(
                "A former employer counts until 3 years after leaving: give that date (GP Implementing Regulations"
                " art. 9)."
            )
        elif until is not None and until < today:
            errors[f"conflicts.{index}.until"] = N_("This conflict has ended: leave it out.")
        conflicts.append(ConflictInput(code, name, conflict.relation, until))
    return (days, tuple(conflicts)), errors


# --- The draw --------------------------------------------------------------------------------------------------


class RegionRule(StrEnum):
    EXCLUDE_PURCHASER_REGION = "exclude_purchaser_region"
    NONE = "none"


#: Specialties one draw may ask for.
MAX_QUOTAS = 20


class QuotaInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    specialty: Annotated[str, msgspec.Meta(max_length=10)]
    seats: Annotated[int, msgspec.Meta(ge=1, le=99)]
    reserves: Annotated[int, msgspec.Meta(ge=0, le=MAX_RESERVES)] = 2


class DrawRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the agency asks of a draw: seats and reserves per specialty, and the region rule. The committee's size
    is the tender's (a supplementary draw fills the open seats instead)."""

    quotas: Annotated[list[QuotaInput], msgspec.Meta(max_length=MAX_QUOTAS)]
    region_rule: RegionRule = RegionRule.EXCLUDE_PURCHASER_REGION


#: Why a candidate cannot be drawn, as the inputs document writes it, and as pages say it.
REASONS: Mapping[str, Message] = {
    "suspended": N_("Suspended from the pool"),
    "unavailable": N_("Unavailable on the evaluation day"),
    "employer:purchaser": N_("Works for the purchaser"),
    "employer:agency": N_("Works for the agency"),
    "employer:bidder": N_("Works for a bidder"),
    "conflict:purchaser": N_("Declared a conflict with the purchaser"),
    "conflict:agency": N_("Declared a conflict with the agency"),
    "conflict:bidder": N_("Declared a conflict with a bidder"),
    "recent:purchaser": N_("Drawn for the same purchaser recently"),
    "region:purchaser": N_("In the purchaser's region"),
    "called:tender": N_("Called for this tender already"),
}

#: The parties whose secrets make a draw's randomness, besides the platform's one-time code.
PARTIES = ("platform", "supervisor")
#: The announcement committed as the draw's randomness source (crypto/draw.py: contributions_randomness).
RANDOMNESS_SOURCE = (
    "contributions_randomness of the 32-byte secrets of the parties platform and supervisor, each committed in the"
    " transparency log (draw.contribution_committed) after this commitment, revealed after the platform's one-time"
    " code (draw.code_revealed) and logged with the result (draw.drawn)"
)


def label(key: bytes, expert_id: int) -> str:
    """An expert's opaque label in one draw: ``X`` and 12 base32 characters of the keyed BLAKE2b (RFC 7693) of
    the id under the draw's key, a MAC only the platform can compute; the key stays in the private record."""
    return labels(key, [expert_id])[0]


def labels(key: bytes, expert_ids: Sequence[int]) -> list[str]:
    """:func:`label` of many experts at once: base32 encodes each 5 bytes on their own, so the 10-byte MACs,
    joined, encode in one call to the same 16 characters each (of which the first 12 are kept)."""
    joined = b"".join(hashlib.blake2b(str(i).encode(), key=key, digest_size=10).digest() for i in expert_ids)
    text = base64.b32encode(joined).decode()
    return ["X" + text[start : start + 12] for start in range(0, len(text), 16)]


class PoolEntry(NamedTuple):
    """An expert of the quotas' specialties, the quotas it may sit for, and why it may not, if it may not.

    A named tuple: a pool of a hundred thousand experts makes tens of thousands of these per draw."""

    expert_id: int
    groups: tuple[str, ...]
    reasons: tuple[str, ...]


def experts_by_label(key: bytes, inputs: DrawInputs, expert_ids: Sequence[int], result: DrawResult) -> dict[str, int]:
    """Each label's expert, the candidates' ids given in the order of the inputs' candidates (as stored).

    Only the picks' labels are computed again, to check them; ids kept in another order (the pool's, as rounds
    committed before this order were) fail the check, and every label is computed instead."""
    experts = dict(zip((candidate.label for candidate in inputs.candidates), expert_ids, strict=True))
    picked = [name for group in result.groups for name in (*group.members, *group.reserves)]
    if all(label(key, experts[name]) == name for name in picked):
        return experts
    return dict(zip(labels(key, expert_ids), expert_ids, strict=True))


@dataclasses.dataclass(frozen=True, slots=True)
class Pool:
    """The candidate list of a draw: its inputs, with each label's expert (the private part)."""

    inputs: DrawInputs
    experts: Mapping[str, int]
    eligible: Mapping[str, int]


def check_pool(
    entries: Sequence[PoolEntry], quotas: Sequence[QuotaInput], per_seat: int
) -> tuple[list[QuotaInput], dict[str, Message]]:
    """The quotas ordered scarcest first (the draw fills them in that order), and the quotas too short of eligible
    experts: fewer than ``per_seat`` per seat (and, with the reserves, fewer than the draw takes)."""
    eligible = {quota.specialty: 0 for quota in quotas}
    for entry in entries:
        if not entry.reasons:
            for group in entry.groups:
                if group in eligible:
                    eligible[group] += 1
    errors: dict[str, Message] = {}
    for index, quota in enumerate(quotas):
        needed = max(per_seat * quota.seats, quota.seats + quota.reserves)
        if eligible[quota.specialty] < needed:
            errors[f"quotas.{index}.seats"] = N_(
                "%(specialty)s has %(eligible)d eligible experts; this draw needs %(needed)d (%(per_seat)d per"
                " seat, and the reserves).",
                specialty=quota.specialty,
                eligible=eligible[quota.specialty],
                needed=needed,
                per_seat=per_seat,
            )
    ordered = sorted(quotas, key=lambda quota: (eligible[quota.specialty] / quota.seats, quota.specialty))
    return ordered, errors


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a block that makes tens of thousands of objects and no cycle: the
    labelled candidates of a draw, its inputs document, its ranking. Collecting while they are made finds nothing
    and took a quarter of a draw over a large pool. The block must not await (nothing else runs meanwhile); a
    collector paused already stays paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def make_pool(context: str, entries: Sequence[PoolEntry], quotas: Sequence[QuotaInput], key: bytes) -> Pool:
    """The draw's inputs over ``entries``, labelled under ``key``, with the quotas in the given order."""
    experts: dict[str, int] = {}
    candidates: list[Candidate] = []
    exclusions: list[Exclusion] = []
    eligible: dict[str, int] = {}
    for entry, name in zip(entries, labels(key, [entry.expert_id for entry in entries]), strict=True):
        experts[name] = entry.expert_id
        candidates.append(Candidate(name, frozenset(entry.groups)))
        exclusions.extend(Exclusion(name, reason) for reason in entry.reasons)
        if not entry.reasons:
            for group in entry.groups:
                eligible[group] = eligible.get(group, 0) + 1
    inputs = DrawInputs(
        context,
        RANDOMNESS_SOURCE,
        tuple(candidates),
        tuple(exclusions),
        tuple(Quota(quota.specialty, quota.seats, quota.reserves) for quota in quotas),
    )
    return Pool(inputs, experts, eligible)
