"""A German-speaking engineer and manager get German: the replies to their commands, the help,
the cards; the engineers' channel set to German gets its alerts in German. Transcripts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlmodel import select

from adapters.model import Sender, without_marks
from bot.router import parse_command
from bot.settings import EXAMPLE_DIRECTORY
from dialogs.catalog import default_commands
from dialogs.commands import command_words
from dialogs.i18n import catalog_path
from storage.directory import Directory, load_directory
from storage.models import OutboxRow
from storage.repositories import Store
from tests.transcript import Transcript, customer_contact, report_by_card, staff_member

NUMBER = "CCS-2026-000001"


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture
def german_directory(tmp_path: Path) -> Directory:
    """The example directory with every staff member and both channels set to German."""
    text = EXAMPLE_DIRECTORY.read_text(encoding="utf-8")
    text = re.sub(r"^(roles = .*)$", r'\1\nlanguage = "de"', text, flags=re.MULTILINE)
    text = re.sub(r"^(\[channels\.\w+\])$", r'\1\nlanguage = "de"', text, flags=re.MULTILINE)
    path = tmp_path / "chatops.toml"
    path.write_text(text, encoding="utf-8")
    return load_directory(path)


@pytest.fixture
async def bot(german_directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    directory = german_directory
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-01-07T15:30")
    await report_by_card(transcript, customer_contact(directory))
    transcript.now += timedelta(minutes=20)
    return transcript


@pytest.fixture
def engineer(german_directory: Directory) -> Sender:
    return staff_member(german_directory, "engineer")


@pytest.fixture
def manager(german_directory: Directory) -> Sender:
    return staff_member(german_directory, "manager")


async def say(bot: Transcript, text: str, sender: Sender) -> str:
    [answer] = await bot.say(text, sender=sender)
    return answer.text


async def test_a_german_engineer_works_a_ticket_in_german(
    bot: Transcript, engineer: Sender
) -> None:
    acknowledged = await say(bot, f"quittieren {NUMBER}", engineer)
    assert acknowledged == (
        f"{NUMBER} von Megan Bowen quittiert: erste Reaktion erfasst "
        "(verbrauchte Reaktionszeit 20 Min.)."
    )
    assert await say(bot, f"note {NUMBER} Trunk neu gestartet", engineer) == (
        f"Zu {NUMBER} notiert."
    )
    vendor = await say(bot, f"hersteller {NUMBER} cisco 694123456", engineer)
    assert vendor.startswith(f"Cisco-Fall 694123456 zu {NUMBER} erfasst; ich erinnere")
    assert "8 Std. Servicezeit" in vendor
    assert without_marks(await say(bot, f"assign {NUMBER} Niemand", engineer)) == (
        "Unter den Techniker:innen kenne ich niemanden namens „Niemand“."
    )
    assert await say(bot, f"resolve {NUMBER} Lizenz fehlte", engineer) == f"{NUMBER} gelöst."
    assert await say(bot, f"resolve {NUMBER} nochmals", engineer) == (
        f"{NUMBER} ist bereits gelöst."
    )
    reopened = await say(bot, f"wieder öffnen {NUMBER}", engineer)
    assert reopened.startswith(f"{NUMBER} wieder geöffnet: ein neuer Reaktionszyklus, fällig ")


async def test_a_german_engineer_reads_cards_help_and_hints_in_german(
    bot: Transcript, engineer: Sender
) -> None:
    [shown] = await bot.say(f"show {NUMBER}", sender=engineer)
    assert shown.card is not None
    facts = {fact.label: fact.value for fact in shown.card.facts}
    assert facts["Status"] == "Neu – nicht quittiert"
    assert facts["Reaktion"] == "morgen 10:30"
    assert [action.title for action in shown.card.actions] == [
        "Quittieren", "Übernehmen", "Logs anfordern", "Lösen",
    ]  # fmt: skip
    assert shown.card.title == f"{NUMBER} · Störung · Demo Customer GmbH"

    [help_card] = await bot.say("hilfe", sender=engineer)
    assert help_card.card is not None and help_card.card.title == "Was ich für Sie tun kann"
    labels = [fact.label for fact in help_card.card.facts]
    assert "quittieren ‹Ticket›" in labels and "warteschlange" in labels
    assert "`aufwand ‹Ticket› [45m Notiz]`" in help_card.text
    assert "<" not in help_card.text and "&lt;" not in help_card.text

    assert await say(bot, "quittieren", engineer) == (
        "Welches Ticket? Schreiben Sie die Nummer, z. B. `quittieren CCS-2026-000123`, oder "
        "verwenden Sie den Befehl im Thread des Tickets."
    )


async def test_the_german_engineers_channel_gets_its_alert_in_german(bot: Transcript) -> None:
    async with bot.services.store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).where(OutboxRow.kind == "channel"))).all()
    [alert] = [answer for row in rows for answer in row.payload["answers"]]
    facts = {fact["label"]: fact["value"] for fact in alert["card"]["facts"]}
    assert facts["Status"] == "Neu – nicht quittiert"
    assert facts["Zuständig"] == "–"
    assert without_marks(alert["card"]["quote_label"]) == "Der Kunde schrieb:"


async def test_a_german_manager_gets_reports_breaches_digest_and_billing_in_german(
    bot: Transcript, manager: Sender
) -> None:
    [report] = await bot.say("bericht 2026-01", sender=manager)
    assert report.card is not None
    assert report.card.title == "SLA-Bericht Jänner 2026"
    [summary] = report.card.paragraphs
    assert summary.startswith("- Tickets: 1 (1 Störung, 0 Änderungsaufträge)")
    assert "- Reaktion eingehalten: **–** (0 eingehalten, 0 verletzt, 1 offen)" in summary

    assert await say(bot, "verletzungen 2026-01", manager) == "Keine Verletzungen in 2026-01."
    assert await say(bot, "zusammenfassung", manager) == (
        "Die Zusammenfassung ist ausgeschaltet. Schreiben Sie `zusammenfassung ein` oder "
        "`zusammenfassung aus`."
    )
    assert await say(bot, "zusammenfassung off", manager) == "Zusammenfassung ausgeschaltet."
    assert await say(bot, "abrechnung 2026-01", manager) == (
        "**Verrechenbarer Aufwand Jänner 2026**: kein Aufwand erfasst."
    )
    [status] = await bot.say("status", sender=manager)
    assert status.card is not None and status.card.title == "Servicestatus"
    assert status.card.facts[0].label == "Offen"


def test_every_german_command_word_in_the_help_is_understood() -> None:
    commands = default_commands()
    lookup = {word.lower(): c for c in commands for word in (c.name, *c.aliases)}
    for command in commands:
        if not command.listed:
            continue
        words = command_words(command, "de")
        assert parse_command(words, lookup)[0] == command.name, words


async def test_the_help_names_the_contacts_open_ticket(
    bot: Transcript, german_directory: Directory
) -> None:
    clara = customer_contact(german_directory)
    [english] = await bot.say("help", sender=clara, locale="en-US")
    [german] = await bot.say("hilfe", sender=clara, locale="de-AT")

    assert f"`add logs {NUMBER}`" in english.text
    assert f"`stand {NUMBER}`" in german.text
    assert f"`logs hinzufügen {NUMBER}`" in german.text
    assert "- `störung melden`: eine Störung melden" in german.text


async def test_a_german_engineer_types_every_command_in_german(
    bot: Transcript, engineer: Sender, german_directory: Directory
) -> None:
    [help_card] = await bot.say("hilfe", sender=engineer)
    assert help_card.card is not None
    labels = {fact.label for fact in help_card.card.facts}
    assert {"antworten ‹Ticket› ‹Text›", "notiz ‹Ticket› ‹Text›", "zeigen ‹Ticket›"} <= labels
    assert {"lösen ‹Ticket› ‹Zusammenfassung›", "meine"} <= labels
    assert not {"reply ‹Ticket› ‹Text›", "note ‹Ticket› ‹Text›", "show ‹Ticket›", "mine"} & labels

    [shown] = await bot.say(f"zeigen {NUMBER}", sender=engineer)
    assert shown.card is not None and shown.card.title.startswith(NUMBER)
    assert await say(bot, f"antworten {NUMBER} Bitte Telefon neu starten", engineer) == (
        f"An den Kunden von {NUMBER} gesendet (erste Reaktion erfasst)."
    )
    assert await say(bot, f"notiz {NUMBER} Trunk geprüft", engineer) == f"Zu {NUMBER} notiert."
    assert await say(bot, "meine", engineer) == "**Ihre Tickets**: nichts offen."
    assert await say(bot, f"lösen {NUMBER} Lizenz fehlte", engineer) == f"{NUMBER} gelöst."


async def test_a_german_manager_names_periods_and_switches_in_german(
    bot: Transcript, manager: Sender
) -> None:
    assert await say(bot, "verletzungen diese woche", manager) == (
        "Keine Verletzungen in 2026-W02."
    )
    assert await say(bot, "zusammenfassung aus", manager) == "Zusammenfassung ausgeschaltet."
    assert "`zusammenfassung ein`" in await say(bot, "zusammenfassung", manager)


def german_hints() -> list[str]:
    """Every command line the German texts show: the help's usages and what the replies
    put in backticks."""
    with catalog_path("de", ".po").open("rb") as file:
        german = read_po(file, locale="de")
    hints = [command_words(c, "de") for c in default_commands()]
    for message in german:
        if message.id and isinstance(message.string, str):
            hints += re.findall(r"`([^`]+)`", message.string)
    return hints


def test_german_hints_show_german_sub_command_words() -> None:
    commands = default_commands()
    lookup = {word.lower(): c for c in commands for word in (c.name, *c.aliases)}
    english = []
    for hint in german_hints():
        name, rest = parse_command(hint, lookup)
        command = lookup.get(name)
        for word in re.split(r"[\s|\[\]]+", rest) if command else ():
            entry = command.subcommands.name(word) if command else None
            if entry is not None and word.lower() == entry:
                english.append(f"{hint}: {word}")
    assert english == []
    assert "pflichten [Kunde] | pflichten übernehmen D‹n›" in german_hints()
    assert "onboarding ‹Kunde› [erledigt ‹Punkt› [Notiz] | fragen]" in german_hints()


async def test_a_german_engineer_types_sub_commands_in_german(
    bot: Transcript, engineer: Sender, manager: Sender
) -> None:
    assert await say(bot, "pflichten übernehmen", engineer) == (
        "Welche Pflicht? `pflichten übernehmen D<n>` (die Nummern stehen in `pflichten`)."
    )
    [checklist] = await bot.say("onboarding demo", sender=engineer)
    assert checklist.card is not None
    assert "`onboarding demo erledigt <a–e> [Notiz]`" in checklist.card.paragraphs[1]
    assert "erledigt: Konto übergeben" in await say(
        bot, "onboarding demo erledigt a Konto übergeben", engineer
    )
    unknown = await say(bot, "onboarding demo erledigt z", manager)
    assert without_marks(unknown).startswith("Einen Onboarding-Punkt „z“ kenne ich nicht")
    assert without_marks(await say(bot, "wartung absagen W9", engineer)) == (
        "Ein Wartungsfenster „W9“ kenne ich nicht."
    )
