"""What a contact already tried is read from their first message however they put it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dialogs.prefill import asks_only_to_report, prefill

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
VIENNA = ZoneInfo("Europe/Vienna")


@pytest.mark.parametrize(
    ("message", "tried"),
    [
        ("Webex Calling down since 9:00, we restarted the phones", "we restarted the phones"),
        (
            "Seit 9 Uhr klingelt kein Telefon. Haben die Geräte neu gestartet, bringt nichts",
            "Haben die Geräte neu gestartet",
        ),
        (
            "Anrufe brechen ab. Wir haben die Einstellungen überall zurückgesetzt",
            "Wir haben die Einstellungen überall zurückgesetzt",
        ),
        ("Hab das Headset getauscht, trotzdem kein Ton", "Hab das Headset getauscht"),
        (
            "Calls drop after 30 s. Restarted the phones already, no change",
            "Restarted the phones already",
        ),
        ("Kein Freizeichen in Wien seit gestern Abend", ""),
        ("The reset button of the attendant console does nothing", ""),
    ],
)
def test_what_was_tried_is_read_from_the_first_message(message: str, tried: str) -> None:
    assert prefill(message, now=NOW, zone=VIENNA).tested == tried


@pytest.mark.parametrize(
    ("message", "only_asks"),
    [
        ("ich möchte eine Störung melden", True),
        ("Servus, könnt ihr mir bitte ein Ticket aufmachen?", True),
        ("could you log a ticket for us?", True),
        ("I'd like to report a new issue please", True),
        ("ich möchte eine Störung melden: Webex geht nicht", False),
        ("open a ticket, phones dead since 9", False),
        ("we have a problem with Teams", False),
    ],
)
def test_a_request_to_report_is_told_from_a_description(message: str, only_asks: bool) -> None:
    assert asks_only_to_report(message) is only_asks
