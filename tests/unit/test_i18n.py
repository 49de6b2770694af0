import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from bidding.i18n import LOCALES, N_, choose_language, load_translators, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "frontend" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _extracted() -> set[str]:
    """Every translatable string in the code and templates, found as ``make messages`` finds them."""
    method_map = [("bidding/**.py", "python"), ("frontend/templates/**.html", "jinja2")]
    options = {"frontend/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    return {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map=options)
    }


@pytest.mark.parametrize("locale", sorted(LOCALES.values()))
def test_every_string_is_translated_in_every_catalogue(locale: str) -> None:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file, locale=locale)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(_extracted() - translated.keys())
    assert not missing, f"untranslated in {locale} (run `make messages`): {missing}"
    for msgid, msgstr in translated.items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(str(msgstr))), msgid


def test_catalogues_load_and_translate() -> None:
    translators = load_translators(TRANSLATIONS)
    assert translators["zh-CN"].gettext("Sign in") == "登录"
    assert translators["en"].gettext("Sign in") == "Sign in"


def test_messages_translate_their_parameters_too() -> None:
    translators = load_translators(TRANSLATIONS)
    message = N_(
        "One person cannot be both %(first)s and %(second)s.",
        first=N_("Administrator"),
        second=N_("Supervisor"),
    )
    assert translators["zh-CN"].render(message) == "同一人不能同时担任系统管理员和监督人员。"


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", ["zh-cn", "zh", "en"]),
        ("en;q=0.5, zh-TW", ["zh-tw", "en"]),
        ("fr;q=0, en", ["en"]),
        ("en;q=abc, de", ["de"]),
        ("", []),
    ],
)
def test_accept_language_is_ordered_by_quality(header: str, tags: list[str]) -> None:
    assert parse_accept_language(header) == tags


@pytest.mark.parametrize(
    ("chosen", "header", "language"),
    [
        ("en", "zh-CN", "en"),
        (None, "zh-Hant-TW, en", "zh-CN"),
        (None, "fr, en-GB;q=0.8", "en"),
        (None, "fr", "zh-CN"),
        ("klingon", None, "zh-CN"),
    ],
)
def test_the_chosen_language_wins_then_the_browser_then_the_default(
    chosen: str | None, header: str | None, language: str
) -> None:
    assert choose_language(chosen=chosen, accept_language=header, default="zh-CN") == language


def test_the_english_catalogue_is_filled_with_its_source_text(tmp_path: Path) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from bidding.i18n import fill_english_catalogue

    folder = tmp_path / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="en")
    catalog.add("Sign in", "")
    catalog.add("Sign out", "Log out")
    with (folder / "messages.po").open("wb") as file:
        write_po(file, catalog)
    assert fill_english_catalogue(tmp_path) == 1
    with (folder / "messages.po").open("rb") as file:
        filled = {m.id: m.string for m in read_po(file) if m.id}
    assert filled == {"Sign in": "Sign in", "Sign out": "Log out"}
    assert fill_english_catalogue(tmp_path) == 0


@given(st.text(max_size=600))
def test_any_accept_language_header_gives_a_supported_language(header: str) -> None:
    assert choose_language(chosen=None, accept_language=header, default="en") in ("zh-CN", "en")
