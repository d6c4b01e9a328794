"""Deadlines in words, as a contact reads them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs.when import in_words

VIENNA = ZoneInfo("Europe/Vienna")
NOW = datetime.fromisoformat("2026-01-07T09:00:00+01:00")  # a Wednesday


@pytest.mark.parametrize(
    ("instant", "english", "german"),
    [
        ("2026-01-07T13:00:00+01:00", "today 13:00", "heute 13:00"),
        ("2026-01-08T10:30:00+01:00", "tomorrow 10:30", "morgen 10:30"),
        ("2026-01-06T16:00:00+01:00", "yesterday 16:00", "gestern 16:00"),
        ("2026-01-12T11:00:00+01:00", "Monday 12.01. 11:00", "Montag 12.01. 11:00"),
        ("2026-01-20T08:00:00+01:00", "20.01.2026 08:00", "20.01.2026 08:00"),
        # given in UTC, said in Vienna time: 23:30 UTC is already tomorrow 00:30
        ("2026-01-07T23:30:00+00:00", "tomorrow 00:30", "morgen 00:30"),
    ],
)
def test_in_words(instant: str, english: str, german: str) -> None:
    at = datetime.fromisoformat(instant)
    assert in_words(at, now=NOW, zone=VIENNA, language="en") == english
    assert in_words(at, now=NOW, zone=VIENNA, language="de") == german
