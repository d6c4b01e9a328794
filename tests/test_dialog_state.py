"""Dialog state: persisted per person and conversation, resumed after a restart, never lost to
a concurrent writer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.model import Sender
from dialogs.base import DialogStep
from dialogs.commands import EVERYONE, Command, CommandContext
from dialogs.context import Turn
from storage.directory import Directory
from storage.repositories import DialogKey, Store
from tests.transcript import FIXED_NOW, Transcript, customer_contact


class SurveyDialog:
    """Two questions, then a summary: the smallest dialog that needs remembered state."""

    name = "survey"

    async def start(self, turn: Turn, context: CommandContext, args: str) -> DialogStep:
        return DialogStep([turn.reply("Which product?")], {"step": "product"})

    async def resume(
        self, turn: Turn, context: CommandContext, state: dict[str, Any]
    ) -> DialogStep:
        answer = turn.incoming.text
        if state["step"] == "product":
            return DialogStep(
                [turn.reply("Which priority?")], {"step": "priority", "product": answer}
            )
        return DialogStep([turn.reply(f"Thanks: {state['product']} / {answer}")], None)


SURVEY = Command("survey", "show this overview", EVERYONE, dialog=SurveyDialog())


@pytest.fixture
async def store_with_customers(store: Store, directory: Directory) -> Store:
    await store.customers.sync(customers=directory.customers, now=FIXED_NOW)
    return store


def personal_key(sender: Sender) -> DialogKey:
    conversation = f"personal:{sender.user_id}"
    return DialogKey(channel="teams", conversation_id=conversation, user_id=sender.user_id)


def chat(directory: Directory, store: Store) -> Transcript:
    return Transcript(directory, store, extra=[SURVEY])


async def test_a_dialog_remembers_earlier_answers(
    directory: Directory, store_with_customers: Store
) -> None:
    bot, clara = chat(directory, store_with_customers), customer_contact(directory)

    assert [a.text for a in await bot.say("survey", sender=clara)] == ["Which product?"]
    assert [a.text for a in await bot.say("Webex Calling", sender=clara)] == ["Which priority?"]
    assert [a.text for a in await bot.say("P2", sender=clara)] == ["Thanks: Webex Calling / P2"]
    # Finished: the next message is a command again.
    [after] = await bot.say("help", sender=clara)
    assert after.card is not None


async def test_a_restart_in_the_middle_resumes_where_the_person_was(
    directory: Directory, store_with_customers: Store
) -> None:
    clara = customer_contact(directory)
    await chat(directory, store_with_customers).say("survey", sender=clara)
    await chat(directory, store_with_customers).say("Luware Recording", sender=clara)

    after_restart = chat(directory, store_with_customers)
    [answer] = await after_restart.say("P1", sender=clara)

    assert answer.text == "Thanks: Luware Recording / P1"


async def test_cancel_ends_the_dialog_and_keeps_nothing(
    directory: Directory, store_with_customers: Store
) -> None:
    bot, clara = chat(directory, store_with_customers), customer_contact(directory)
    await bot.say("survey", sender=clara)

    [answer] = await bot.say("Abbrechen", sender=clara)

    assert "Cancelled" in answer.text
    state = await store_with_customers.dialog_states.load(
        DialogKey(
            channel="teams", conversation_id=f"personal:{clara.user_id}", user_id=clara.user_id
        )
    )
    assert (state.dialog, state.state) == (None, {})


async def test_people_in_one_group_chat_each_have_their_own_dialog(
    directory: Directory, store_with_customers: Store
) -> None:
    bot = chat(directory, store_with_customers)
    clara, carl = customer_contact(directory), customer_contact(directory, "Carl Contact")

    await bot.say("survey", sender=clara, kind="group", conversation_id="19:group")
    [carl_answer] = await bot.say("help", sender=carl, kind="group", conversation_id="19:group")
    [clara_answer] = await bot.say("Teams", sender=clara, kind="group", conversation_id="19:group")

    assert carl_answer.card is not None  # Carl is not inside Clara's survey
    assert clara_answer.text == "Which priority?"


async def test_two_messages_at_once_are_applied_one_after_the_other(
    directory: Directory, store_with_customers: Store
) -> None:
    # Two replicas handling two quick messages of the same person: both read version 1; the
    # second writer must not overwrite the first but re-run its step on the new state.
    clara = customer_contact(directory)
    await chat(directory, store_with_customers).say("survey", sender=clara)
    first, second = chat(directory, store_with_customers), chat(directory, store_with_customers)

    answers = await asyncio.gather(
        first.say("Webex Calling", sender=clara), second.say("P3", sender=clara)
    )

    texts = {answer.text for batch in answers for answer in batch}
    assert texts in (
        {"Which priority?", "Thanks: Webex Calling / P3"},
        {"Which priority?", "Thanks: P3 / Webex Calling"},
    )
    state = await store_with_customers.dialog_states.load(
        DialogKey(
            channel="teams", conversation_id=f"personal:{clara.user_id}", user_id=clara.user_id
        )
    )
    assert state.dialog is None
    assert state.version == 3
