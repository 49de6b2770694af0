"""Languages: the message catalogues (zh-CN and en), choosing a person's language, and sentences to translate.

Every sentence a person may read is written in English in the code and templates and looked up in the
catalogue of the reader's language when rendered. Python code marks such sentences with :func:`N_`, which
makes a :class:`Message` to be translated later; templates call ``_()``. ``make messages`` extracts both into
``frontend/translations`` and a test keeps every catalogue complete.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Mapping
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from bidding.settings import LANGUAGES, Language

#: The catalogue folder name of each language, as gettext names locales.
LOCALES: Mapping[Language, str] = {"zh-CN": "zh_CN", "en": "en"}

#: Accept-Language values longer than this are not parsed (a header is normally a few dozen bytes).
MAX_ACCEPT_LANGUAGE = 512


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A sentence for a person, kept in English with its parameters until the reader's language is known."""

    text: str
    params: Mapping[str, object] = dataclasses.field(default_factory=dict)

    def render(self, gettext: Callable[[str], str]) -> str:
        """The sentence in the language of ``gettext``; parameters that are messages are translated too."""
        translated = gettext(self.text)
        if not self.params:
            return translated
        return translated % {
            name: value.render(gettext) if isinstance(value, Message) else value for name, value in self.params.items()
        }


def N_(text: str, /, **params: object) -> Message:  # the name gettext tools look for
    """Mark ``text`` for translation; ``%(name)s`` placeholders are filled from ``params`` after translating."""
    return Message(text, params)


@dataclasses.dataclass(frozen=True, slots=True)
class Translator:
    """Everything that depends on the reader's language."""

    language: Language
    translations: Translations
    locale: Locale

    def gettext(self, text: str) -> str:
        return self.translations.gettext(text)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def render(self, message: Message | str) -> str:
        return message.render(self.gettext) if isinstance(message, Message) else self.gettext(message)


def load_translators(directory: Path) -> dict[Language, Translator]:
    """Read the ``.po`` catalogue of every language under ``directory``.

    Catalogues are compiled in memory at start-up, so the repository holds only the ``.po`` files people edit.
    Raises ``FileNotFoundError`` when a language's catalogue is missing.
    """
    translators = {}
    for language in LANGUAGES:
        locale = LOCALES[language]
        with (directory / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
            catalog = read_po(file, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translators[language] = Translator(language, Translations(compiled), Locale.parse(locale))
    return translators


def parse_accept_language(header: str) -> list[str]:
    """Language tags of an ``Accept-Language`` header (RFC 9110 §12.5.4), most wanted first, ``q=0`` dropped."""
    weighted = []
    for position, item in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if tag and quality > 0:
            # Ties keep the header's order, hence the position in the key.
            weighted.append((-quality, position, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def language_of_tag(tag: str) -> Language | None:
    """The supported language a language tag asks for: any Chinese is zh-CN, any English is en."""
    primary = tag.split("-", 1)[0].lower()
    if primary == "zh":
        return "zh-CN"
    if primary == "en":
        return "en"
    return None


def choose_language(*, chosen: str | None, accept_language: str | None, default: Language) -> Language:
    """The language to speak: the one the person chose (account or switch), else their browser's, else default."""
    if chosen in LANGUAGES:
        return chosen
    for tag in parse_accept_language(accept_language or ""):
        if language := language_of_tag(tag):
            return language
    return default


def fill_english_catalogue(directory: Path) -> int:
    """Copy each untranslated message's English source into the English catalogue; return how many.

    Run by ``make messages`` after extraction, so that the English catalogue is complete too and English
    wording can be corrected there without touching the code.
    """
    path = directory / LOCALES["en"] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as file:
        catalog = read_po(file, locale=LOCALES["en"])
    filled = 0
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
            filled += 1
    if filled:
        with path.open("wb") as file:
            write_po(file, catalog, omit_header=True, no_location=True, width=120)
    return filled


if __name__ == "__main__":
    fill_english_catalogue(Path("frontend/translations"))
