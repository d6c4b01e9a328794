"""The contract's scope guard: does a fault description ask for something CCSB 3.0 excludes?

CCSB 3.0 covers remote analysis, diagnosis and repair of faults. It does not include replacing
faulty hardware or faults of the client's connection to the cloud (anti-virus, firewall, …),
and configuration changes are billed by effort at the hourly rate. `assess` reads what a
contact wrote (English or German) and says which of these it looks like, with the words it
noticed, so the bot can explain the contract before the report goes on. It never refuses
anything: the report is forwarded either way.

Design:

* Precision over recall. A false "not covered" annoys a customer with a real fault; a missed
  one is caught by the engineer. So every rule needs an *intent* (replace, add, change …)
  together with its *object* (phone, user, hunt group …), or a word that on its own names the
  client side (firewall, VPN, proxy …).
* Describing a device is not asking for one: "phone broken" is a fault (the provider even opens
  manufacturer cases for devices under warranty), only "replace it / send a new one" is not
  covered. Past tense is a test report: "I replaced the cable" / "Kabel getauscht" is what was
  tested, so it stays in scope.
* A client-side word that the contact rules out is not counted: "no VPN", "the firewall is fine",
  "firewall checked", "VPN turned off, still no audio" (what was tested, and the fault remains).
* A configuration word that describes history or a failed attempt is not a change request:
  "since the change of the opening hours …", "I can't add the user", "Benutzer anlegen
  funktioniert nicht" are faults.
* Matching runs on a folded copy (case-folded, ä/ö/ü/ß → ae/oe/ue/ss) so "Geraet" and "Gerät"
  match alike; the keywords returned are cut from the original text.
* Precedence when several match: hardware, then client connectivity, then change request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from dialogs.coaching import product_name
from dialogs.context import Language
from dialogs.i18n import N_, gettext_for
from storage.directory import Product


class Scope(StrEnum):
    """What a fault description looks like under the contract."""

    IN_SCOPE = "in-scope"
    HARDWARE_REPLACEMENT = "hardware-replacement"
    CLIENT_CONNECTIVITY = "client-connectivity"
    CHANGE_REQUEST = "change-request"


PRECEDENCE: Final = (Scope.HARDWARE_REPLACEMENT, Scope.CLIENT_CONNECTIVITY, Scope.CHANGE_REQUEST)
"""When several scopes match, the first in this order wins."""


@dataclass(frozen=True, slots=True)
class ScopeAssessment:
    """The verdict, the words that led to it, and other exclusions that matched as well."""

    scope: Scope
    keywords: tuple[str, ...] = ()
    also: tuple[Scope, ...] = ()


# --- folding ---------------------------------------------------------------------------------

_FOLD: Final = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "’": "'", "\u2018": "'", "\u00b4": "'"}


def _fold(text: str) -> tuple[str, list[int]]:
    """Case-fold and spell umlauts out; also return, per folded char, its index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded in char.casefold():
            spelled = _FOLD.get(folded, folded)
            chars.append(spelled)
            origin.extend([index] * len(spelled))
    return _ABBREVIATION_DOTS.sub(_hide_dot, "".join(chars)), origin


_ABBREVIATION_DOTS: Final = re.compile(
    r"(?<=\d)\.|\.(?=\d)|\b\w\.|\b(?:bzw|usw|ca|inkl|evtl|ggf|vgl|etc|approx|incl|nr|no)\."
)
"""Dots that do not end a sentence: in dates and numbers (1.12., 14.05), abbreviations."""


def _hide_dot(match: re.Match[str]) -> str:
    return match[0].replace(".", "\u00b7")


# --- vocabulary (folded spelling) ------------------------------------------------------------

_SENTENCE = r"[^.!?;\n]"
_CLAUSE = r"[^,.!?;\n]"

_DEVICE = (
    r"(?:(?:desk|ip|dect|tisch|sip)[\s-]?)?"
    r"(?:phones?|telefon(?:e|s|en)?)\b(?!\s*(?:numbers?|calls?|lines?|book|system))"
    r"|handsets?|headsets?|headphones?|devices?|hardware|endgeraet\w*|geraet\w*"
    r"|hoerer\w*|kopfhoerer\w*|base\s?stations?|basisstation\w*|handys?|smartphones?"
    r"|mobile\s+phones?|cisco\s?\d{4}\w*|yealink\w*|jabra\w*|poly(?:com)?\b"
)
_DET = (
    r"(?:the|our|my|a|an|this|that|these|those|his|her|their|its|another|one|two|three"
    r"|some|all|both|broken|defective|faulty|old|new|existing|following|current)"
)
_ORDER_VERB_DE = r"(?:schick|send|zusend|liefer|brauch|benoetig|bestell)\w*"

_HARDWARE_ANYWHERE: Final = re.compile(rf"\b(?:{_DEVICE})")
"""A device must be named somewhere for the generic replacement words to count."""

_HARDWARE_RULES: Final[tuple[tuple[re.Pattern[str], bool], ...]] = tuple(
    (re.compile(pattern), needs_device)
    for pattern, needs_device in (
        # replace / replacement (not "replaced": that is a test report) …
        (r"\breplace(?:ment)?\b|\bneeds?\s+replacing\b", True),
        # … except when asked for: "needs to be replaced", "should be replaced"
        (r"\b(?:needs?|has|have|must|should|could|can)\s+(?:to\s+)?be\s+replaced\b", True),
        (
            rf"\b(?:exchange|swap(?:\s+out)?)\s+(?:{_DET}\s+){{0,2}}(?:[\w-]+\s+)?(?:{_DEVICE})",
            False,
        ),
        (
            r"\b(?:send|ship|need|order|get|want|provide)\s+(?:(?:us|me|him|her|them)\s+)?"
            r"(?:(?:a|an|another|some|\d+|two|three|four|five)\s+)?"
            rf"(?:new|replacement|spare)\s+(?:ones?\b|{_DEVICE})",
            True,
        ),
        (r"\brma\b", False),
        # German: Austausch, austauschen, tauschen, Umtausch, ersetzen, Ersatz(gerät)
        (r"\b(?:aus|um)?tausch(?:en)?\b|\bersetzen\b|\bersatz\w*", True),
        (r"\b(?:aus)?getauscht\s+werden\b|\bersetzt\s+werden\b", True),
        (
            rf"\b{_ORDER_VERB_DE}\b{_SENTENCE}{{0,40}}?"
            rf"\bneue[sn]?\s+(?:[\w-]+\s+)?(?:{_DEVICE}|eins\b)",
            True,
        ),
        (
            rf"\bneue[sn]?\s+(?:[\w-]+\s+)?(?:{_DEVICE}|eins\b)"
            rf"{_SENTENCE}{{0,40}}?\b{_ORDER_VERB_DE}",
            True,
        ),
    )
)

_CLIENT_RULE: Final = re.compile(
    r"\b(?:anti[\s-]?virus\w*|virenscanner\w*|virenschutz\w*|endpoint\s+(?:protection|security)"
    r"|defender|firewall\w*|proxy\w*|proxies|(?:ssl|tls)[\s-]?inspection"
    r"|deep\s+packet\s+inspection|zscaler|fortigate|fortinet|sophos|vpn\w*"
    r"|(?:local|our|internal|company|office|corporate|home)\s+(?:network|lan|wi-?fi|wlan)"
    r"|lan\b|wlan\w*|wi-?fi\b|wireless\s+lan"
    r"|(?:lokal|unser|intern|eigen|firmen|buero|heim)\w*\s*(?:netz\w*|lan\b|wlan\w*)"
    r"|internet[\s-]?(?:connection|line|access|provider|uplink)\w*"
    r"|internet(?:verbindung|leitung|zugang|anbieter|provider)\w*"
    r"|(?:our|my)\s+internet|unser\w*\s+internet|router\w*)"
)

_NEGATOR = r"(?:no|not|don't|dont|doesn't|doesnt|never|without\s+any|kein\w*|nicht|nie)"
_FILLER = (
    r"(?:a|an|the|any|our|my|this|that|behind|use|using|uses|need|needs|to|have|has|there"
    r"|is|are|hinter|mit|eine[mnrs]?|ein|der|die|das|den|dem|unser\w*|mein\w*|wir|haben)"
)
_NEGATED_BEFORE: Final = re.compile(rf"\b{_NEGATOR}\s+(?:{_FILLER}\s+){{0,3}}$")
_RULED_OUT_BEFORE: Final = re.compile(
    r"\b(?:checked|tested|verified|ruled\s+out|excluded|geprueft|getestet|kontrolliert"
    r"|ausgeschlossen)\s+(?:[\w-]+\s+){0,3}$"
)
_RULED_OUT_AFTER: Final = re.compile(
    rf"^{_CLAUSE}{{0,30}}?\b(?:(?:is|are|was|were|seems|ist|sind|war|scheint)\s+)?"
    r"(?:(?:also|auch|definitely|sicher|really|all|alle|completely|komplett|voellig)\s+)?"
    r"(?:fine|ok|okay|in\s+ordnung|not\s+the\s+(?:problem|cause|issue|culprit)"
    r"|nicht\s+(?:das\s+problem|die\s+ursache|schuld)|ruled\s+out|ausgeschlossen|checked"
    r"|tested|verified|geprueft|getestet|kontrolliert|unchanged|unveraendert|not\s+involved)\b"
)
_TESTED_BEFORE: Final = re.compile(
    r"\b(?:disabled|turned\s+off|switched\s+off|deactivated|bypassed|removed|restarted"
    r"|rebooted|replaced|tried\s+without|without)\s+(?:[\w-]+\s+){0,3}$"
)
_TESTED_AFTER: Final = re.compile(
    rf"^{_CLAUSE}{{0,20}}?\b(?:disabled|turned\s+off|switched\s+off|deactivated|bypassed"
    r"|restarted|rebooted|deaktiviert|abgeschaltet|ausgeschaltet|umgangen|neu\s+gestartet)\b"
)
_STILL: Final = re.compile(
    r"\b(?:still|nevertheless|anyway|immer\s+noch|noch\s+immer|weiterhin|trotzdem"
    r"|nach\s+wie\s+vor)\b"
)

_OBJECT_EN = (
    r"(?:users?|accounts?|agents?|members?|employees?|colleagues?|persons?|people"
    r"|(?:phone\s+)?numbers?|extensions?|dids?|(?:call\s+)?queues?|hunt\s?groups?"
    r"|auto[\s-]?attendants?|ivrs?|(?:ivr\s+)?menus?|(?:opening|business|office|service)\s+hours"
    r"|holiday\s+(?:schedules?|hours)|schedules?|(?:call\s+)?forwarding(?:\s+rules?)?"
    r"|routing(?:\s+rules?)?|announcements?|greetings?|(?:call\s+)?pickup\s+groups?)\b"
)
_VERB_EN = (
    r"(?:add|create|set\s?up|configure|remove|delete|change|modify|adjust|update|rename|replace"
    r"|assign|unassign|enable|disable|activate|deactivate)"
)
_OBJECT_DE = (
    r"(?:benutzer\w*|nutzer\w*|user\w*|mitarbeiter\w*|kolleg\w*|agent\w*|teilnehmer\w*"
    r"|mitglied\w*|(?:ruf|telefon|durchwahl)?nummer\w*|durchwahl\w*|sammelgruppe\w*"
    r"|sammelanschlu\w*|warteschlange\w*|queue\w*|hunt\s?group\w*|ivr\w*|sprachmenue\w*"
    r"|auto[\s-]?attendant\w*|oeffnungszeit\w*|geschaeftszeit\w*|servicezeit\w*|feiertag\w*"
    r"|(?:ruf)?umleitung\w*|weiterleitung\w*|ansage\w*|routing\w*|anrufgruppe\w*"
    r"|heranholgruppe\w*)"
)
_VERB_DE = (
    r"(?:hinzufuegen|hinzuzufuegen|anlegen|anzulegen|einrichten|einzurichten|entfernen"
    r"|loeschen|aendern|abaendern|anpassen|umstellen|eintragen|austragen|zuweisen|zuordnen"
    r"|aktivieren|deaktivieren|freischalten|umbenennen|verschieben|erstellen|konfigurieren"
    r"|hinterlegen|aenderung\w*|anpassung\w*|umstellung\w*|einrichtung|neuanlage)"
)
_CHANGE_RULES: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b(?P<verb>{_VERB_EN})\s+(?:{_DET}\s+){{0,3}}(?:[\w@.'-]+\s+)?{_OBJECT_EN}",
        rf"\b(?P<verb>add|remove|move|assign)\b{_CLAUSE}{{0,40}}?\b(?:to|from|into|in|out\s+of)"
        rf"\s+(?:{_DET}\s+){{0,2}}(?:[\w-]+\s+)?{_OBJECT_EN}",
        rf"\b(?P<verb>need|want|would\s+like|order|request|require)\s+(?:{_DET}\s+){{0,3}}"
        rf"(?:new|additional|another)\s+{_OBJECT_EN}",
        r"\b(?P<verb>forward|divert|redirect)\s+(?:all\s+)?(?:calls|the\s+number|the\s+line)"
        rf"\s+(?:from\s+{_CLAUSE}{{0,30}}?)?to\b",
        r"\b(?P<verb>change\s+request)\b",
        rf"\b(?P<verb>{_VERB_DE})\b{_SENTENCE}{{0,60}}?\b{_OBJECT_DE}",
        rf"\b{_OBJECT_DE}{_SENTENCE}{{0,60}}?\b(?P<verb>{_VERB_DE})\b",
        rf"\b(?P<verb>{_ORDER_VERB_DE}|moechten|wuensch\w*)\b{_SENTENCE}{{0,30}}?\bneue[nrs]?\s+"
        rf"{_OBJECT_DE}",
    )
)
_NOT_A_REQUEST_BEFORE: Final = re.compile(
    r"\b(?:can'?t|cannot|can\s+not|unable|not\s+able|fail\w*|try|trying|tried|error|when"
    r"|while|since|after\s+the|nicht|kein\w*|fehler\w*|seit|nach\s+(?:der|dem|den)|versuch\w*"
    r"|wenn|beim|bei\s+der)\b"
)
_NOT_A_REQUEST_AFTER: Final = re.compile(
    r"^\s*(?:klappt|funktioniert|geht|gelingt|schlaegt|failed|fails|doesn'?t|does\s+not"
    r"|is\s+not|isn'?t|didn'?t|did\s+not)\b"
)


# --- matching --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int


def _clause_before(folded: str, position: int) -> str:
    start = max(folded.rfind(mark, 0, position) for mark in ",.!?;\n") + 1
    return folded[start:position]


def _hardware(folded: str) -> list[_Hit]:
    device_named = _HARDWARE_ANYWHERE.search(folded) is not None
    hits = []
    for pattern, needs_device in _HARDWARE_RULES:
        for match in pattern.finditer(folded):
            if needs_device and not device_named:
                continue
            if _NEGATED_BEFORE.search(_clause_before(folded, match.start())):
                continue
            hits.append(_Hit(match.start(), match.end()))
    return hits


def _client(folded: str) -> list[_Hit]:
    still = _STILL.search(folded) is not None
    hits = []
    for match in _CLIENT_RULE.finditer(folded):
        before = _clause_before(folded, match.start())
        after = folded[match.end() :]
        if _NEGATED_BEFORE.search(before) or _RULED_OUT_BEFORE.search(before):
            continue
        if _RULED_OUT_AFTER.search(after):
            continue
        if still and (_TESTED_BEFORE.search(before) or _TESTED_AFTER.search(after)):
            continue
        hits.append(_Hit(match.start(), match.end()))
    return hits


def _change(folded: str) -> list[_Hit]:
    hits = []
    for pattern in _CHANGE_RULES:
        for match in pattern.finditer(folded):
            verb = match.start("verb")
            before = _clause_before(folded, verb)[-50:]
            if _NOT_A_REQUEST_BEFORE.search(before):
                continue
            if _NOT_A_REQUEST_AFTER.search(folded[match.end("verb") :]):
                continue
            hits.append(_Hit(match.start(), match.end()))
    return hits


_DETECTORS: Final[dict[Scope, Callable[[str], list[_Hit]]]] = {
    Scope.HARDWARE_REPLACEMENT: _hardware,
    Scope.CLIENT_CONNECTIVITY: _client,
    Scope.CHANGE_REQUEST: _change,
}


def _keywords(text: str, origin: list[int], hits: list[_Hit]) -> tuple[str, ...]:
    """The original words of each hit, in text order, without overlaps or repeats."""
    found: list[str] = []
    last_end = -1
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if hit.start < last_end:
            continue
        last_end = hit.end
        words = " ".join(text[origin[hit.start] : origin[hit.end - 1] + 1].split())
        if words.casefold() not in (w.casefold() for w in found):
            found.append(words)
    return tuple(found)


def assess(text: str) -> ScopeAssessment:
    """Classify a fault description (English or German) against the contract's exclusions."""
    original = unicodedata.normalize("NFC", text)
    folded, origin = _fold(original)
    matched = {scope: detect(folded) for scope, detect in _DETECTORS.items()}
    found = [scope for scope in PRECEDENCE if matched[scope]]
    if not found:
        return ScopeAssessment(Scope.IN_SCOPE)
    return ScopeAssessment(
        scope=found[0],
        keywords=_keywords(original, origin, matched[found[0]]),
        also=tuple(found[1:]),
    )


# --- explaining ------------------------------------------------------------------------------

_NOTICED: Final = N_(" (I noticed: {words})")
_QUOTED: Final = N_("“{word}”")

_EXPLANATIONS: Final[dict[Scope, str]] = {
    Scope.HARDWARE_REPLACEMENT: N_(
        "It sounds as if a device should be replaced{noticed}. Replacing faulty hardware "
        "is not part of your support contract. We are glad to help analyse the fault and, for "
        "devices under warranty or a service contract, to open a case with the manufacturer – "
        "please have the service-contract details ready."
    ),
    Scope.CLIENT_CONNECTIVITY: N_(
        "This may be a problem of your connection to the cloud{noticed}. Faults of client "
        "connections – for example anti-virus, firewall, proxy, VPN or the local network – are "
        "not covered by your support contract, so please check with your IT first. If the "
        "cloud side is suspected, we will of course still help analyse the fault."
    ),
    Scope.CHANGE_REQUEST: N_(
        "This is a configuration change{noticed}: under your support contract it is "
        "billed by effort at the hourly rate and needs your consent."
    ),
}


def explanation(assessment: ScopeAssessment, language: Language) -> str:
    """A short, polite explanation of the contract for the customer; "" when in scope."""
    if assessment.scope is Scope.IN_SCOPE:
        return ""
    _ = gettext_for(language)
    noticed = ""
    if assessment.keywords:
        words = ", ".join(_(_QUOTED).format(word=word) for word in assessment.keywords[:3])
        noticed = _(_NOTICED).format(words=words)
    return _(_EXPLANATIONS[assessment.scope]).format(noticed=noticed)


_NOT_IN_CONTRACT: Final = N_(
    "**{product}** is not covered by your support contract. I will still forward your "
    "report to the support team, who will get back to you about how to proceed."
)


def out_of_contract_product(
    product: Product, products_in_contract: Sequence[Product], language: Language
) -> str:
    """A sentence naming `product` as not covered by the contract; "" when it is covered.

    `Product.OTHER` ("not sure") is never called out: the contact could not tell which
    product it is, so the engineer decides.
    """
    if product is Product.OTHER or product in products_in_contract:
        return ""
    _ = gettext_for(language)
    return _(_NOT_IN_CONTRACT).format(product=product_name(product, language))
