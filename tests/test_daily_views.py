"""What each role sees day to day, as transcripts on both channels: engineers' `queue` and
`mine` (most urgent first, time left in words, paged), the managers' and engineers' `status`
(tickets most at risk, then the counts), a contact's status in times, and reopening a resolved
ticket by button or in words."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from adapters.model import Outgoing, without_marks
from storage.models import OutboxRow, TicketStatus
from tests.test_conversation import FIRST, SECOND, Chat, buttons, chat, vienna

__all__ = ["chat"]  # the fixture, on both channels

THIRD = "CCS-2026-000003"


def lines_of(answer: Outgoing) -> list[str]:
    return [line for line in answer.text.splitlines() if line.startswith("- **CCS-")]


async def customer_messages(chat: Chat) -> list[OutboxRow]:
    async with chat.bot.services.store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [row for row in rows if row.kind == "conversation"]


async def test_the_queue_shows_each_ticket_most_urgent_first(chat: Chat) -> None:
    await chat.report(priority="P3", description="Voicemail greeting cannot be changed")
    chat.bot.now += timedelta(hours=1)
    await chat.report(priority="P2", description="Calls drop after 30 seconds\nsecond line")
    chat.bot.now += timedelta(hours=1)
    await chat.report(priority="P1", description="Nobody can call out")
    await chat.say(f"take {THIRD}", chat.erika)
    chat.bot.now += timedelta(hours=2, minutes=35)  # 12:30 → 15:05: the first is 35 min late

    [queue] = await chat.say("queue", chat.erika)

    first, second, third = lines_of(queue)
    assert first.startswith(f"- **{FIRST}** · Demo Customer GmbH · Webex Calling · P3 · new · –")
    assert "**overdue by 35 mins**" in first and "Voicemail greeting cannot be changed" in first
    assert f"**{SECOND}**" in second and "**25 mins left**" in second
    assert "Calls drop after 30 seconds" in second and "second line" not in second
    assert f"**{THIRD}**" in third and "Megan Bowen" in third and "in progress" in third
    assert "no deadline running" in third  # answered; the contract has no resolution target
    assert queue.card is not None and [f.label for f in queue.card.facts] == [FIRST, SECOND, THIRD]
    assert buttons(queue) == []  # one page


async def test_mine_lists_only_the_askers_tickets(chat: Chat) -> None:
    await chat.report()
    await chat.report(description="The attendant console freezes every hour")
    await chat.say(f"take {SECOND}", chat.erika)

    [mine] = await chat.say("mine", chat.erika)

    assert [line.split(" · ")[0] for line in lines_of(mine)] == [f"- **{SECOND}**"]
    assert mine.card is not None and mine.card.title == "Your tickets"


async def test_a_long_queue_is_paged_with_a_more_button(chat: Chat) -> None:
    for minute in range(12):
        chat.bot.now = vienna("2026-01-07T10:30") + timedelta(minutes=minute)
        await chat.report(description=f"Fault number {minute + 1} on the trunk")

    [page_one] = await chat.say("queue", chat.erika)
    [page_two] = await chat.press(page_one, "More", chat.erika)
    [typed] = await chat.say("queue page 2", chat.erika)

    assert len(lines_of(page_one)) == 10 and "1–10 of 12" in page_one.text
    assert "`queue page 2`" in page_one.text
    assert [line.split(" · ")[0] for line in lines_of(page_two)] == [
        "- **CCS-2026-000011**",
        "- **CCS-2026-000012**",
    ]
    assert "11–12 of 12" in page_two.text and buttons(page_two) == []
    assert typed.text == page_two.text

    # in German, the hint names the German command word, which works as typed
    await chat.say("sprache de", chat.erika)
    [german] = await chat.say("warteschlange", chat.erika)
    assert "`warteschlange Seite 2`" in german.text
    [german_two] = await chat.say("warteschlange Seite 2", chat.erika)
    assert "11–12 von 12" in german_two.text


async def test_status_lists_the_tickets_most_at_risk_then_the_counts(chat: Chat) -> None:
    await chat.report(priority="P3", description="Voicemail greeting cannot be changed")
    chat.bot.now += timedelta(hours=3)
    await chat.report(priority="P1", description="Nobody can call out")
    chat.bot.now += timedelta(hours=1, minutes=10)

    [manager] = await chat.say("status", chat.manager)
    [engineer] = await chat.say("status", chat.erika)
    [one_customer] = await chat.say("status Demoo", chat.manager)  # a typo
    [unknown] = await chat.say("status Fabrikam", chat.manager)

    text = manager.text
    at_risk, later = lines_of(manager)
    assert at_risk == f"- **{FIRST}** · Demo Customer GmbH · P3 · new · – · **overdue by 10 mins**"
    assert later.startswith(f"- **{SECOND}**") and "**2 hrs 50 mins left**" in later
    assert text.index(FIRST) < text.index("- Open: 2")  # tickets first, then the counts
    assert engineer.text == text  # engineers get the service status, not a contact's list
    assert one_customer.card is not None
    assert one_customer.card.title == "Service status – Demo Customer GmbH"
    assert lines_of(one_customer) == lines_of(manager)
    assert without_marks(unknown.text) == "I know no customer called “Fabrikam”."


async def test_a_contacts_status_tells_times_in_their_language(chat: Chat) -> None:
    await chat.report()  # Wednesday 10:30 Vienna: the reaction is due 14:30

    [due] = await chat.say(f"status {FIRST}")
    chat.bot.now = vienna("2026-01-07T11:12")
    await chat.say(f"ack {FIRST}", chat.erika)
    chat.bot.now = vienna("2026-01-08T09:00")
    [answered] = await chat.say(f"status {FIRST}")
    await chat.say("Deutsch bitte")
    [german] = await chat.say(f"status {FIRST}")
    [mine] = await chat.say("meine Tickets")

    assert "Reaction: reaction due by 14:30" in due.text
    assert "Reaction: answered at Wed 11:12 by Megan Bowen" in answered.text
    assert "beantwortet Mi., 11:12 von Megan Bowen" in german.text
    assert "beantwortet Mi., 11:12 von Megan Bowen" in mine.text


async def test_a_late_reaction_tells_since_when(chat: Chat) -> None:
    await chat.report()
    chat.bot.now = vienna("2026-01-08T09:00")  # 4 h of service time used by 17:00 yesterday

    [late] = await chat.say(f"status {FIRST}")

    assert "reaction overdue since Wed 14:30" in late.text


async def test_the_resolution_message_reopens_the_ticket_by_its_button(chat: Chat) -> None:
    await chat.report()
    await chat.say(f"resolve {FIRST} trunk re-registered", chat.erika)
    resolution = (await customer_messages(chat))[-1].payload["answers"][0]
    assert "reopen" in resolution["text"] and "7 days" in resolution["text"]
    [button] = resolution["card"]["actions"]
    chat.bot.now += timedelta(days=3)

    [reopened] = await chat.say("", value=button["data"])

    assert f"I reopened {FIRST}" in reopened.text
    assert (await chat.events(FIRST))[-1] == "reopened"
    found = await chat.bot.services.store.tickets.by_number(FIRST)
    assert found is not None and found.status == TicketStatus.OPEN


async def test_a_contact_reopens_in_german_words(chat: Chat) -> None:
    await chat.report()
    await chat.say(f"resolve {FIRST} trunk re-registered", chat.erika)
    chat.bot.now += timedelta(days=1)

    [offer] = await chat.say("wieder offen 1")
    [answer] = await chat.press(offer, f"Reopen {FIRST}")

    assert f"I reopened {FIRST}" in answer.text
    assert (await chat.events(FIRST))[-1] == "reopened"


async def test_too_late_to_reopen_offers_a_report_that_refers_to_the_old_ticket(
    chat: Chat,
) -> None:
    await chat.report()
    await chat.say(f"resolve {FIRST} trunk re-registered", chat.erika)
    chat.bot.now += timedelta(days=8)

    [too_late] = await chat.say(f"reopen {FIRST}")
    answers = await chat.press(too_late, "Report a new fault")

    assert "too long ago" in too_late.text
    form = next(answer for answer in answers if answer.card and answer.card.inputs)
    assert form.card is not None
    fields = {field.id: field.value for field in form.card.inputs}
    assert FIRST in fields["description"] and fields["product"] == "webex-calling"
