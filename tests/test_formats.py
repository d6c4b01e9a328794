"""Dates, times, durations and numbers in texts come from Babel, in each reader's locale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.model import customer_text, without_marks
from dialogs import formats
from dialogs.context import Language
from dialogs.when import in_words

VIENNA = ZoneInfo("Europe/Vienna")
# Tuesday 13 January 2026, 08:05 UTC = 09:05 in Vienna
INSTANT = datetime(2026, 1, 13, 8, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "moment", "weekday", "month"),
    [
        ("en", "Tue 13.01.2026 09:05", "Tuesday", "January 2026"),
        ("de", "Di. 13.01.2026 09:05", "Dienstag", "Jänner 2026"),
    ],
)
def test_a_moment_in_the_readers_zone_and_words(
    language: Language, moment: str, weekday: str, month: str
) -> None:
    assert formats.moment(INSTANT, language, zone=VIENNA) == moment
    assert formats.weekday_name(INSTANT, language, zone=VIENNA) == weekday
    assert formats.month(date(2026, 1, 1), language) == month
    assert formats.clock(INSTANT, language, zone=VIENNA) == "09:05"
    assert formats.day(INSTANT, language, zone=VIENNA) == "13.01.2026"


@pytest.mark.parametrize(
    ("language", "minutes", "expected"),
    [
        ("en", 2, "2 mins"),
        ("en", 60, "1 hr"),
        ("en", 90, "1 hr 30 mins"),
        ("de", 2, "2 Min."),
        ("de", 240, "4 Std."),
        ("de", 90, "1 Std. 30 Min."),
    ],
)
def test_a_duration_names_its_units(language: Language, minutes: int, expected: str) -> None:
    assert formats.duration(timedelta(minutes=minutes), language) == expected


def test_an_overdue_length_is_told_as_its_amount() -> None:
    assert formats.duration(timedelta(minutes=-35), "en") == "35 mins"


@pytest.mark.parametrize(
    ("language", "percent", "effort", "limit"),
    [
        ("en", "97.5 %", "2 hrs 15 mins (2.25 h)", "90 seconds"),
        ("de", "97,5 %", "2 Std. 15 Min. (2,25 h)", "90 Sekunden"),
    ],
)
def test_numbers_use_the_readers_decimal_sign(
    language: Language, percent: str, effort: str, limit: str
) -> None:
    assert formats.percent(97.5, language) == percent
    assert formats.percent(100.0, language) == "100 %"
    assert formats.percent(None, language) == "–"
    assert formats.effort(135, language) == effort
    assert formats.rounded_duration(timedelta(seconds=90), language) == limit


@pytest.mark.parametrize(
    ("language", "tomorrow", "within_a_week"),
    [
        ("en", "tomorrow 09:05", "Friday 16.01. 09:05"),
        ("de", "morgen 09:05", "Freitag 16.01. 09:05"),
    ],
)
def test_instants_in_words(language: Language, tomorrow: str, within_a_week: str) -> None:
    now = INSTANT - timedelta(days=1)
    assert in_words(INSTANT, now=now, zone=VIENNA, language=language) == tomorrow
    friday = INSTANT + timedelta(days=3)
    assert in_words(friday, now=INSTANT, zone=VIENNA, language=language) == within_a_week


def test_typed_words_are_quoted_as_each_language_quotes() -> None:
    assert without_marks(formats.quoted("W99", "de")) == "„W99“"
    assert without_marks(formats.quoted("W99", "en")) == "“W99”"
    assert formats.quoted("<@all>", "en") == f"“{customer_text('<@all>')}”"
