"""Every text the bot can say exists in German too, with the same placeholders."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dialogs.context import Language
from dialogs.i18n import TRANSLATED, catalog_path, gettext_for, ngettext_for

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("bot", "dialogs", "adapters", "storage")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def message_ids_in_code() -> Iterator[tuple[str, str]]:
    """(message id, where) for every `_("…")`, `N_("…")` and `ngettext("…", "…", n)` in the
    source."""
    for package in SOURCE_PACKAGES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            where = f"{package}/{filename}:{lineno}"
            if isinstance(message, tuple):  # a plural: the catalog keeps it by its singular
                yield message[0], where
            elif message:
                yield message, where


def catalog(language: Language) -> Catalog:
    with catalog_path(language, ".po").open("rb") as file:
        return read_po(file, locale=language)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_in_the_code_is_translated(language: Language) -> None:
    translated = catalog(language)
    missing = sorted(
        {
            f"{where}: {message!r}"
            for message, where in message_ids_in_code()
            if not (entry := translated.get(message)) or entry.fuzzy or not entry.string
        }
    )
    assert not missing, "run `make messages` and translate:\n" + "\n".join(missing)


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_the_placeholders_and_emphasis_of_its_message(
    language: Language,
) -> None:
    wrong = []
    for entry in catalog(language):
        if not entry.id or not entry.string:
            continue
        ids = (entry.id,) if isinstance(entry.id, str) else tuple(entry.id)
        strings = (entry.string,) if isinstance(entry.string, str) else tuple(entry.string)
        for source, translation in zip(ids, strings, strict=False):
            if placeholders(source) != placeholders(translation):
                wrong.append(f"{source!r} → {translation!r}: placeholders differ")
            if source.count("**") != translation.count("**"):
                wrong.append(f"{source!r} → {translation!r}: bold markers differ")
    assert not wrong, "\n".join(wrong)


def test_a_german_speaker_gets_german_and_an_english_speaker_the_message_id() -> None:
    some_id = next(entry.id for entry in catalog("de") if isinstance(entry.id, str) and entry.id)
    german = gettext_for("de")(some_id)
    assert german != some_id
    assert gettext_for("en")(some_id) == some_id
    assert re.search(r"\w", german)


def test_plural_forms_follow_the_number() -> None:
    plural = ngettext_for("en")
    assert plural("{n} file", "{n} files", 1) == "{n} file"
    assert plural("{n} file", "{n} files", 3) == "{n} files"


# People named by their role are written in one gender-inclusive form, with the colon
# (Techniker:innen, Benutzer:innen); "Kunde" is the customer organisation and stays, and so
# does a menu's name in another product ("Benutzer → …" in the Teams admin center).
_ONE_GENDER = re.compile(
    r"\b(?:Benutzer|Nutzer|Techniker|Manager|Mitarbeiter|Kollegen?|Kollegin)\b(?!:| →)"
    r"|\b\w+in oder \w+ \w+er\b"
)


def test_german_names_people_in_one_gender_inclusive_form() -> None:
    generic = [
        message.string
        for message in catalog("de")
        if message.id and isinstance(message.string, str) and _ONE_GENDER.search(message.string)
    ]
    assert generic == []
