"""People writing naturally, as transcripts on both channels: what the bot does with free
text when a contact has open tickets, clarifying questions, role-aware refusals, global
requests inside a dialog, and a first message that pre-fills the report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.model import (
    Channel,
    ConversationRef,
    Incoming,
    Outgoing,
    Sender,
    SubmitAction,
    without_marks,
)
from dialogs.catalog import default_commands
from dialogs.commands import CommandContext
from dialogs.context import Actor, Turn
from dialogs.conversation import Ask, Conversation
from dialogs.understanding import Entities, Reading
from storage.directory import Directory, Role
from storage.models import TicketStatus
from storage.repositories import Store
from tests.transcript import (
    Transcript,
    customer_contact,
    report_by_card,
    staff_member,
    webex_contact,
    webex_staff,
)

FIRST, SECOND = "CCS-2026-000001", "CCS-2026-000002"


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


class Chat:
    """One channel's view: the customer contact, the engineer and the manager there."""

    def __init__(self, bot: Transcript, directory: Directory, channel: Channel) -> None:
        self.bot, self.channel = bot, channel
        webex = channel is Channel.WEBEX
        self.clara = webex_contact(directory) if webex else customer_contact(directory)
        self.erika = (
            webex_staff(directory, "engineer") if webex else staff_member(directory, "engineer")
        )
        self.manager = (
            webex_staff(directory, "manager") if webex else staff_member(directory, "manager")
        )

    async def say(self, text: str, sender: Sender | None = None, **kw: object) -> list[Outgoing]:
        return await self.bot.say(text, sender=sender or self.clara, channel=self.channel, **kw)  # type: ignore[arg-type]

    async def press(
        self, answer: Outgoing, title: str, sender: Sender | None = None
    ) -> list[Outgoing]:
        assert answer.card is not None, answer.text
        [button] = [a for a in answer.card.actions if without_marks(a.title) == title]
        assert isinstance(button, SubmitAction)
        return await self.say("", sender, value=dict(button.data))

    async def report(self, **changes: str) -> None:
        await report_by_card(self.bot, self.clara, channel=self.channel, **changes)

    async def events(self, number: str) -> list[str]:
        store = self.bot.services.store.tickets
        found = await store.by_number(number)
        assert found is not None and found.id is not None
        return [event.kind for event in await store.events(found.id)]


@pytest.fixture(params=[Channel.TEAMS, Channel.WEBEX], ids=["teams", "webex"])
async def chat(
    request: pytest.FixtureRequest, directory: Directory, store: Store, tmp_path: Path
) -> Chat:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    bot = Transcript(directory, store, blob_root=tmp_path / "files")
    bot.now = vienna("2026-01-07T10:30")
    return Chat(bot, directory, request.param)


def buttons(answer: Outgoing) -> list[str]:
    """The buttons' labels as the person reads them (a person's words in them unmarked)."""
    return [without_marks(action.title) for action in answer.card.actions] if answer.card else []


async def test_a_natural_first_message_starts_a_report_already_filled_in(chat: Chat) -> None:
    note, form = await chat.say(
        "Webex Calling down since 9:00 for all 40 users in Vienna, we restarted the phones"
    )

    assert "sounds like a fault" in note.text
    assert form.card is not None and form.card.title == "Report a fault"
    fields = {i.id: i.value for i in form.card.inputs}
    assert fields["product"] == "webex-calling"
    assert fields["since"] == "07.01.2026 09:00"
    assert fields["affected"] == "all 40 users in Vienna"
    assert fields["tested"] == "we restarted the phones"
    assert fields["priority"] == "P1"  # suggested from "all … users"; the contact confirms it
    assert "From your message I understood" in " ".join(form.card.paragraphs)
    understood = {fact.label: fact.value for fact in form.card.facts}
    assert understood["Affected product"] == "Webex Calling"
    assert understood["Since when"] == "07.01.2026 09:00"
    # answering in text asks only what is missing: the priority (suggested) and a phone
    assert "How bad is it?" in form.text and "I'd say **P1" in form.text
    [phone_question] = await chat.say("yes")
    assert phone_question.text == "Which number can we call you back on?"
    [answer] = await chat.say("+43 664 1234567")
    while "Reply **yes** to send it" not in answer.text:  # the product's follow-ups
        [answer] = await chat.say("skip")
    for said in ("Webex Calling", "P1", "07.01.2026 09:00", "all 40 users in Vienna",
                 "we restarted the phones"):  # fmt: skip
        assert said in answer.text


async def test_free_text_is_added_to_the_one_open_ticket_but_not_commands_or_small_talk(
    chat: Chat,
) -> None:
    await chat.report()

    [added] = await chat.say("we restarted the router once more, same result")
    [thanks] = await chat.say("thanks!")
    [german] = await chat.say("Deutsch bitte")
    [nothing] = await chat.say("abbrechen")

    assert added.text == f"Added to {FIRST}; the engineers see it."
    assert thanks.text == "You're welcome, Clara!"
    assert german.text == "Ab jetzt antworte ich auf Deutsch."
    assert nothing.text == "Gerade gibt es nichts abzubrechen."
    assert (await chat.events(FIRST)).count("customer_message") == 1


async def test_words_that_could_be_news_or_a_new_fault_get_one_question(chat: Chat) -> None:
    await chat.report()

    [question] = await chat.say("jetzt geht auch in Linz nichts mehr")
    assert question.text.startswith("Did you mean:")
    assert buttons(question) == ["Report a new fault", f"Add this to {FIRST}"]
    [form] = await chat.press(question, "Report a new fault")

    assert form.card is not None and form.card.title == "Report a fault"
    fields = {i.id: i.value for i in form.card.inputs}
    assert fields["description"] == "jetzt geht auch in Linz nichts mehr"
    assert "customer_message" not in await chat.events(FIRST)


async def test_with_several_open_tickets_the_contact_is_asked_which(chat: Chat) -> None:
    await chat.report()
    await chat.report(description="The attendant console freezes every hour")

    [which] = await chat.say("we restarted the router as you suggested, same result")
    assert "several open tickets" in which.text
    assert len([b for b in buttons(which) if b.startswith("CCS-")]) == 2
    [chosen] = [b for b in buttons(which) if b.startswith(FIRST)]
    [added] = await chat.press(which, chosen)

    assert added.text == f"Added to {FIRST}; the engineers see it."
    assert "customer_message" in await chat.events(FIRST)
    assert "customer_message" not in await chat.events(SECOND)


async def test_a_message_that_names_its_ticket_goes_to_that_ticket(chat: Chat) -> None:
    await chat.report()
    await chat.report(description="The attendant console freezes every hour")

    [added] = await chat.say("zu #1: der Fehler tritt nur bei externen Anrufen auf")

    assert added.text == f"Added to {FIRST}; the engineers see it."
    assert "customer_message" not in await chat.events(SECOND)


async def test_still_not_working_after_the_resolution_offers_to_reopen(chat: Chat) -> None:
    await chat.report()
    await chat.say(f"resolve {FIRST} trunk re-registered", chat.erika)
    chat.bot.now += timedelta(days=2)

    [offer] = await chat.say("it's still not working")
    assert FIRST in offer.text and "reopen" in offer.text.lower()
    [reopened] = await chat.press(offer, f"Reopen {FIRST}")

    assert f"I reopened {FIRST}" in reopened.text and "deadline" in reopened.text
    found = await chat.bot.services.store.tickets.by_number(FIRST)
    assert found is not None and found.status == TicketStatus.OPEN
    assert (await chat.events(FIRST))[-1] == "reopened"


async def test_a_contact_cannot_reopen_after_the_reopen_period(chat: Chat) -> None:
    await chat.report()
    await chat.say(f"resolve {FIRST} trunk re-registered", chat.erika)
    chat.bot.now += timedelta(days=8)

    [answer] = await chat.say(f"reopen {FIRST}")

    assert "too long ago" in answer.text
    assert (await chat.events(FIRST))[-1] == "resolved"


async def test_requests_of_another_role_are_refused_by_role(chat: Chat) -> None:
    [contact] = await chat.say("anything breached this week?")
    [engineer] = await chat.say("give me the SLA numbers for October", chat.erika)
    [manager] = await chat.say("ich möchte eine Störung melden", chat.manager)

    assert contact.text.startswith("That is something managers do")
    assert engineer.text.startswith("That is something managers do")
    assert manager.text.startswith("That is something customer contacts do")
    assert 2 <= len(buttons(contact)) <= 3
    # a button is labelled with whole words, not cut inside a parenthesis
    assert "Where a ticket stands" in buttons(manager)


async def test_a_request_to_report_is_no_description_and_plain_requests_work_inside_it(
    chat: Chat,
) -> None:
    _note, form = await chat.say("Servus, ich möchte eine Störung melden")
    assert form.card is not None
    assert {i.id: i.value for i in form.card.inputs}["description"] == ""
    await chat.say("WxCC")
    [what] = await chat.say("sehr dringend, keiner kann arbeiten")
    assert what.text.startswith("What is wrong?")
    await chat.say("Agents bekommen keine Anrufe")
    [who] = await chat.say("seit 20 Minuten")  # 10:10, counted back from 10:30
    assert who.text.startswith("Who or what is affected?")

    [tickets, still] = await chat.say("welche Tickets hab ich?")
    assert "not reported any ticket" in tickets.text
    assert "still in the middle" in still.text
    await chat.say("alle 12 Agents in Linz")
    await chat.say("neu angemeldet, Browser gewechselt")
    await chat.say("+43 664 1234567")
    [summary] = await chat.say("skip")
    while "Please check your report" not in summary.text:
        [summary] = await chat.say("skip")
    assert "What is wrong?: Agents bekommen keine Anrufe" in summary.text
    assert "Since when?: 07.01.2026 10:10" in summary.text
    assert "Who or what is affected?: alle 12 Agents in Linz" in summary.text
    [cancelled] = await chat.say("lass uns das abbrechen")
    assert cancelled.text.startswith("Cancelled. Nothing was saved.")


async def test_inside_a_report_global_requests_work_and_are_never_stored_as_answers(
    chat: Chat,
) -> None:
    await chat.say("report a fault")
    await chat.say("Webex")  # typed: the questions go on in text

    [help_card, still] = await chat.say("help")
    [tickets, _still] = await chat.say("my tickets")
    [german, noch] = await chat.say("Deutsch bitte")
    [question] = await chat.say("P2")

    assert help_card.card is not None and help_card.card.title == "What I can do for you"
    assert "still in the middle" in still.text
    assert "not reported any ticket" in tickets.text
    assert "Wir sind noch mittendrin" in noch.text and german.text
    assert "Was funktioniert nicht?" in question.text  # the next question, in German now
    [cancelled] = await chat.say("abbrechen")
    assert "Abgebrochen" in cancelled.text


async def test_engineers_and_managers_are_understood_in_their_own_words(chat: Chat) -> None:
    await chat.report()

    [taken] = await chat.say("I'll take 1", chat.erika)
    [logged] = await chat.say("log 1,5h on #1 for the dial plan", chat.erika)
    [typed] = await chat.say("effort 1 90 min call with the carrier", chat.erika)
    [resolved] = await chat.say("mark 1 as fixed, trunk was down", chat.erika)
    [breaches] = await chat.say("anything breached this week?", chat.manager)

    assert f"owns {FIRST} now" in taken.text
    assert f"1 hr 30 mins on {FIRST}" in logged.text
    assert f"Logged 1 hr 30 mins on {FIRST}" in typed.text and "total 3 hrs" in typed.text
    assert resolved.text == f"{FIRST} resolved."
    kinds = await chat.events(FIRST)
    assert "resolved" in kinds
    assert "No breaches in 2026-W02" in breaches.text


async def test_close_readings_get_one_question_with_buttons(
    directory: Directory, store: Store, tmp_path: Path
) -> None:
    bot = Transcript(directory, store, blob_root=tmp_path / "files")
    context = CommandContext(
        directory=directory, commands=default_commands(), dialogs={}, services=bot.services
    )
    incoming_turn = Turn(
        incoming=_incoming("I'd like to see the details"),
        actor=Actor("u", "Megan Bowen", Role.ENGINEER, "en"),
        now=vienna("2026-01-07T10:30"),
    )
    reading = Reading("I'd like to see the details", "queue", 0.45, Entities(), [("mine", 0.4)])

    decision = await Conversation(context).decide(incoming_turn, reading)

    assert isinstance(decision, Ask)
    assert [o.command for o in decision.options] == ["queue", "mine"]


def _incoming(text: str) -> Incoming:
    return Incoming(
        channel=Channel.TEAMS,
        event_id="1",
        conversation=ConversationRef(Channel.TEAMS, "c", "personal"),
        sender=Sender(user_id="u", name="Megan Bowen"),
        text=text,
    )


async def test_the_bot_answers_in_the_persons_language_whatever_they_write_in(
    chat: Chat,
) -> None:
    await chat.say("Deutsch bitte")

    [refused] = await chat.say("anything breached this week?")
    [unsure] = await chat.say("frobnicate the pbx")

    assert refused.text.startswith("Das machen Manager:innen")
    assert unsure.text.startswith("Ich bin nicht sicher, was Sie mit „frobnicate the pbx“ meinen")
    assert "Störung melden" in " ".join(buttons(unsure))


async def test_a_greeting_is_answered_with_what_this_person_can_do(chat: Chat) -> None:
    [contact] = await chat.say("Servus!")
    [engineer] = await chat.say("hi", chat.erika)

    assert contact.text.startswith("Hello Clara! What can I do for you?")
    assert buttons(contact) == ["Report a fault", "The tickets you reported", "What I can do"]
    assert engineer.text.startswith("Hello Megan! What can I do for you?")
    assert "All open tickets by deadline" in buttons(engineer)


async def test_questions_and_negations_are_not_orders(chat: Chat) -> None:
    await chat.report()

    [question] = await chat.say("should we close 1?", chat.erika)
    [negated] = await chat.say("don't resolve 1 yet, waiting for the carrier", chat.erika)
    assert (await chat.events(FIRST)).count("resolved") == 0
    assert question.text.startswith("I'm not sure you want me to do this now")
    # the words of a sentence that says not to resolve are no resolution: it is asked for
    assert buttons(negated) == [f"Resolve a ticket: {FIRST}"]
    [asked] = await chat.press(negated, f"Resolve a ticket: {FIRST}", chat.erika)
    assert asked.text.startswith(f"What was done to resolve {FIRST}?")
    assert (await chat.events(FIRST)).count("resolved") == 0
    [done] = await chat.say("carrier fixed the trunk", chat.erika)
    assert done.text == f"{FIRST} resolved."


async def test_a_confirmation_button_says_what_it_will_do(chat: Chat) -> None:
    await chat.report()

    [question] = await chat.say("could you maybe give 1 to Megan?", chat.erika)

    assert buttons(question) == [f"Give a ticket to another engineer: {FIRST} Megan Bowen"]


async def test_a_sentence_that_begins_with_a_command_word_is_read_as_a_sentence(
    chat: Chat,
) -> None:
    note, form = await chat.say("Stand heute geht gar nichts mehr, Telefonie komplett ausgefallen")
    await chat.say("cancel")
    [thumbs] = await chat.say("👍")
    [question_mark] = await chat.say("?")

    assert form.card is not None and form.card.title == "Report a fault"
    assert "sounds like a fault" in note.text
    assert thumbs.text == "Glad to hear, Clara. Anything else I can do for you?"
    assert question_mark.card is not None and question_mark.card.title == "What I can do for you"


async def test_a_new_fault_that_names_a_ticket_is_not_added_to_it_unasked(chat: Chat) -> None:
    await chat.report()

    [question] = await chat.say("Neue Störung, ähnlich wie Ticket 1: die Aufzeichnung geht nicht")
    [unknown] = await chat.say("we restarted, ticket 7 is still broken")

    assert buttons(question) == ["Report a new fault", f"Add this to {FIRST}"]
    assert "Ticket “7”" in unknown.text or "ticket “7”" in unknown.text
    assert "customer_message" not in await chat.events(FIRST)


async def test_an_older_questions_button_does_not_answer_the_newer_one(chat: Chat) -> None:
    await chat.report()
    await chat.report(description="The attendant console freezes every hour")
    [first] = await chat.say("we restarted the router as you suggested, same result")
    [second] = await chat.say("we swapped the headset as you suggested, still the same")

    [stale] = await chat.press(first, next(b for b in buttons(first) if b.startswith(FIRST)))
    assert stale.text.startswith("That form was already sent or has expired")
    assert "customer_message" not in await chat.events(FIRST)
    [added] = await chat.press(second, next(b for b in buttons(second) if b.startswith(FIRST)))
    assert added.text == f"Added to {FIRST}; the engineers see it."


async def test_absurd_numbers_are_not_read_as_times_or_durations(chat: Chat) -> None:
    await chat.report()
    [answer] = await chat.say("effort 1 99999999999999 h dial plan", chat.erika)
    answers = await chat.say("vor 1000000 Tagen ging das noch, jetzt kein Freizeichen")

    assert "Logged" not in answer.text
    assert answers and all(a.text for a in answers)  # answered, not failed
