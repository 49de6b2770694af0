"""Names in the reader's language: of organisations and people, and of the platform's regions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bidding.names import Region, load_regions, name_fields, parse_regions, pick_name, written_in_chinese
from bidding.settings import SettingsError


def test_english_readers_get_the_english_name_and_a_chinese_one_marked_where_there_is_none() -> None:
    assert pick_name("华建工程集团有限公司", "Huajian Engineering Group", "en") == ("Huajian Engineering Group", None)
    assert pick_name("华建工程集团有限公司", None, "en") == ("华建工程集团有限公司", "zh-CN")
    assert pick_name("Helen Zhao", None, "en") == ("Helen Zhao", None), "a Latin name is not marked as Chinese"
    assert pick_name("华建工程集团有限公司", "Huajian Engineering Group", "zh-CN") == ("华建工程集团有限公司", None)
    assert written_in_chinese("示范市") and not written_in_chinese("Demo City")


def test_the_name_of_a_person_or_an_organisation_is_found_by_field() -> None:
    assert name_fields({"display_name": "李娜", "display_name_en": "Li Na", "name": "ignored"}) == ("李娜", "Li Na")
    assert name_fields({"name": "明诚", "name_en": None}) == ("明诚", None)
    row = {"agency_name": "明诚", "agency_name_en": "Mingcheng", "display_name": "x"}
    assert name_fields(row, "agency_name") == ("明诚", "Mingcheng")


def test_the_shipped_regions_are_found_by_code_chinese_or_english_name() -> None:
    regions = load_regions(None)
    assert len(regions) >= 1
    binjiang = regions.find("示范市滨江区")
    assert binjiang == Region("320506", "示范市滨江区", "Binjiang District, Demo City")
    assert regions.find("320506") == binjiang and regions.find(" binjiang district, demo city ") == binjiang
    assert regions.name("示范市滨江区", "en") == ("Binjiang District, Demo City", None)
    assert regions.name("Binjiang District, Demo City", "zh-CN") == ("示范市滨江区", None)
    # A region not in the list is shown as typed (marked as Chinese on an English page when it is).
    assert regions.name("江北新区", "en") == ("江北新区", "zh-CN")
    assert regions.name("Somewhere", "zh-CN") == ("Somewhere", None)
    assert regions.find("") is None and regions.find(None) is None


def test_an_operators_regions_file_is_read_and_a_malformed_one_names_its_line(tmp_path: Path) -> None:
    good = tmp_path / "regions.csv"
    good.write_text("# ours\ncode,zh,en\n310101,黄浦区,Huangpu District\n", encoding="utf-8")
    assert [region.code for region in load_regions(good)] == ["310101"]
    for text, problem in (
        ("zh,en\n", "header"),
        ("code,zh,en\n31010,黄浦区,Huangpu\n", "row 2"),
        ("code,zh,en\n310101,,Huangpu\n", "row 2"),
        ("code,zh,en\n310101,黄浦区,Huangpu\n310101,又一个,Again\n", "listed twice"),
    ):
        with pytest.raises(SettingsError, match=problem):
            parse_regions(text, "regions.csv")
    with pytest.raises(SettingsError, match="cannot be read"):
        load_regions(tmp_path / "missing.csv")
