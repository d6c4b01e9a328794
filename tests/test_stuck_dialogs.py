"""No dialog gets stuck: an answer the bot cannot use is asked again, and a dialog that cannot
go on is ended with a note, never left to fail every later message until `cancel`."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.model import Outgoing, Sender
from storage.directory import Directory
from storage.repositories import DialogKey, Store
from tests.transcript import FIXED_NOW, Transcript, customer_contact, staff_member

TOO_LARGE_IDS = ("99999999999999999999", "2147483648")  # past SQLite's and PostgreSQL's integers


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=FIXED_NOW)
    return Transcript(directory, store, blob_root=tmp_path / "files")


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


def text(answers: list[Outgoing]) -> str:
    return "\n".join(answer.text for answer in answers)


async def to_the_since_question(bot: Transcript, clara: Sender) -> None:
    for answer in ("report a fault", "Teams", "2", "No dial tone on any Teams phone"):
        await bot.say(answer, sender=clara)


@pytest.mark.parametrize(
    ("since", "reason"),
    [
        ("0001-01-01 00:00", "more than a year ago"),
        ("0001-01-01T00:00+05:00", "more than a year ago"),
        ("2019-06-01 10:00", "more than a year ago"),
        ("9999-12-31T23:59-05:00", "lies in the future"),
    ],
)
async def test_a_start_time_that_cannot_be_used_is_asked_again(
    bot: Transcript, clara: Sender, since: str, reason: str
) -> None:
    await to_the_since_question(bot, clara)

    assert reason in text(await bot.say(since, sender=clara))
    assert "What I can do for you" in text(await bot.say("help", sender=clara))
    assert "Who or what is affected?" in text(await bot.say("today 08:15", sender=clara))
    for answer in ("All 40 users", "Restarted the client", "+43 1 234 5678", "skip"):
        await bot.say(answer, sender=clara)
    summary = text(await bot.say("Direct Routing", sender=clara))
    assert "Please check your report" in summary
    assert "07.01.2026 08:15" in summary


async def test_the_form_comes_back_with_the_reason_for_an_unusable_start_time(
    bot: Transcript, clara: Sender
) -> None:
    await bot.say("report a fault", sender=clara)
    form = {
        "action": "submit_fault_report",
        "product": "microsoft-calling",
        "priority": "P2",
        "description": "No dial tone on any Teams phone",
        "since": "0001-01-01 00:00",
        "affected": "all",
        "tested": "restart",
        "phone": "+43 1 234 5678",
    }

    again = text(await bot.say("", sender=clara, value=form))
    fixed = text(await bot.say("", sender=clara, value=form | {"since": "today 08:15"}))

    assert "more than a year ago" in again
    assert "Call ID" in fixed  # the next question: the form was taken


async def test_a_first_message_with_an_absurd_date_leaves_the_start_time_to_ask(
    bot: Transcript, clara: Sender
) -> None:
    answers = await bot.say(
        "Webex Calling is down since 01.01.0001 09:00 for everyone", sender=clara
    )

    assert any(answer.card is not None for answer in answers)  # the form, filled in
    assert "What I can do for you" in text(await bot.say("help", sender=clara))


async def test_a_dialog_whose_state_cannot_be_resumed_is_ended_with_a_note(
    bot: Transcript, clara: Sender, store: Store
) -> None:
    key = DialogKey(
        channel="teams", conversation_id=f"personal:{clara.user_id}", user_id=clara.user_id
    )
    await store.dialog_states.save(
        key, dialog="intake", state={"step": 17, "report": "broken"}, expected=0, now=FIXED_NOW
    )

    note = text(await bot.say("Teams", sender=clara))
    after = await bot.say("help", sender=clara)

    assert "could not continue our conversation" in note
    assert "report a fault" in note  # what they can do now
    assert (await store.dialog_states.load(key)).dialog is None
    assert after[0].card is not None and after[0].card.title == "What I can do for you"


async def test_the_note_is_in_the_persons_language(
    bot: Transcript, clara: Sender, store: Store
) -> None:
    await bot.say("language de", sender=clara)
    key = DialogKey(
        channel="teams", conversation_id=f"personal:{clara.user_id}", user_id=clara.user_id
    )
    snapshot = await store.dialog_states.load(key)
    await store.dialog_states.save(
        key,
        dialog="intake",
        state={"step": 17, "report": "broken"},
        expected=snapshot.version,
        now=FIXED_NOW,
    )

    note = text(await bot.say("Teams", sender=clara))

    assert "konnte ich unser Gespräch nicht fortsetzen" in note
    assert "störung melden" in note


@pytest.mark.parametrize("number", TOO_LARGE_IDS)
async def test_a_window_id_too_large_for_the_database_is_an_unknown_window(
    bot: Transcript, clara: Sender, number: str
) -> None:
    [answer] = await bot.say(f"windows confirm W{number}", sender=clara)
    [button] = await bot.say("", sender=clara, value={"action": "window_confirm", "window": number})

    assert answer.text == "I know no maintenance window of your organisation by that reference."
    assert "What I can do for you" in text(await bot.say("help", sender=clara))
    assert button.text


@pytest.mark.parametrize("number", TOO_LARGE_IDS)
async def test_a_duty_or_ticket_id_too_large_for_the_database_is_unknown(
    bot: Transcript, directory: Directory, number: str
) -> None:
    megan = staff_member(directory, "engineer")

    done = text(await bot.say(f"done D{number} checked everything", sender=megan))
    take = text(await bot.say(f"duties take D{number}", sender=megan))
    status = text(await bot.say(f"show {number}", sender=megan))

    assert done.startswith("Which duty?")
    assert take.startswith("Which duty?")
    assert status  # answered (a ticket number is compared as text, never as an integer)
