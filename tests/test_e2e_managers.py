"""Customers' and managers' commands end to end: in the Microsoft 365 Agents Playground (the
customer in the personal chat, the manager in the team channel) and through the fake Webex API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import TASKS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import Directory
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.playground import DEFAULT_BINARY, BotEvent, Playground
from tests.test_e2e_playground import card_title, report_by_card
from tests.transcript import GOOD_FORM

MANAGER = "user-id-2"  # Adele Vance in the example directory
ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


def everything(event: BotEvent) -> str:
    return json.dumps(event.adaptive_cards(), ensure_ascii=False) + (event.text or "")


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    settings = Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        endpoint = str(server.make_url("/api/messages"))
        async with Playground.start(bot_endpoint=endpoint, startup_timeout=60) as pg:
            yield pg
            await server.app[TASKS].idle()
    finally:
        await server.close()


@pytest.mark.e2e
@pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools")
async def test_customer_and_manager_commands_in_the_playground(playground: Playground) -> None:
    pg, personal = playground, playground.personal_chat_id
    number = card_title(await report_by_card(pg))
    await pg.next_bot_activity(personal)  # coaching

    await pg.send(personal, f"status {number}")
    assert "an engineer to pick it up" in everything(await pg.next_bot_activity(personal))
    await pg.send(personal, "my tickets")
    assert number in everything(await pg.next_bot_activity(personal))

    channel = pg.channel_ids[1]  # Announcements: the managers' channel of the example
    thread = await pg.send(channel, "status", mention_bot=True)  # Alex opens a thread …
    await _answer(pg, thread.conversation_id)  # … and sees his own tickets
    answers = {}
    for command in ("status", f"why {number}", "breaches this month", "report", "digest on"):
        await pg.send(thread.conversation_id, command, user_id=MANAGER, mention_bot=True)
        answers[command] = everything(await _answer(pg, thread.conversation_id))
    assert '"Open"' in answers["status"] and number in answers["status"]  # tickets, then counts
    assert "counted" in answers[f"why {number}"] or "reported" in answers[f"why {number}"]
    assert "No breaches" in answers["breaches this month"]
    assert "SLA report" in answers["report"]
    assert "Digest on" in answers["digest on"]


async def _answer(pg: Playground, conversation: str) -> BotEvent:
    """The bot's next answer in a thread, past the Playground's echo of the question."""
    while True:
        event = await pg.next_bot_activity(conversation)
        if event.adaptive_cards() or event.text:
            return event


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


async def test_customer_and_manager_commands_through_webex(
    webex: FakeWebex, aiohttp_client: ClientFactory, settings: Settings, directory: Directory
) -> None:
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    url = str(bot.make_url("/api/webex"))
    clara = webex.add_person(
        "Clara Contact",
        "clara@somewhere.example",
        org_id=directory.customers[0].webex_org_ids[0],
    )
    adele = webex.add_person("Adele Vance", "adelev@example.com")
    clara_room, adele_room = webex.add_room("direct"), webex.add_room("direct")

    async def say(person: Json, room: Json, text: str) -> Json:
        count = len(webex.sent)
        message = webex.say(person, room, text)
        assert await webex.deliver(url, "messages", webex.message_data(message)) == 200
        return (await webex.wait_for_sent(count + 1))[count]

    async def press(person: Json, card: Json, inputs: Json) -> Json:
        count = len(webex.sent)
        action = webex.submit(person, card, inputs)
        assert await webex.deliver(url, "attachmentActions", webex.action_data(action)) == 200
        return (await webex.wait_for_sent(count + 1))[count]

    form = await say(clara, clara_room, "report a fault")
    follow_ups = await press(clara, form, {**GOOD_FORM, "since": ""})
    summary = await press(clara, follow_ups, {"action": "skip_followups"})
    confirmation = await press(clara, summary, {"action": "confirm_report"})
    number = confirmation["attachments"][0]["content"]["body"][0]["text"]
    await webex.wait_until(lambda: "add logs" in json.dumps(webex.sent))  # the coaching

    assert "an engineer to pick it up" in json.dumps(
        await say(clara, clara_room, f"status {number}")
    )
    assert number in json.dumps(await say(clara, clara_room, "my tickets"))
    status = json.dumps(await say(adele, adele_room, "status"))
    assert '"Open"' in status and number in status
    assert "counted" in json.dumps(await say(adele, adele_room, f"why {number}"))
    assert "No breaches" in json.dumps(await say(adele, adele_room, "breaches"))
    assert "SLA report" in json.dumps(await say(adele, adele_room, "report"))
    assert "Digest on" in json.dumps(await say(adele, adele_room, "digest on"))
