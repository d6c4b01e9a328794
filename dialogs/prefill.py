"""A fault report pre-filled from the contact's first message: "Webex Calling down since 9:00
for all 40 users in Vienna, we restarted the phones" already names the product, since when,
who is affected and what was tried; the form and the questions then ask only what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogs.understanding.entities import priority_hint, product_in
from dialogs.understanding.normalize import fold, strip_courtesy, strip_greeting
from dialogs.understanding.when import moment_in
from storage.directory import Priority, Product

_CLAUSES = re.compile(r"(?<=[.,;!?])\s+|\s+(?=(?:and|und|aber|but|we|wir)\s)", re.IGNORECASE)
_AFFECTED = re.compile(
    r"\b(?:all|alle[nm]?|every|jede[rn]?|the whole|die ganze|ganze[nm]?|niemand|nobody|"
    r"(?<![:.\d])\d+(?![:.\d]|\s*(?:uhr|h\b|am\b|pm\b))|mehrere|several|many|viele|some|"
    r"einige|one|ein|eine)\b[^.;]*?\b(?:users?|"
    r"benutzer(?:innen)?|user(?:innen)?|mitarbeiter(?:innen)?|mitarbeitende[n]?|leute[n]?|"
    r"people|agents?|kolleg(?:en|innen)|staff|standort(?:e|en)?|sites?|offices?|filiale[n]?|"
    r"phones?|telefone?n?|geraete[n]?|devices?|plaetze[n]?|abteilung|department|"
    r"hotline|firma|company|callcenter)\b"
    r"(?:\s+(?:in|at|am|im|bei|von|of|an der|in der)\s+[\w-]+(?:\s+(?-i:[A-ZÄÖÜ])[\w-]+)?)?",
    re.IGNORECASE,
)
# What was tried, matched on the words as written (umlauts either way: "geprüft", "geprueft").
_TRIED_EN = (
    r"(?:restart|reboot|tried|tested|checked|cleared|reinstalled|replaced|reset|unplugged|"
    r"swapped|updated)"
)
_TRIED_DE = (
    r"(?:neu\s*gestartet|gestartet|getestet|probiert|versucht|gepr(?:ü|ue)ft|kontrolliert|"
    r"neu\s+installiert|getauscht|ausgesteckt|zur(?:ü|ue)ckgesetzt|aktualisiert)"
)
_TESTED = re.compile(
    # "we restarted the phones", "ich habe das Headset getauscht"
    rf"\b(?:we|wir|i|ich|man)\b[^.;]*?\b(?:{_TRIED_EN}|{_TRIED_DE})\w*\b[^.;]*"
    # German chat drops the subject: "Haben die Geräte neu gestartet"
    rf"|\b(?:haben|habe|hab|hatten)\b[^.;]*?\b{_TRIED_DE}\b[^.;]*"
    # and English starts with the verb: "Restarted the phones already"
    r"|^(?:already\s+|also\s+)?(?:restarted|rebooted|tried|tested|reinstalled|replaced|"
    r"unplugged|swapped)\b[^.;]*"
    r"|\b(?:restart|reboot|neustart|neu starten)\w*\b[^.;]*\b(?:did not|didn't|hat nicht|"
    r"hilft nicht|half nicht|no luck|nichts gebracht|brachte nichts)\b[^.;]*",
    re.IGNORECASE,
)


# The words of a request to report ("ich möchte eine Störung melden", "could you log a ticket
# for us?"): a message made of nothing else describes no fault, so nothing is pre-filled.
_REQUEST_WORDS = frozenset({
    "ich", "wir", "i", "we", "me", "us", "mir", "uns", "sie", "du", "ihr", "you", "u", "man",
    "es", "there", "it", "moechte", "moecht", "moechten", "wuerde", "wuerden", "wuerd", "gern",
    "gerne", "haette", "haett", "will", "wollen", "wollte", "muss", "muessen", "brauche",
    "brauchen", "brauch", "need", "want", "wanna", "would", "like", "d", "m", "s", "ll", "ve",
    "to", "gonna", "have", "got", "kann", "koennen", "koennte", "koennten", "koenntet", "koennt",
    "kannst", "can", "could", "may", "mal", "bitte", "please", "pls", "plz", "ein", "eine",
    "einen", "einer", "eins", "neue", "neuen", "neues", "neu", "a", "an", "the", "new", "another",
    "one", "some", "stoerung", "stoerungen", "stoerungsmeldung", "problem", "probleme", "fehler",
    "ticket", "tickets", "fall", "meldung", "fault", "faults", "issue", "issues", "incident",
    "case", "request", "trouble", "melden", "aufmachen", "machen", "auf", "eroeffnen", "anlegen",
    "erfassen", "aufgeben", "erstellen", "aufnehmen", "report", "raise", "log", "open", "create",
    "file", "submit", "make", "start", "fuer", "for", "zu", "bei", "with", "mit", "hier", "here",
    "da", "noch", "jetzt", "now", "kurz", "quick", "habe", "hab", "haben", "gibt", "ist", "is",
    "this", "das", "dem", "den",
})  # fmt: skip


def asks_only_to_report(text: str) -> bool:
    """True when a message asks to report a fault and says nothing about it."""
    words = re.findall(r"[a-z]+", strip_courtesy(fold(text)))
    return bool(words) and all(word in _REQUEST_WORDS for word in words)


@dataclass(frozen=True, slots=True)
class Prefill:
    """What a first message already says about the fault (None / "": not said)."""

    description: str = ""
    product: Product | None = None
    since: datetime | None = None
    affected: str = ""
    tested: str = ""
    priority: Priority | None = None  # a suggestion from the words; the contact confirms it


def prefill(text: str, *, now: datetime, zone: ZoneInfo) -> Prefill:
    """Read the fields of a report from a contact's own description of the fault."""
    words = " ".join(text.split())
    if not words:
        return Prefill()
    words = _without_greeting(words)
    folded = strip_greeting(fold(words))
    product = product_in(folded)
    moment = moment_in(folded, now=now, zone=zone, prefer="past")
    since = moment[0] if moment and moment[0] <= now + timedelta(minutes=5) else None
    return Prefill(
        description=words,
        product=product[0] if product else None,
        since=since,
        affected=_clause(_AFFECTED, words),
        tested=_clause(_TESTED, words),
        priority=priority_hint(folded),
    )


def _without_greeting(text: str) -> str:
    """The message without its opening "Guten Morgen," / "Hi team!" (as the contact wrote it)."""
    words = text.split()
    for count in range(min(len(words), 4), 0, -1):
        head = fold(" ".join(words[:count]))
        if head and not strip_greeting(head).strip(" ,!.:;-"):
            return " ".join(words[count:]) or text
    return text


def _clause(pattern: re.Pattern[str], text: str) -> str:
    """The first clause of `text` that `pattern` finds something in, as the person wrote it."""
    for clause in _CLAUSES.split(text):
        if match := pattern.search(clause):
            return match[0].strip(" ,.;")[:500]
    return ""
