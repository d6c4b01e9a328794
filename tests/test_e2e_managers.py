"""Customers' and managers' commands end to end: in the Microsoft 365 Agents Playground (the
customer in the personal chat, in English and then in German; the manager in the team channel)
and through the fake Webex API. The contact's status tells times ("reaction due by …",
"answered at … by …"), the resolution message carries the summary and a Reopen button that
reopens; the manager's status lists tickets, the report and billing answer."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import TASKS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import ChannelTarget, Directory, WebexSpace
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.playground import DEFAULT_BINARY, BotEvent, Playground
from tests.test_e2e_engineers import _is_alert_of
from tests.test_e2e_playground import card_title, report_by_card
from tests.test_webex_engineers import assert_readable
from tests.transcript import GOOD_FORM

ENGINEER = "user-id-1"  # Megan Bowen in the example directory
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

    # In German: the status tells when the reaction is due, then who answered when.
    await pg.send(personal, "language de")
    assert "Deutsch" in everything(await pg.next_bot_activity(personal))
    await pg.send(personal, f"status {number}")
    assert re.search(
        r"Reaktion fällig bis [^\"]*\d\d:\d\d", everything(await pg.next_bot_activity(personal))
    )
    alert = await pg.wait_for(lambda e: _is_alert_of(e, number), timeout=15)
    assert alert.message_id is not None and alert.post_conversation_id is not None
    engineers = alert.post_conversation_id
    await pg.submit(engineers, alert.message_id, {"command": f"ack {number}"}, user_id=ENGINEER)
    assert "Megan Bowen" in everything(await pg.next_bot_activity(personal))
    await pg.send(personal, f"status {number}")
    assert re.search(
        r"beantwortet \d\d:\d\d von Megan Bowen", everything(await pg.next_bot_activity(personal))
    )

    await pg.send(engineers, f"effort {number} 90 min", user_id=ENGINEER, mention_bot=True)
    await pg.wait_for(lambda e: f"Logged 1 hr 30 mins on {number}" in everything(e), timeout=15)

    # Resolved with a summary: the contact reads it and may reopen by the button.
    resolution = {
        "command": f"resolve {number}",
        "resolution": "Der SIP-Trunk wurde neu gestartet.",
    }
    await pg.submit(engineers, alert.message_id, resolution, user_id=ENGINEER)
    resolved = await pg.next_bot_activity(personal)
    assert "Der SIP-Trunk wurde neu gestartet." in everything(resolved)
    assert f"wieder öffnen {number}" in everything(resolved)  # the German words, not `reopen`
    [reopen] = [
        a["data"] for a in resolved.adaptive_cards()[0]["actions"] if a["title"] == "Wieder öffnen"
    ]
    assert resolved.message_id is not None
    await pg.submit(personal, resolved.message_id, reopen)
    assert f"Ich habe {number} wieder geöffnet" in everything(await pg.next_bot_activity(personal))
    await pg.wait_for(
        lambda e: e.in_conversation(engineers) and f"reopened {number}" in everything(e), timeout=15
    )

    channel = pg.channel_ids[1]  # Announcements: the managers' channel of the example
    thread = await pg.send(channel, "status", mention_bot=True)  # Alex opens a thread …
    await _answer(pg, thread.conversation_id)  # … and sees his own tickets
    answers = {}
    commands = ("status", f"why {number}", "breaches this month", "report", "billing", "digest on")
    for command in commands:
        await pg.send(thread.conversation_id, command, user_id=MANAGER, mention_bot=True)
        answers[command] = everything(await _answer(pg, thread.conversation_id))
    assert '"Open"' in answers["status"] and number in answers["status"]  # tickets, then counts
    assert "counted" in answers[f"why {number}"] or "reported" in answers[f"why {number}"]
    assert "No breaches" in answers["breaches this month"]
    assert "SLA report" in answers["report"]
    assert "Billable effort" in answers["billing"] and "Demo Customer GmbH" in answers["billing"]
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
    engineers_room = webex.add_room("group", "Engineers")
    channels = {
        **directory.channels,
        "engineers": ChannelTarget(webex=WebexSpace(room_id=engineers_room["id"])),
    }
    directory = directory.model_copy(update={"channels": channels})
    bot = await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))
    url = str(bot.make_url("/api/webex"))
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    clara = webex.add_person(
        "Clara Contact",
        "clara@somewhere.example",
        org_id=directory.customers[0].webex_org_ids[0],
    )
    adele = webex.add_person("Adele Vance", "adelev@example.com")
    clara_room, adele_room = webex.add_room("direct"), webex.add_room("direct")

    async def answer_in(room: Json, count: int) -> Json:
        """The bot's first message to `room` after the first `count` it sent."""
        await webex.wait_until(lambda: any(m["roomId"] == room["id"] for m in webex.sent[count:]))
        return next(m for m in webex.sent[count:] if m["roomId"] == room["id"])

    async def say(person: Json, room: Json, text: str) -> Json:
        count = len(webex.sent)
        message = webex.say(person, room, text)
        assert await webex.deliver(url, "messages", webex.message_data(message)) == 200
        return await answer_in(room, count)

    async def press(person: Json, card: Json, inputs: Json) -> Json:
        count = len(webex.sent)
        action = webex.submit(person, card, inputs)
        assert await webex.deliver(url, "attachmentActions", webex.action_data(action)) == 200
        return await answer_in(webex.rooms[card["roomId"]], count)

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

    # In German: when the reaction is due, then who answered when; the resolution and Reopen.
    assert "Deutsch" in json.dumps(await say(clara, clara_room, "Deutsch bitte"))
    due = json.dumps(await say(clara, clara_room, f"status {number}"), ensure_ascii=False)
    assert re.search(r"Reaktion fällig bis [^\"]*\d\d:\d\d", due), due

    def is_alert(message: Json) -> bool:
        return message["roomId"] == engineers_room["id"] and bool(message.get("attachments"))

    await webex.wait_until(lambda: any(is_alert(m) for m in webex.sent))
    alert = next(m for m in webex.sent if is_alert(m))  # the card, in the thread of its summary

    async def engineer_presses(inputs: Json, told: str) -> Json:
        """Megan presses a button on the alert; what the contact is told (containing `told`)."""
        count = len(webex.sent)
        action = webex.submit(megan, alert, inputs)
        assert await webex.deliver(url, "attachmentActions", webex.action_data(action)) == 200
        await webex.wait_until(lambda: any(to_clara(m, told) for m in webex.sent[count:]))
        return next(m for m in webex.sent[count:] if to_clara(m, told))

    def to_clara(message: Json, told: str) -> bool:
        return message["roomId"] == clara_room["id"] and told in json.dumps(message)

    await engineer_presses({"command": f"ack {number}"}, "Megan Bowen")
    answered = json.dumps(await say(clara, clara_room, f"status {number}"), ensure_ascii=False)
    assert re.search(r"beantwortet \d\d:\d\d von Megan Bowen", answered), answered
    resolution = {"command": f"resolve {number}", "resolution": "Trunk neu gestartet."}
    resolved = await engineer_presses(resolution, "Trunk neu gestartet.")
    assert f"wieder öffnen {number}" in resolved["markdown"]
    [reopen] = [
        a["data"]
        for a in resolved["attachments"][0]["content"]["actions"]
        if a["title"] == "Wieder öffnen"
    ]
    assert "wieder geöffnet" in json.dumps(await press(clara, resolved, reopen), ensure_ascii=False)
    for message in webex.sent:
        assert_readable(message)
    status = json.dumps(await say(adele, adele_room, "status"))
    assert '"Open"' in status and number in status
    assert "counted" in json.dumps(await say(adele, adele_room, f"why {number}"))
    assert "No breaches" in json.dumps(await say(adele, adele_room, "breaches"))
    assert "SLA report" in json.dumps(await say(adele, adele_room, "report"))
    assert "Billable effort" in json.dumps(await say(adele, adele_room, "billing"))
    assert "Digest on" in json.dumps(await say(adele, adele_room, "digest on"))
