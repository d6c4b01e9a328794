"""Parity: the same transcript gives the same cards in Teams and in Webex.

Each channel is driven over real HTTP against its fake upstream (the Bot Connector for Teams,
the Webex API for Webex); what comes back is reduced to what a person sees on the card: its
title and facts. The intake dialog (issue 4) joins this transcript once it exists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.settings import Settings
from storage.directory import Directory
from tests.activities import personal_message
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
Bot = TestClient[web.Request, web.Application]
Seen = tuple[str, dict[str, str]]  # a card's title and its facts

HELP = "What I can do for you"
WHOAMI = "Who you are to me"


class Driver(Protocol):
    """Talks to the bot as one person in a 1:1 chat on one channel."""

    name: str

    async def say(self, text: str) -> Json:
        """Send a message; the card of the bot's answer."""

    async def press(self, card: Json, button: str) -> Json:
        """Press a card's submit button; the card of the bot's answer."""


class TeamsDriver:
    name = "teams"

    def __init__(self, bot: Bot, connector: FakeBotConnector, directory: Directory) -> None:
        self._bot, self._connector, self._directory = bot, connector, directory

    async def say(self, text: str) -> Json:
        return await self._send(personal_message(self._directory, text, service_url=self._url))

    async def press(self, card: Json, button: str) -> Json:
        # Action.Submit in Teams: a message activity whose `value` is the button's data.
        data = _button(card, button)["data"]
        return await self._send(
            personal_message(self._directory, "", service_url=self._url, value=data)
        )

    @property
    def _url(self) -> str:
        return self._connector.url

    async def _send(self, activity: dict[str, Any]) -> Json:
        count = len(self._connector.messages)
        assert (await self._bot.post("/api/messages", json=activity)).status == 200
        replies = await self._connector.wait_for_messages(count + 1)
        content: Json = replies[count].body["attachments"][0]["content"]
        return content


class WebexDriver:
    name = "webex"

    def __init__(self, bot: Bot, webex: FakeWebex, directory: Directory) -> None:
        self._bot, self._webex = bot, webex
        org = directory.customers[0].webex_org_ids[0]
        self._person = webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)
        self._room = webex.add_room("direct")
        self._cards: dict[int, Json] = {}

    async def say(self, text: str) -> Json:
        message = self._webex.say(self._person, self._room, text)
        return await self._deliver("messages", self._webex.message_data(message))

    async def press(self, card: Json, button: str) -> Json:
        # Action.Submit in Webex: an attachmentActions webhook; the inputs carry the data.
        action = self._webex.submit(
            self._person, self._cards[id(card)], _button(card, button)["data"]
        )
        return await self._deliver("attachmentActions", self._webex.action_data(action))

    async def _deliver(self, resource: str, data: Json) -> Json:
        count = len(self._webex.sent)
        url = str(self._bot.make_url("/api/webex"))
        assert await self._webex.deliver(url, resource, data) == 200
        message = (await self._webex.wait_for_sent(count + 1))[count]
        content: Json = message["attachments"][0]["content"]
        self._cards[id(content)] = message
        return content


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def bot(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> Bot:
    """One bot with both channels configured."""
    return await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))


@pytest.fixture(params=["teams", "webex"])
def driver(
    request: pytest.FixtureRequest,
    bot: Bot,
    connector: FakeBotConnector,
    webex: FakeWebex,
    directory: Directory,
) -> Driver:
    """The bot, driven through one of its channels."""
    if request.param == "teams":
        return TeamsDriver(bot, connector, directory)
    return WebexDriver(bot, webex, directory)


async def test_help_whoami_and_a_card_button_look_the_same_on_every_channel(
    driver: Driver, directory: Directory
) -> None:
    help_card = await driver.say("help")
    whoami_card = await driver.say("whoami")
    pressed = await driver.press(help_card, "whoami")

    customer = directory.customers[0]
    contract = directory.contracts[customer.contract]
    expected_whoami = {
        "Name": "Clara Contact",
        "Role": "customer contact",
        "Channel": driver.name,
        "Customer": customer.name,
        "Contract": f"{contract.name} {contract.version}",
        "Reaction time": contract.reaction,
        "Service time": contract.service_time,
    }
    assert seen(help_card)[0] == HELP
    assert {"help", "whoami"} <= seen(help_card)[1].keys()
    assert (
        {"help", "whoami"} <= {b["title"] for b in help_card["actions"]} <= set(seen(help_card)[1])
    )
    assert seen(whoami_card) == (WHOAMI, expected_whoami)
    assert seen(pressed) == seen(whoami_card)


def seen(card: Json) -> Seen:
    """What a person reads on a card: the title and the facts."""
    title = card["body"][0]["text"]
    facts: dict[str, str] = {}
    for element in card["body"]:
        if element["type"] == "FactSet":
            facts |= {fact["title"]: fact["value"] for fact in element["facts"]}
    return title, facts


def _button(card: Json, title: str) -> Mapping[str, Any]:
    button: Mapping[str, Any] = next(a for a in card["actions"] if a["title"] == title)
    return button
