"""The scope guard: what CCSB 3.0 excludes, read from English and German fault descriptions."""

from __future__ import annotations

from typing import get_args

import pytest

from dialogs.context import Language
from dialogs.scope import (
    Scope,
    ScopeAssessment,
    assess,
    explanation,
    out_of_contract_product,
)
from storage.directory import Product

LANGUAGES: tuple[Language, ...] = get_args(Language)
IN = Scope.IN_SCOPE
HW = Scope.HARDWARE_REPLACEMENT
NET = Scope.CLIENT_CONNECTIVITY
CHG = Scope.CHANGE_REQUEST

# (description, expected scope). Decisions for the tricky ones are noted inline.
PHRASINGS: list[tuple[str, Scope]] = [
    # --- ordinary faults -------------------------------------------------------------------
    ("calls drop after 30 seconds", IN),
    ("Anrufe brechen nach 30 Sekunden ab", IN),
    ("The auto attendant plays the wrong announcement", IN),
    ("Agents can't log in to the agent desktop", IN),
    ("Luware recording missing for the call at 14:05", IN),
    ("Die Weiterleitung auf das Handy geht nicht", IN),
    ("Please check why the call forwarding doesn't work", IN),
    # a broken device is a fault to analyse (manufacturer cases are in scope) …
    ("The desk phone is broken, it shows no display", IN),
    ("Das Tischtelefon ist kaputt, kein Display", IN),
    # … and what was already swapped is only a test report
    ("I replaced the cable, still no dial tone", IN),
    ("Ich habe das Kabel getauscht, immer noch kein Freizeichen", IN),
    ("The phone is broken. It was replaced last week already.", IN),
    # "Exchange" the mail server is not exchanging a device
    ("Exchange Online voicemail is not delivered to my phone", IN),
    # device updates are part of the contract, not a change request
    ("Please update the firmware of the phones", IN),
    # --- hardware replacement --------------------------------------------------------------
    ("phone broken, please send a new one", HW),
    ("Telefon kaputt, bitte Austausch", HW),
    ("My headset is defective. Can you replace it?", HW),
    ("Das Headset ist defekt und muss ausgetauscht werden", HW),
    ("Wir brauchen ein neues Telefon für den Empfang", HW),
    ("Please exchange the broken headset", HW),
    ("Bitte Austausch der Basisstation, DECT defekt", HW),
    ("RMA für Cisco 8851 bitte", HW),
    ("Can you send us 5 new headsets?", HW),
    # --- client connectivity ---------------------------------------------------------------
    ("since the new firewall no calls", NET),
    ("Seit dem neuen Virenscanner stürzt Teams ab", NET),
    ("Since we use the VPN the audio is choppy", NET),
    ("Über VPN haben wir keinen Ton", NET),
    ("Teams drops calls when Zscaler is active", NET),
    ("Teams-Anrufe über das WLAN im Büro sind abgehackt", NET),
    ("Our proxy blocks the Webex App", NET),
    # the contact rules the client side out: a cloud fault, in scope. "The firewall of
    # Webex is fine" names a firewall only to say it is not the cause.
    ("the firewall of Webex is fine, calls drop", IN),
    ("We have no proxy, calls still fail", IN),
    ("Wir nutzen kein VPN, Anrufe brechen ab", IN),
    ("Firewall geprüft, alles offen, trotzdem einseitige Sprachverbindung", IN),
    ("We turned off the VPN, still no audio", IN),
    # --- change requests -------------------------------------------------------------------
    ("please add a new user to the hunt group", CHG),
    ("bitte neuen Benutzer zur Sammelgruppe hinzufügen", CHG),
    ("bitte neuen Benutzer zur Sammelgruppe hinzufuegen", CHG),
    ("Please change the opening hours of the hotline for Christmas", CHG),
    ("Bitte die Öffnungszeiten ab 1.12. ändern", CHG),
    ("BITTE DIE OEFFNUNGSZEITEN AB MORGEN AENDERN", CHG),
    ("We need a new number for the support hotline", CHG),
    ("Please remove John Smith from the call queue", CHG),
    ("Please set up call forwarding to +43 1 234 for the reception", CHG),
    ("Bitte Rufumleitung auf die Zentrale einrichten", CHG),
    ("Wir haben einen neuen Mitarbeiter, bitte anlegen", CHG),
    ("Bitte den Benutzer Max Muster löschen", CHG),
    ("Feiertage für 2025 in der Sammelgruppe hinterlegen", CHG),
    ("please replace the IVR greeting with the new text", CHG),
    # history and failed attempts are faults, not requests
    ("Since the change of the opening hours, calls go to voicemail", IN),
    ("Seit der Änderung der Öffnungszeiten landen Anrufe auf der Mailbox", IN),
    ("I can't add a user to the hunt group, the portal shows an error", IN),
    ("Ich kann den Benutzer nicht zur Sammelgruppe hinzufügen, Fehlermeldung", IN),
    ("Benutzer anlegen funktioniert nicht", IN),
    ("The update broke the queue", IN),
]


@pytest.mark.parametrize(("text", "expected"), PHRASINGS)
def test_the_scope_guard_reads_realistic_descriptions(text: str, expected: Scope) -> None:
    assessment = assess(text)

    assert assessment.scope is expected
    assert bool(assessment.keywords) == (expected is not IN)


def test_the_table_covers_every_scope_in_both_languages() -> None:
    assert len(PHRASINGS) >= 25
    assert {scope for _, scope in PHRASINGS} == set(Scope)


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("Telefon kaputt, bitte Austausch", "Austausch"),
        ("since the new firewall no calls", "firewall"),
        ("please add a new user to the hunt group", "add a new user to the hunt group"),
        (
            "bitte neuen Benutzer zur Sammelgruppe hinzufügen",
            "Benutzer zur Sammelgruppe hinzufügen",
        ),
        ("Seit dem neuen Virenscanner stürzt Teams ab", "Virenscanner"),
    ],
)
def test_keywords_are_cut_from_the_original_text(text: str, keyword: str) -> None:
    assert keyword in assess(text).keywords


@pytest.mark.parametrize(
    "text",
    [
        "Bitte neuen Benutzer zur Sammelgruppe hinzufügen",
        "Bitte neuen Benutzer zur Sammelgruppe hinzufuegen",
        "BITTE NEUEN BENUTZER ZUR SAMMELGRUPPE HINZUFÜGEN",
        "bitte neuen benutzer zur sammelgruppe hinzufu\u0308gen",  # decomposed umlaut
    ],
)
def test_umlaut_spellings_and_case_do_not_matter(text: str) -> None:
    assert assess(text).scope is CHG


@pytest.mark.parametrize(
    ("text", "scope", "also"),
    [
        (
            "Our headset is broken, please send a new one and also add the user to the queue",
            HW,
            (CHG,),
        ),
        ("Since the new firewall, no calls. Please also send a new phone.", HW, (NET,)),
        ("Teams blocked by antivirus, and please add a new user", NET, (CHG,)),
    ],
)
def test_hardware_beats_connectivity_beats_change(
    text: str, scope: Scope, also: tuple[Scope, ...]
) -> None:
    assessment = assess(text)

    assert (assessment.scope, assessment.also) == (scope, also)


def test_in_scope_has_no_explanation() -> None:
    for language in LANGUAGES:
        assert explanation(ScopeAssessment(IN), language) == ""
        assert explanation(assess("calls drop after 30 seconds"), language) == ""


@pytest.mark.parametrize("scope", [HW, NET, CHG])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_exclusion_is_explained_in_both_languages(scope: Scope, language: Language) -> None:
    text = explanation(ScopeAssessment(scope), language)

    assert text
    assert "{" not in text
    assert "(" not in text  # nothing noticed, nothing quoted


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Telefon kaputt, bitte Austausch", "de", ["Austausch defekter Hardware", "„Austausch“"]),
        ("phone broken, please send a new one", "en", ["Replacing faulty hardware is not part"]),
        ("since the new firewall no calls", "en", ["“firewall”", "your IT", "cloud side"]),
        ("since the new firewall no calls", "de", ["„firewall“", "Ihrer IT", "Cloud"]),
        (
            "please add a new user to the hunt group",
            "en",
            ["configuration change", "billed by effort at the hourly rate", "your consent"],
        ),
        (
            "bitte neuen Benutzer zur Sammelgruppe hinzufügen",
            "de",
            ["Konfigurationsänderung", "nach Aufwand zum Stundensatz", "Ihre Zustimmung"],
        ),
    ],
)
def test_explanations_name_the_contract_rule_and_what_was_noticed(
    text: str, language: Language, expected: list[str]
) -> None:
    said = explanation(assess(text), language)

    for part in expected:
        assert part in said


def test_a_product_in_the_contract_needs_no_remark() -> None:
    contract = [Product.WEBEX_CALLING, Product.LUWARE_RECORDING]
    for language in LANGUAGES:
        assert out_of_contract_product(Product.WEBEX_CALLING, contract, language) == ""
        assert out_of_contract_product(Product.LUWARE_RECORDING, contract, language) == ""


def test_a_product_outside_the_contract_is_named_and_still_forwarded() -> None:
    contract = [Product.WEBEX_CALLING]

    english = out_of_contract_product(Product.MICROSOFT_CALLING, contract, "en")
    german = out_of_contract_product(Product.MICROSOFT_CALLING, contract, "de")

    assert "Microsoft Teams Calling" in english and "not covered" in english
    assert "forward" in english
    assert "Microsoft Teams Calling" in german and "nicht Teil" in german
    assert "weiter" in german


def test_not_sure_is_never_called_out_of_contract() -> None:
    for language in LANGUAGES:
        assert out_of_contract_product(Product.OTHER, [], language) == ""
