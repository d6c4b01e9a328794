"""Instants in words for people, in their local time: "today 13:00", "Monday 05.01. 11:00"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.context import Language

_WEEKDAYS: dict[Language, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_RELATIVE: dict[Language, tuple[str, str, str]] = {
    "en": ("yesterday", "today", "tomorrow"),
    "de": ("gestern", "heute", "morgen"),
}


def in_words(instant: datetime, *, now: datetime, zone: ZoneInfo, language: Language) -> str:
    """Relative for yesterday, today and tomorrow; the weekday and date within a week; the
    full date beyond."""
    local, today = instant.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if -1 <= days <= 1:
        return f"{_RELATIVE[language][days + 1]} {clock}"
    if 0 < days < 7:
        return f"{_WEEKDAYS[language][local.weekday()]} {local:%d.%m.} {clock}"
    return f"{local:%d.%m.%Y} {clock}"
