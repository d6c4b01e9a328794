"""What the bot makes of one message: the command (or another reading), the entities, how sure
it is, and the arguments the command's handler takes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dialogs.understanding.entities import Entities
from dialogs.understanding.when import compact

# Readings that are no command of their own.
MESSAGE = "message"  # information for one of the contact's tickets
SMALLTALK = "smalltalk"
CANCEL = "cancel"
NONE = "none"
PSEUDO = frozenset({MESSAGE, SMALLTALK, CANCEL, NONE})
# Alternatives less likely than this are not worth showing.
SHOWN_AT_LEAST = 0.01

# Where free text (a summary, a note, the words for the customer) begins in a sentence:
# after punctuation, else after a word that introduces what was said.
_PUNCTUATION = re.compile(r"\s*(?::|–|—|\s-\s|,|;)\s*")
_INTRODUCING = re.compile(
    r"\s+(?:that|dass|saying|sagen|because|weil|reason|grund)\s+", re.IGNORECASE
)
_TICKET_TEXT = re.compile(
    r"\b[A-Z]{2,10}-\d{4}-\d{6}\b|#\s?\d{1,6}\b|\b[A-Z]{2,5}-\d{1,6}\b|"
    r"\b(?:ticket|case|fall|nr\.?|nummer)\s*\d{1,6}\b|(?<![\w:.,])\d{1,6}(?![\w:.,%])",
    re.IGNORECASE,
)

_REFERENCE_WORDS = re.compile(
    r"\b(?:the |my |our |das |mein |meinem |unser |dem )?(?:last|latest|letzte[nms]?|neueste[nms]?)"
    r"(?: one| ticket| case| fall| meldung)?\b|\b(?:ticket|case|fall|meldung) (?:von|from|of) "
    r"(?:gestern|heute|yesterday|today)\b",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Reading:
    """The understanding of one text (see the package docstring)."""

    text: str
    command: str | None
    confidence: float
    entities: Entities
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    exact: bool = False
    rest: str = ""  # after an exact command word: the rest of the message, verbatim
    allowed: bool = True
    number: str | None = None  # the ticket's full number, once resolved
    takes: tuple[str, ...] = ()  # the slots of the command read (for showing the reading)

    def free_text(self) -> str:
        """The person's own words for a summary, note or reply: after a separator (":", ",",
        "that", "dass", …) or after the ticket's number."""
        text = self.rest if self.exact else self.text
        ticket = _TICKET_TEXT.search(text)
        start = ticket.end() if ticket else 0
        separator = _PUNCTUATION.search(text, start) or _INTRODUCING.search(text, start)
        if separator is not None:
            return text[separator.end() :].strip()
        tail = text[start:].strip(" .!?")
        return tail if ticket is not None and len(tail.split()) >= 2 else ""

    def without_ticket_words(self) -> str:
        """The rest after exact command words, without the words that named the ticket."""
        text = self.rest if self.exact else self.text
        for pattern in (_REFERENCE_WORDS, _TICKET_TEXT):
            if match := pattern.search(text):
                return " ".join((text[: match.start()] + text[match.end() :]).split())
        return text

    def slot(self, name: str, zone: ZoneInfo) -> str:
        """One slot's value as the command's handler reads it ("" when not named)."""
        e = self.entities
        match name:
            case "ticket":
                return self.number or ""
            case "duration":
                return compact(e.duration) if e.duration else ""
            case "moment":
                return f"{e.moment.astimezone(zone):%Y-%m-%d %H:%M}" if e.moment else ""
            case "text":
                return self.free_text()
            case "month":
                return e.month or ""
        value = getattr(e, name)
        return "" if value is None else str(value)

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        """`chatops understand`'s answer (`refused`: a command of another role)."""
        shown: dict[str, Any] = {
            "command": None if self.command in (None, NONE) else self.command,
            "args": self.entities.as_json(zone, {*self.takes, "ticket"}),
            "confidence": round(self.confidence, 3),
            "alternatives": [
                {"command": name, "confidence": round(p, 3)}
                for name, p in self.alternatives
                if p >= SHOWN_AT_LEAST
            ],
        }
        if not self.allowed:
            shown["refused"] = True
        return shown
