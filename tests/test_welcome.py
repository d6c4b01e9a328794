"""The welcome when the bot is added to a conversation: who it is for the person who added it,
what they can do, in their language, once per conversation. As transcripts through the router,
then over real HTTP: Teams (`conversationUpdate`, `installationUpdate`) against the fake Bot
Connector, Webex (a `memberships` webhook) against the fake Webex API."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.model import Channel, ConversationRef, Incoming, Outgoing, Sender, outgoing_from_json
from bot.app import DISPATCHER, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.models import OutboxRow
from storage.repositories import Store
from tests.activities import BOT_ID, BOT_NAME, personal_message
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector
from tests.serving import Bot
from tests.transcript import (
    Transcript,
    customer_contact,
    staff_member,
    stranger,
)

_events = itertools.count(1)


@pytest.fixture
def bot(directory: Directory, store: Store) -> Transcript:
    return Transcript(directory, store)


def joined(sender: Sender, *, conversation: str = "a:1", locale: str = "en-US") -> Incoming:
    """The bot was added to `conversation` by `sender`."""
    return Incoming(
        channel=Channel.TEAMS,
        event_id=f"joined-{next(_events)}",
        conversation=ConversationRef(Channel.TEAMS, conversation),
        sender=sender,
        locale=locale,
        joined=True,
    )


async def welcomes(store: Store) -> list[Outgoing]:
    """The welcomes queued so far, oldest first."""
    async with store.database.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))).all()
    return [
        outgoing_from_json(row.payload["answers"][0])
        for row in rows
        if row.dedupe_key.startswith("welcome:")
    ]


async def test_a_contact_learns_who_the_bot_is_for_them_and_what_to_do(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    answers = await bot.router.handle(joined(customer_contact(directory)))

    [welcome] = await welcomes(store)
    assert answers == []  # it goes out through the outbox, once
    assert welcome.card is not None
    assert welcome.card.title == "Welcome, Clara Contact"
    assert "**customer contact** of **Demo Customer GmbH**" in welcome.text
    assert "Example Telephony Services" in welcome.text
    offered = [fact.label for fact in welcome.card.facts]
    assert offered[:2] == ["report a fault", "my tickets"]
    assert 3 <= len(offered) <= 5
    buttons = {action.title: action.data for action in welcome.card.actions}  # type: ignore[union-attr]
    assert buttons["report a fault"] == {"command": "report a fault"}


@pytest.mark.parametrize(
    ("role", "first", "intro"),
    [
        ("engineer", "queue", "**engineer**"),
        ("manager", "status", "**manager, engineer**"),
    ],
)
async def test_staff_are_offered_their_own_work(
    bot: Transcript, directory: Directory, store: Store, role: str, first: str, intro: str
) -> None:
    await bot.router.handle(joined(staff_member(directory, role)))

    [welcome] = await welcomes(store)
    assert welcome.card is not None
    assert welcome.card.facts[0].label == first
    assert 3 <= len(welcome.card.facts) <= 5
    assert intro in welcome.text
    assert "report a fault" not in [fact.label for fact in welcome.card.facts]


async def test_the_welcome_speaks_the_persons_language(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    await bot.router.handle(joined(customer_contact(directory), locale="de-AT"))

    [welcome] = await welcomes(store)
    assert welcome.card is not None
    assert welcome.card.title == "Willkommen, Clara Contact"
    assert "**Kundenkontakt** von **Demo Customer GmbH**" in welcome.text


async def test_someone_unknown_hears_they_are_not_registered(bot: Transcript, store: Store) -> None:
    await bot.router.handle(joined(stranger()))

    [welcome] = await welcomes(store)
    assert "I don't know you yet" in welcome.text
    assert welcome.card is None


async def test_a_conversation_is_welcomed_once_whoever_adds_the_bot_again(
    bot: Transcript, directory: Directory, store: Store
) -> None:
    await bot.router.handle(joined(customer_contact(directory)))
    await bot.router.handle(joined(customer_contact(directory)))  # the second install event
    await bot.router.handle(joined(staff_member(directory, "engineer")))  # a reinstall
    await bot.router.handle(joined(customer_contact(directory), conversation="a:2"))

    assert [w.conversation.conversation_id for w in await welcomes(store)] == ["a:1", "a:2"]


# --- Teams over HTTP -------------------------------------------------------------------------


def added(directory: Directory, connector: FakeBotConnector, kind: str, **extra: Any) -> Json:
    """A Teams install event in Clara's personal chat."""
    activity = personal_message(directory, "", service_url=connector.url)
    activity.pop("text")
    activity["type"] = kind
    activity.update(extra)
    return activity


async def test_teams_installation_welcomes_once(
    aiohttp_client: Any, settings: Settings, directory: Directory, connector: FakeBotConnector
) -> None:
    bot: Bot = await aiohttp_client(create_app(settings, directory=directory))
    bot_member = {"id": BOT_ID, "name": BOT_NAME}
    install = added(directory, connector, "installationUpdate", action="add")
    update = added(
        directory,
        connector,
        "conversationUpdate",
        membersAdded=[bot_member, {"id": "29:clara"}],
    )

    assert (await bot.post("/api/messages", json=install)).status == 200
    assert (await bot.post("/api/messages", json=update)).status == 200  # Teams sends both
    [welcome] = await connector.wait_for_messages(1)
    await bot.app[TASKS].idle()
    await bot.app[DISPATCHER].deliver_due()
    assert len(connector.messages) == 1

    [card] = welcome.body["attachments"]
    assert card["content"]["body"][0]["text"] == "Welcome, Clara Contact"
    assert welcome.conversation_id == "a:personal-29:clara"
    assert not any(call.body.get("type") == "typing" for call in connector.calls)


async def test_teams_a_person_joining_is_no_reason_to_welcome(
    aiohttp_client: Any, settings: Settings, directory: Directory, connector: FakeBotConnector
) -> None:
    bot: Bot = await aiohttp_client(create_app(settings, directory=directory))
    someone = added(directory, connector, "conversationUpdate", membersAdded=[{"id": "29:x"}])
    removed = added(directory, connector, "installationUpdate", action="remove")

    assert (await bot.post("/api/messages", json=someone)).status == 200
    assert (await bot.post("/api/messages", json=removed)).status == 200

    await bot.app[TASKS].idle()
    await bot.app[DISPATCHER].deliver_due()
    assert connector.messages == []


# --- Webex over HTTP -------------------------------------------------------------------------


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


async def test_webex_a_new_space_with_the_bot_is_welcomed_once(
    aiohttp_client: Any, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    bot: Bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    space = webex.add_room("group", "Support team")
    url = str(bot.make_url("/api/webex"))

    added = webex.membership_data(space)
    assert await webex.deliver(url, "memberships", added, actor_id=megan["id"]) == 200
    [welcome] = await webex.wait_for_sent(1)

    assert welcome["roomId"] == space["id"]
    assert "parentId" not in welcome
    assert welcome["markdown"].startswith("**Welcome, Megan Bowen**")
    assert "**engineer**" in welcome["markdown"]
    assert welcome["attachments"][0]["content"]["body"][0]["text"] == "Welcome, Megan Bowen"

    # the bot removed and added again: a new membership in the same space
    again = webex.membership_data(space)
    assert await webex.deliver(url, "memberships", again, actor_id=megan["id"]) == 200
    await bot.app[TASKS].idle()
    await bot.app[DISPATCHER].deliver_due()
    assert len(webex.sent) == 1
