"""Names in the reader's language: of organisations and people, and of regions.

An organisation or a person has the name it was registered with (Chinese, as a rule) and may have one in
English; English pages show the English one where it exists. Regions come from a list of the administrative
divisions the platform serves, shipped as data (``bidding/data/regions.csv``: code, Chinese name, English name);
a region typed that is not in the list is shown as it was typed. Plain functions; the pages call them through the
``name`` and ``region`` filters of :mod:`bidding.web`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from bidding.settings import SettingsError

#: Han characters (CJK unified ideographs, their extension A and the compatibility block): a name holding any is
#: marked ``lang="zh-CN"`` on an English page, so that screen readers and fonts treat it as Chinese.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: A region's code: six digits (GB/T 2260).
_REGION_CODE = re.compile(r"\d{6}")
#: Regions in a list, at most: it is offered whole wherever a region is chosen.
MAX_REGIONS = 1000


def written_in_chinese(text: str) -> bool:
    return _HAN.search(text) is not None


def pick_name(name: str | None, name_en: str | None, language: str) -> tuple[str, str | None]:
    """The name to show a reader of ``language``, and its ``lang`` when it is Chinese on an English page.

    English readers get the English name when there is one; everyone else, and English readers of a party with
    no English name, get the name as registered.
    """
    if language == "en" and name_en:
        return name_en, None
    shown = name or name_en or ""
    return shown, "zh-CN" if language == "en" and written_in_chinese(shown) else None


def name_fields(thing: Any, field: str | None = None) -> tuple[str | None, str | None]:
    """The name of an organisation, a person or a row naming one, and its English name.

    ``field`` names the attribute (or key) holding the name, its English name being ``field + "_en"``; by default
    ``display_name`` for people (anything that has one) and ``name`` for organisations.
    """

    def get(key: str) -> Any:
        return thing.get(key) if isinstance(thing, Mapping) else getattr(thing, key, None)

    if field is None:
        field = "display_name" if get("display_name") is not None else "name"
    return get(field), get(field + "_en")


@dataclasses.dataclass(frozen=True, slots=True)
class Region:
    code: str
    zh: str
    en: str


class Regions:
    """The regions of the platform, found by code, Chinese name or English name (in any case)."""

    def __init__(self, regions: Sequence[Region]) -> None:
        self._regions = tuple(regions)
        self._by_key: dict[str, Region] = {}
        for region in self._regions:
            for key in (region.code, region.zh, region.en.casefold()):
                self._by_key.setdefault(key, region)

    def __iter__(self) -> Iterator[Region]:
        return iter(self._regions)

    def __len__(self) -> int:
        return len(self._regions)

    def find(self, text: str | None) -> Region | None:
        if not text:
            return None
        key = text.strip()
        return self._by_key.get(key) or self._by_key.get(key.casefold())

    def name(self, text: str | None, language: str) -> tuple[str, str | None]:
        """A region as a reader of ``language`` names it (see :func:`pick_name`), or as typed when not listed."""
        found = self.find(text)
        if found is None:
            return pick_name(text, None, language)
        return pick_name(found.zh, found.en, language)


def parse_regions(text: str, source: str) -> Regions:
    """The regions of a CSV file (``code,zh,en``, a header line, ``#`` comments); raises SettingsError naming the
    line of ``source`` that is wrong."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows or [cell.strip() for cell in rows[0]] != ["code", "zh", "en"]:
        raise SettingsError(f"{source}: the first line must be the header code,zh,en")
    regions = []
    codes: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if len(cells) != 3 or not _REGION_CODE.fullmatch(cells[0]) or not cells[1] or not cells[2]:
            raise SettingsError(f"{source}: row {number} is not a six-digit code, a Chinese and an English name")
        if cells[0] in codes:
            raise SettingsError(f"{source}: the code {cells[0]} is listed twice")
        codes.add(cells[0])
        regions.append(Region(*cells))
    if len(regions) > MAX_REGIONS:
        raise SettingsError(f"{source}: at most {MAX_REGIONS} regions")
    return Regions(regions)


def read_data_file(path: Path | None, shipped: str, what: str) -> tuple[str, str]:
    """The text of a list the operator may replace, and the name to give it in errors: the file at ``path``, or
    the one shipped as ``bidding/data/<shipped>``. Raises SettingsError naming ``what`` when ``path`` cannot be read."""
    if path is None:
        return (resources.files("bidding") / "data" / shipped).read_text("utf-8"), f"bidding/data/{shipped}"
    try:
        return path.read_text("utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"the {what} file {path} cannot be read: {error}") from None


def load_regions(path: Path | None) -> Regions:
    """The regions in ``path``, or the list shipped with the platform; raises SettingsError."""
    return parse_regions(*read_data_file(path, "regions.csv", "regions"))
