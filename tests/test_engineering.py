"""Engineers working tickets from the chat, as transcripts; what the customer and the ticket's
thread are told is read from the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.model import Sender, without_marks
from storage.directory import Directory
from storage.models import OutboxRow, TicketRow, TicketStatus
from storage.repositories import Store
from tests.transcript import Transcript, customer_contact, report_by_card, staff_member

NUMBER = "CCS-2026-000001"


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-01-07T15:30")
    await report_by_card(transcript, customer_contact(directory))
    transcript.now += timedelta(minutes=20)
    return transcript


@pytest.fixture
def erika(directory: Directory) -> Sender:
    return staff_member(directory, "engineer")


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


async def outbox(bot: Transcript, kind: str | None = None) -> list[OutboxRow]:
    async with bot.services.store.database.session() as session:
        query = select(OutboxRow).order_by(col(OutboxRow.id))
        rows = list((await session.scalars(query)).all())
    return [row for row in rows if kind is None or row.kind == kind]


def texts(rows: list[OutboxRow]) -> list[str]:
    return [without_marks(row.payload["answers"][0]["text"]) for row in rows]


def button_commands(card: dict[str, Any]) -> list[str]:
    """The commands a card's buttons send, those behind an unfolding button included."""
    found = []
    for action in card.get("actions", ()):
        if "data" in action:
            found.append(action["data"]["command"])
        elif "card" in action:
            found += button_commands(action["card"])
    return found


async def ticket(bot: Transcript) -> TicketRow:
    found = await bot.services.store.tickets.by_number(NUMBER)
    assert found is not None
    return found


async def kinds(bot: Transcript) -> list[str]:
    row = await ticket(bot)
    assert row.id is not None
    return [event.kind for event in await bot.services.store.tickets.events(row.id)]


async def test_a_new_ticket_is_alerted_in_the_engineers_channel(bot: Transcript) -> None:
    [alert] = await outbox(bot, "channel")
    assert alert.target == {"team_id": "team-id", "channel_id": "team-id"}
    card = alert.payload["answers"][0]["card"]
    assert card["title"] == f"{NUMBER} · Fault · Demo Customer GmbH"
    facts = {fact["label"]: fact["value"] for fact in card["facts"]}
    assert facts["Status"] == "New – not acknowledged"
    assert facts["Reaction"] == "tomorrow 10:30"
    assert button_commands(card) == [
        f"ack {NUMBER}",
        f"take {NUMBER}",
        f"ask-logs {NUMBER}",
        f"resolve {NUMBER}",
    ]


async def test_an_answer_within_a_minute_does_not_read_as_no_time_at_all(
    bot: Transcript, erika: Sender
) -> None:
    bot.now -= timedelta(minutes=20) - timedelta(seconds=30)

    [answer] = await bot.say(f"ack {NUMBER}", sender=erika)

    assert "first response recorded (reaction time used less than a minute)" in answer.text
    [update] = await outbox(bot, "update")
    facts = {f["label"]: f["value"] for f in update.payload["answers"][0]["card"]["facts"]}
    assert facts["Reaction"] == "met (responded within a minute)"


async def test_acknowledge_is_the_first_response_and_tells_the_customer(
    bot: Transcript, erika: Sender
) -> None:
    [answer] = await bot.say(f"ack {NUMBER}", sender=erika)

    assert "first response recorded (reaction time used 20 mins)" in answer.text
    assert texts(await outbox(bot, "conversation")) == [
        f"Megan Bowen is working on your ticket {NUMBER}."
    ]
    assert (await ticket(bot)).owner_name == "Megan Bowen"
    [update] = await outbox(bot, "update")
    facts = {f["label"]: f["value"] for f in update.payload["answers"][0]["card"]["facts"]}
    assert facts["Status"] == "In progress (Megan Bowen)"
    assert facts["Reaction"] == "met (responded after 20 mins)"

    [again] = await bot.say(f"ack {NUMBER}", sender=erika)
    assert "already acknowledged" in again.text
    assert len(await outbox(bot, "conversation")) == 1  # the customer is told once
    assert (await kinds(bot)).count("responded") == 1


async def test_in_the_tickets_thread_the_number_may_be_left_out(
    bot: Transcript, erika: Sender
) -> None:
    row = await ticket(bot)
    assert row.id is not None
    await bot.services.store.threads.add(
        ticket_id=row.id,
        channel="teams",
        root_message_id="1700000000001",
        reference={},
        now=bot.now,
    )
    [answer] = await bot.say(
        "take",
        sender=erika,
        kind="channel",
        conversation_id="team-id;messageid=1700000000001",
        thread_id="1700000000001",
    )
    assert f"Megan Bowen owns {NUMBER} now" in answer.text


async def test_customers_cannot_use_engineer_commands(bot: Transcript, clara: Sender) -> None:
    [answer] = await bot.say(f"resolve {NUMBER}", sender=clara)
    # not executed: for a customer with an open ticket it is just a message to the engineers
    assert answer.text == f"Added to {NUMBER}; the engineers see it."
    assert (await ticket(bot)).status == TicketStatus.OPEN
    assert "resolved" not in await kinds(bot)


async def test_a_reply_reaches_the_customer_and_counts_as_response(
    bot: Transcript, erika: Sender
) -> None:
    await bot.say(f"reply {NUMBER} Please restart the phone once more", sender=erika)

    assert texts(await outbox(bot, "conversation")) == [
        f"**Megan Bowen** wrote on {NUMBER}:\n\nPlease restart the phone once more"
    ]
    assert "responded" in await kinds(bot)


async def test_asking_for_logs_pauses_and_a_customer_answer_resumes(
    bot: Transcript, erika: Sender, clara: Sender
) -> None:
    [answer] = await bot.say(f"ask-logs {NUMBER} the Webex app logs", sender=erika)
    assert "SLA clock is paused" in answer.text
    assert (await ticket(bot)).status == TicketStatus.WAITING_FOR_CUSTOMER
    [request] = texts(await outbox(bot, "conversation"))
    assert request.startswith(f"Please send logfiles for {NUMBER}: the Webex app logs")
    assert "Send logs" in request  # the product's coaching

    bot.now += timedelta(minutes=30)
    [added] = await bot.say("I sent them via Help > Send logs, tracking id ABC", sender=clara)

    assert added.text == f"Added to {NUMBER}; the engineers see it."
    assert (await ticket(bot)).status == TicketStatus.OPEN
    thread = texts(await outbox(bot, "thread"))
    assert "tracking id ABC" in thread[-1]
    assert "the SLA clock runs again" in thread[-1]
    assert (await kinds(bot))[-2:] == ["customer_message", "resumed"]


async def test_notes_vendor_cases_resolve_and_reopen(bot: Transcript, erika: Sender) -> None:
    [noted] = await bot.say(f"note {NUMBER} Looks like a carrier issue", sender=erika)
    assert noted.text == f"Noted on {NUMBER}."
    assert "Looks like a carrier issue" in texts(await outbox(bot, "thread"))[-1]

    [bad] = await bot.say(f"vendor {NUMBER} avaya 123", sender=erika)
    assert "cisco|microsoft|luware" in bad.text
    [case] = await bot.say(f"vendor {NUMBER} cisco 698765432", sender=erika)
    assert "Cisco case 698765432 recorded" in case.text

    [resolved] = await bot.say(f"resolve {NUMBER} Carrier fixed the trunk", sender=erika)
    assert resolved.text == f"{NUMBER} resolved."
    assert texts(await outbox(bot, "conversation"))[-1].startswith(
        f"Your ticket {NUMBER} is resolved:\n\nCarrier fixed the trunk\n\n"
    )
    assert (await ticket(bot)).sla_next_due is None

    [reopened] = await bot.say(f"reopen {NUMBER}", sender=erika)
    assert "a new reaction cycle" in reopened.text
    assert (await ticket(bot)).status == TicketStatus.OPEN


async def test_assign_show_mine_and_queue(
    bot: Transcript, erika: Sender, directory: Directory
) -> None:
    [assigned] = await bot.say(f"assign {NUMBER} adele", sender=erika)
    assert assigned.text == f"{NUMBER} is assigned to Adele Vance."

    [shown] = await bot.say(f"show {NUMBER}", sender=erika)
    assert shown.card is not None
    assert {f.label: f.value for f in shown.card.facts}["Owner"] == "Adele Vance"

    [queue] = await bot.say("queue", sender=erika)
    assert queue.card is not None
    [line] = queue.card.facts
    assert line.label == NUMBER
    assert without_marks(line.value) == (
        "Demo Customer GmbH · Webex Calling · P2 · new · Adele Vance · **3 hrs 40 mins left** · "
        "Calls drop after 30 seconds on all phones"
    )

    [mine] = await bot.say("mine", sender=erika)
    assert "nothing open" in mine.text
    [adeles] = await bot.say("mine", sender=staff_member(directory, "manager"))
    assert adeles.card is not None and adeles.card.facts[0].label == NUMBER


async def test_an_unknown_ticket_is_explained(bot: Transcript, erika: Sender) -> None:
    [answer] = await bot.say("ack", sender=erika)
    assert "Which ticket?" in answer.text


async def test_a_resolved_ticket_is_not_worked_on_until_reopened(
    bot: Transcript, erika: Sender
) -> None:
    await bot.say(f"resolve {NUMBER} done", sender=erika)

    [refused] = await bot.say(f"ask-logs {NUMBER}", sender=erika)

    assert refused.text == f"{NUMBER} is resolved; `reopen {NUMBER}` first."
    assert (await ticket(bot)).status == TicketStatus.RESOLVED
