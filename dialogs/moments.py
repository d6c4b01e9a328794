"""Instants the way a contact reads them, in their time zone and language (Babel): "10:30"
today, "Thu 10:30" within the week, "Thu 8 Jan 10:30" beyond."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from dialogs.context import Language
from dialogs.i18n import BABEL_LOCALE


def moment_words(instant: datetime, *, now: datetime, zone: ZoneInfo, language: Language) -> str:
    """The time alone today, with the weekday within six days, with the date beyond."""
    locale = BABEL_LOCALE[language]
    days = abs((instant.astimezone(zone).date() - now.astimezone(zone).date()).days)
    time = format_skeleton("Hm", instant, tzinfo=zone, locale=locale)
    if days == 0:
        return time
    if days < 7:
        return format_skeleton("EHm", instant, tzinfo=zone, locale=locale)
    return f"{format_skeleton('MMMEd', instant, tzinfo=zone, locale=locale)} {time}"
