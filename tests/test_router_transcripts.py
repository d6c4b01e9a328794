"""The router as people meet it: who they are decides what they may do."""

from __future__ import annotations

import pytest

from adapters.model import SubmitAction
from storage.directory import Directory
from storage.repositories import Store
from tests.transcript import FIXED_NOW, Transcript, customer_contact, staff_member, stranger


@pytest.fixture
async def chat(directory: Directory, store: Store) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=FIXED_NOW)
    return Transcript(directory, store)


async def test_a_stranger_is_told_politely_that_they_are_not_registered(
    chat: Transcript, directory: Directory
) -> None:
    [answer] = await chat.say("help", sender=stranger())

    assert "don't know you yet" in answer.text
    assert directory.provider.name in answer.text
    assert answer.card is None


async def test_a_stranger_learns_nothing_even_with_a_valid_command(chat: Transcript) -> None:
    answers = await chat.say("whoami", sender=stranger())
    assert len(answers) == 1
    assert "Demo" not in answers[0].text and "CCSB" not in answers[0].text


async def test_help_shows_a_customer_contact_their_organisation(
    chat: Transcript, directory: Directory
) -> None:
    [answer] = await chat.say("help", sender=customer_contact(directory))

    assert answer.card is not None
    assert answer.card.title == "What I can do for you"
    assert directory.customers[0].name in answer.card.paragraphs[0]
    assert "customer contact" in answer.card.paragraphs[0]
    commands = [fact.label for fact in answer.card.facts]
    assert "help" in commands
    assert "`help`" in answer.text  # the text fallback lists the same commands


async def test_help_names_each_role_of_a_person(chat: Transcript, directory: Directory) -> None:
    [engineer] = await chat.say("help", sender=staff_member(directory, "engineer"))
    [manager] = await chat.say("help", sender=staff_member(directory, "manager"))

    assert engineer.card is not None and manager.card is not None
    assert "**engineer**" in engineer.card.paragraphs[0]
    assert "manager" in manager.card.paragraphs[0] and "engineer" in manager.card.paragraphs[0]
    assert "for Demo" not in engineer.card.paragraphs[0]


async def test_help_buttons_send_commands_back(chat: Transcript, directory: Directory) -> None:
    [answer] = await chat.say("help", sender=customer_contact(directory))
    assert answer.card is not None
    button = next(a for a in answer.card.actions if isinstance(a, SubmitAction))

    [pressed] = await chat.say("", sender=customer_contact(directory), value=dict(button.data))

    assert pressed.card is not None and pressed.card.title


async def test_german_clients_get_german_answers(chat: Transcript, directory: Directory) -> None:
    [answer] = await chat.say("hilfe", sender=customer_contact(directory), locale="de-AT")
    assert answer.card is not None
    assert answer.card.title == "Was ich für Sie tun kann"


async def test_whoami_shows_the_contract_that_applies(
    chat: Transcript, directory: Directory
) -> None:
    [answer] = await chat.say("  WhoAmI ", sender=customer_contact(directory))
    assert answer.card is not None
    facts = {fact.label: fact.value for fact in answer.card.facts}
    assert facts["Customer"] == directory.customers[0].name
    assert facts["Contract"] == "Cloud Collaboration Support Basic 3.0"
    assert facts["Reaction time"] == "4 hrs"  # as people say it, not the directory's "4h"
    assert facts["Service time"] == "Normal working hours (SNAZ)"  # its name, not its key
    assert facts["Channel"] == "Microsoft Teams"


async def test_words_the_bot_cannot_place_get_what_it_can_do_as_buttons(
    chat: Transcript, directory: Directory
) -> None:
    [answer] = await chat.say("frobnicate the pbx", sender=customer_contact(directory))
    assert "not sure what you mean" in answer.text and "frobnicate the pbx" in answer.text
    assert answer.card is not None
    buttons = [action.title for action in answer.card.actions]
    assert 2 <= len(buttons) <= 3 and "Report a fault" in buttons
    # the number in the text works like the button
    number = buttons.index("Report a fault") + 1
    [report] = await chat.say(str(number), sender=customer_contact(directory))
    assert report.card is not None and report.card.title == "Report a fault"


async def test_every_person_who_writes_is_remembered(
    chat: Transcript, directory: Directory, store: Store
) -> None:
    sender = customer_contact(directory)
    await chat.say("help", sender=sender)
    contact = await store.contacts.get(channel="teams", user_id=sender.user_id)
    assert contact is not None
    assert (contact.customer_key, contact.role) == (directory.customers[0].key, "contact")
    assert await store.contacts.get(channel="teams", user_id=stranger().user_id) is None
