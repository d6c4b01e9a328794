"""Log coaching: per product and language, the contract's logfiles and how to collect them."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from dialogs.coaching import (
    FOLLOW_UP_QUESTIONS,
    MAX_COACHING_CHARS,
    PRODUCT_NAMES,
    coaching,
    product_name,
)
from dialogs.context import Language
from dialogs.i18n import gettext_for
from storage.directory import Product

LANGUAGES: tuple[Language, ...] = get_args(Language)
EVERY_TEXT = [(product, language) for product in Product for language in LANGUAGES]

# The key instruction from the SLA notes ("Logfiles customers can deliver") per product.
KEY_INSTRUCTIONS: dict[Product, dict[Language, tuple[str, ...]]] = {
    Product.WEBEX_CALLING: {
        "en": ("Help → Send logs", "tracking ID"),
        "de": ("Hilfe → Protokolle senden", "Tracking-ID"),
    },
    Product.WEBEX_CONTACT_CENTER: {
        "en": ("Error report", "HAR", "console log", "Export HAR", "Chrome/Edge"),
        "de": ("Fehlerbericht", "HAR", "Konsolen-Log", "Export HAR", "Chrome/Edge"),
    },
    Product.MICROSOFT_CALLING: {
        "en": ("Ctrl+Alt+Shift+1", "Option+Command+Shift+1", "Call IDs", "Teams admin center"),
        "de": ("Ctrl+Alt+Shift+1", "Option+Command+Shift+1", "Call-IDs", "Teams Admin Center"),
    },
    Product.LUWARE_ATTENDANT_CONSOLE: {
        "en": ("Trace files", "timestamps", "operations pages"),
        "de": ("Trace-Dateien", "Zeitstempel", "Betriebsseiten"),
    },
    Product.LUWARE_RECORDING: {
        "en": ("Trace files", "timestamps", "operations pages", "Call IDs"),
        "de": ("Trace-Dateien", "Zeitstempel", "Betriebsseiten", "Call-IDs"),
    },
    Product.LUWARE_CONTACT_CENTER: {
        "en": ("Trace files", "timestamps", "operations pages"),
        "de": ("Trace-Dateien", "Zeitstempel", "Betriebsseiten"),
    },
    Product.OTHER: {
        "en": ("Screenshots", "version", "steps"),
        "de": ("Screenshots", "Version", "Schritte"),
    },
}

ALWAYS: dict[Language, tuple[str, ...]] = {
    "en": ("Time of the fault", "time zone", "phone numbers or users", "already tested"),
    "de": ("Zeitpunkt der Störung", "Zeitzone", "Rufnummern oder Benutzer", "bereits getestet"),
}
SEND: dict[Language, str] = {
    "en": "send the files to me in this 1:1 chat, or later with `add logs <ticket>`.",
    "de": "senden Sie mir die Dateien hier im 1:1-Chat oder später mit `logs hinzufügen <Ticket>`.",
}


@pytest.mark.parametrize(("product", "language"), EVERY_TEXT)
def test_coaching_names_the_products_key_instruction(product: Product, language: Language) -> None:
    text = coaching(product, language)

    for instruction in KEY_INSTRUCTIONS[product][language]:
        assert instruction in text


@pytest.mark.parametrize(("product", "language"), EVERY_TEXT)
def test_coaching_always_asks_for_time_numbers_and_tests(
    product: Product, language: Language
) -> None:
    text = coaching(product, language)

    for item in ALWAYS[language]:
        assert item in text
    assert text.endswith(SEND[language])


@pytest.mark.parametrize(("product", "language"), EVERY_TEXT)
def test_coaching_is_one_short_chat_message_with_bullets(
    product: Product, language: Language
) -> None:
    text = coaching(product, language)

    assert len(text) < MAX_COACHING_CHARS
    assert text.count("\n- ") >= 4
    assert "{" not in text and "}" not in text


@pytest.mark.parametrize("product", [p for p in Product if p is not Product.OTHER])
def test_coaching_names_the_product(product: Product) -> None:
    for language in LANGUAGES:
        assert product_name(product, language) in coaching(product, language)


def test_teams_coaching_gives_the_german_key_names_too() -> None:
    assert "Strg+Alt+Umschalt+1" in coaching(Product.MICROSOFT_CALLING, "de")


def test_german_coaching_speaks_formally() -> None:
    for product in Product:
        words = set(re.findall(r"\w+", coaching(product, "de")))
        assert "Sie" in words
        assert not words & {"du", "dein", "deine", "dir", "dich"}


def test_coaching_differs_per_language() -> None:
    for product in Product:
        assert coaching(product, "en") != coaching(product, "de")


def test_every_product_has_a_name_in_both_languages() -> None:
    assert set(PRODUCT_NAMES) == set(Product)
    assert product_name(Product.MICROSOFT_CALLING, "en") == "Microsoft Teams Calling"
    assert product_name(Product.LUWARE_ATTENDANT_CONSOLE, "de") == "Luware Attendant Console"
    assert product_name(Product.OTHER, "en") == "Other / not sure"
    assert product_name(Product.OTHER, "de") == "Anderes / unklar"


def test_every_product_has_follow_up_questions_listed() -> None:
    assert set(FOLLOW_UP_QUESTIONS) == set(Product)
    assert FOLLOW_UP_QUESTIONS[Product.OTHER] == []
    assert all(FOLLOW_UP_QUESTIONS[p] for p in Product if p is not Product.OTHER)


@pytest.mark.parametrize("product", list(Product))
def test_follow_up_ids_are_unique_snake_case_with_labels_in_both_languages(
    product: Product,
) -> None:
    questions = FOLLOW_UP_QUESTIONS[product]
    ids = [question.id for question in questions]

    assert len(ids) == len(set(ids))
    for question in questions:
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*", question.id)
        for language in LANGUAGES:
            _ = gettext_for(language)
            assert _(question.label).strip()
            assert _(question.placeholder).strip()
        assert gettext_for("de")(question.label) != question.label


@pytest.mark.parametrize(
    ("product", "expected"),
    [
        (Product.WEBEX_CALLING, ["tracking_id", "device_model"]),
        (Product.WEBEX_CONTACT_CENTER, ["queue", "agent_id"]),
        (Product.MICROSOFT_CALLING, ["call_id", "pstn_connectivity"]),
        (Product.LUWARE_ATTENDANT_CONSOLE, ["luware_service"]),
        (Product.LUWARE_RECORDING, ["luware_service", "call_id"]),
        (Product.LUWARE_CONTACT_CENTER, ["luware_service"]),
        (Product.OTHER, []),
    ],
)
def test_follow_up_ids_are_the_stable_keys(product: Product, expected: list[str]) -> None:
    assert [question.id for question in FOLLOW_UP_QUESTIONS[product]] == expected


def test_the_teams_question_names_the_three_ways_to_the_phone_network() -> None:
    (question,) = [
        q for q in FOLLOW_UP_QUESTIONS[Product.MICROSOFT_CALLING] if q.id == "pstn_connectivity"
    ]
    for language in LANGUAGES:
        for option in ("Direct Routing", "Operator Connect", "Calling Plan"):
            assert option in gettext_for(language)(question.label)
