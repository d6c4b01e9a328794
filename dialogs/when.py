"""Instants in words for people, in their local time: "today 13:00", "Monday 05.01. 11:00"."""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from dialogs import formats
from dialogs.context import Language
from dialogs.i18n import N_, gettext_for

_RELATIVE: Final = (N_("yesterday {clock}"), N_("today {clock}"), N_("tomorrow {clock}"))


def in_words(instant: datetime, *, now: datetime, zone: ZoneInfo, language: Language) -> str:
    """Relative for yesterday, today and tomorrow; the weekday and date within a week; the
    full date beyond."""
    local, today = instant.astimezone(zone), now.astimezone(zone).date()
    clock = formats.clock(local, language)
    days = (local.date() - today).days
    if -1 <= days <= 1:
        return gettext_for(language)(_RELATIVE[days + 1]).format(clock=clock)
    if 0 < days < 7:
        weekday = formats.weekday_name(local, language)
        return f"{weekday} {formats.day_month(local, language)} {clock}"
    return f"{formats.day(local, language)} {clock}"
