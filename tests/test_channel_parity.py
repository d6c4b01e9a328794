"""Parity: the same transcript gives the same cards in Teams and in Webex.

Each channel is driven over real HTTP against its fake upstream (the Bot Connector for Teams,
the Webex API for Webex); what comes back is reduced to what a person sees on the card: its
title and facts. A fault report by card runs the same way on both channels too.
"""

from __future__ import annotations

import re
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

EMPTY: Mapping[str, str] = {}
HELP = "What I can do for you"
WHOAMI = "Who you are to me"


class Driver(Protocol):
    """Talks to the bot as one person in a 1:1 chat on one channel."""

    name: str

    async def say(self, text: str) -> Json:
        """Send a message; the card of the bot's answer."""

    async def press(self, card: Json, button: str, inputs: Mapping[str, str] = ...) -> Json:
        """Press a card's submit button (with what was typed into the card's fields); the card
        of the bot's answer."""

    async def next_text(self) -> str:
        """The text of the bot's next message (one that came without asking again)."""


class TeamsDriver:
    name = "teams"

    def __init__(self, bot: Bot, connector: FakeBotConnector, directory: Directory) -> None:
        self._bot, self._connector, self._directory = bot, connector, directory
        self._answered = 0

    async def say(self, text: str) -> Json:
        return await self._send(personal_message(self._directory, text, service_url=self._url))

    async def press(self, card: Json, button: str, inputs: Mapping[str, str] = EMPTY) -> Json:
        # Action.Submit in Teams: a message activity whose `value` is the button's data merged
        # with the card's inputs.
        data = {**_button(card, button)["data"], **inputs}
        return await self._send(
            personal_message(self._directory, "", service_url=self._url, value=data)
        )

    async def next_text(self) -> str:
        message = (await self._connector.wait_for_messages(self._answered + 1))[self._answered]
        self._answered += 1
        return str(message.body.get("text", ""))

    @property
    def _url(self) -> str:
        return self._connector.url

    async def _send(self, activity: dict[str, Any]) -> Json:
        count = len(self._connector.messages)
        assert (await self._bot.post("/api/messages", json=activity)).status == 200
        replies = await self._connector.wait_for_messages(count + 1)
        self._answered = count + 1
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
        self._answered = 0

    async def say(self, text: str) -> Json:
        message = self._webex.say(self._person, self._room, text)
        return await self._deliver("messages", self._webex.message_data(message))

    async def press(self, card: Json, button: str, inputs: Mapping[str, str] = EMPTY) -> Json:
        # Action.Submit in Webex: an attachmentActions webhook; the inputs carry the data.
        action = self._webex.submit(
            self._person, self._cards[id(card)], {**_button(card, button)["data"], **inputs}
        )
        return await self._deliver("attachmentActions", self._webex.action_data(action))

    async def next_text(self) -> str:
        message = (await self._webex.wait_for_sent(self._answered + 1))[self._answered]
        self._answered += 1
        return str(message.get("markdown") or message.get("text", ""))

    async def _deliver(self, resource: str, data: Json) -> Json:
        count = len(self._webex.sent)
        url = str(self._bot.make_url("/api/webex"))
        assert await self._webex.deliver(url, resource, data) == 200
        message = (await self._webex.wait_for_sent(count + 1))[count]
        self._answered = count + 1
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
        "Channel": {"teams": "Microsoft Teams", "webex": "Webex"}[driver.name],
        "Customer": customer.name,
        "Contract": f"{contract.name} {contract.version}",
        "Reaction time": "4 hrs",  # the directory's "4h" as people say it
        "Service time": directory.service_times[contract.service_time].name,
    }
    assert seen(help_card)[0] == HELP
    assert {"help", "whoami"} <= seen(help_card)[1].keys()
    assert (
        {"help", "whoami"} <= {b["title"] for b in help_card["actions"]} <= set(seen(help_card)[1])
    )
    assert seen(whoami_card) == (WHOAMI, expected_whoami)
    assert seen(pressed) == seen(whoami_card)


FAULT_FORM = {
    "product": "microsoft-calling",
    "priority": "P1",
    "description": "Nobody can make or receive calls since 08:00",
    "since": "",
    "affected": "All 120 users",
    "tested": "Signed out and in again",
    "phone": "+43 1 234 5678",
}
TICKET = re.compile(r"^CCS-\d{4}-0000\d\d$")
PROMISE = re.compile(r"Microsoft Teams Calling, P1\. We will react by \*\*.+\*\* \(4 hrs")


async def test_a_fault_report_by_card_works_the_same_on_every_channel(
    driver: Driver, directory: Directory
) -> None:
    form = await driver.say("report a fault")
    assert seen(form)[0] == "Report a fault"
    assert [e["id"] for e in form["body"] if "id" in e] == list(FAULT_FORM)

    follow_ups = await driver.press(form, "Continue", FAULT_FORM)
    assert [e["id"] for e in follow_ups["body"] if "id" in e] == ["call_id", "pstn_connectivity"]
    summary = await driver.press(follow_ups, "Continue", {"pstn_connectivity": "Operator Connect"})
    assert (
        seen(summary)[1]["Details"]
        == "Direct Routing, Operator Connect or Calling Plan?: Operator Connect"
    )
    confirmation = await driver.press(summary, "Send report")

    title, facts = seen(confirmation)
    assert TICKET.match(title), title
    assert facts == {
        "Product": "Microsoft Teams Calling",
        "Priority": "P1 – total outage: nobody can make or take calls",
    }
    assert PROMISE.search(confirmation["body"][1]["text"])
    assert "Ctrl+Alt+Shift+1" in await driver.next_text()  # the logfile coaching follows


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
