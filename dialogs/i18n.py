"""The bot's words in German and English: gettext catalogs, and Babel for dates, times, numbers.

One way to write a text, everywhere:

    _ = gettext_for(turn.actor.language)
    reply = _("Ticket {number} is resolved.").format(number=ticket.number)

The English text in the code is the message id (the Python convention); German lives in
`dialogs/locale/de/LC_MESSAGES/chatops.po`. Texts defined at import time (command descriptions,
button labels in tables) are marked with `N_("…")` so extraction finds them, and translated
where they are shown with `_(value)`. Plurals: `ngettext = ngettext_for(language)`, then
`ngettext("{n} file", "{n} files", n)`. Extraction finds only calls named `_`, `N_` and
`ngettext`, so a text is never written as `gettext_for(language)("…")`.

Dates, times, durations and numbers in texts come from `dialogs.formats` (Babel, in the
locales of `BABEL_LOCALE`), never from `strftime` or hand-made words.

`make messages` extracts the ids from the code and merges them into the catalogs; `make install`
compiles the catalogs to `.mo` files. A catalog whose `.mo` is missing or older than its `.po`
(a checkout that edited the `.po` and was not rebuilt) is compiled in memory instead, so a
translation is never silently stale.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from dialogs.context import Language

DOMAIN: Final = "chatops"
LOCALE_DIR: Final = Path(__file__).parent / "locale"
#: The languages with a catalog; English is the source language of the message ids.
TRANSLATED: Final[tuple[Language, ...]] = ("de",)
#: The Babel locale each language is formatted in (the provider is Austrian; English uses 24 h).
BABEL_LOCALE: Final[dict[Language, str]] = {"de": "de_AT", "en": "en_GB"}


def N_(message: str) -> str:  # the gettext convention: mark now, translate where shown
    """Mark `message` for extraction without translating it yet."""
    return message


def catalog_path(language: Language, suffix: str) -> Path:
    """Where the catalog of `language` lives (`.po` source or compiled `.mo`)."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The compiled catalog of `language` (English: the ids themselves)."""
    if language not in TRANSLATED:
        return gettext.NullTranslations()
    source, compiled = catalog_path(language, ".po"), catalog_path(language, ".mo")
    if compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime:
        with compiled.open("rb") as file:
            return gettext.GNUTranslations(file)
    return _compiled_in_memory(source, language)


def _compiled_in_memory(source: Path, language: Language) -> gettext.GNUTranslations:
    with source.open("rb") as file:
        catalog = read_po(file, locale=BABEL_LOCALE[language])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def gettext_for(language: Language) -> Callable[[str], str]:
    """`_` for one person: their language's translation of an English message id."""
    return translations(language).gettext


def ngettext_for(language: Language) -> Callable[[str, str, int], str]:
    """The plural-aware `_` for one person."""
    return translations(language).ngettext
