"""The engineers' flow through the fake Webex API: a report in the contact's 1:1 space appears
as a card in the engineers' space; an engineer acknowledges it there; the contact gets the
notice; a reply reaches the contact; the contact's answer reaches the ticket's thread."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.settings import Settings
from storage.directory import ChannelTarget, Directory, WebexSpace
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.transcript import GOOD_FORM

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


class Space:
    """People writing in the fake Webex and what the bot sends back."""

    def __init__(self, webex: FakeWebex, url: str) -> None:
        self.webex, self.url = webex, url

    async def say(self, person: Json, room: Json, text: str, **options: Any) -> None:
        message = self.webex.say(person, room, text, **options)
        assert (
            await self.webex.deliver(self.url, "messages", self.webex.message_data(message)) == 200
        )

    async def press(self, person: Json, card_message: Json, inputs: Json) -> None:
        action = self.webex.submit(person, card_message, inputs)
        assert (
            await self.webex.deliver(self.url, "attachmentActions", self.webex.action_data(action))
            == 200
        )

    async def sent_after(self, count: int, test: Callable[[Json], bool]) -> Json:
        """The first message the bot sent after the first `count` that passes `test`."""
        await self.webex.wait_until(lambda: any(map(test, self.webex.sent[count:])), timeout=15)
        return next(m for m in self.webex.sent[count:] if test(m))

    async def sent(self, test: Callable[[Json], bool]) -> Json:
        """The first message the bot sent that passes `test` (waiting for it)."""
        await self.webex.wait_until(lambda: any(test(m) for m in self.webex.sent), timeout=15)
        return next(m for m in self.webex.sent if test(m))


def title(message: Json) -> str:
    attachments = message.get("attachments") or []
    return str(attachments[0]["content"]["body"][0]["text"]) if attachments else ""


async def test_engineers_work_a_ticket_from_their_webex_space(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    engineers_room = webex.add_room("group", "Engineers")
    channels = {
        **directory.channels,
        "engineers": ChannelTarget(webex=WebexSpace(room_id=engineers_room["id"])),
    }
    bot = await aiohttp_client(
        create_app(
            bot_settings(settings, webex),
            directory=directory.model_copy(update={"channels": channels}),
        )
    )
    space = Space(webex, str(bot.make_url("/api/webex")))
    clara = webex.add_person(
        "Clara Contact", "clara@somewhere.example", org_id=directory.customers[0].webex_org_ids[0]
    )
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    direct = webex.add_room("direct")

    await space.say(clara, direct, "report a fault")
    form = await space.sent(lambda m: title(m) == "Report a fault")
    await space.press(clara, form, {**GOOD_FORM, "since": ""})  # the app runs on the real clock
    follow_ups = await space.sent(lambda m: "details for the engineer" in title(m))
    await space.press(clara, follow_ups, {"action": "skip_followups"})
    summary = await space.sent(lambda m: title(m) == "Please check your report")
    await space.press(clara, summary, {"action": "confirm_report"})
    # the contact's confirmation (the engineers' alert, posted at the same time, starts alike)
    confirmation = await space.sent(
        lambda m: m["roomId"] == direct["id"] and title(m).startswith("CCS-")
    )
    number = title(confirmation).split()[0]

    alert = await space.sent(
        lambda m: m["roomId"] == engineers_room["id"] and title(m).startswith(number)
    )
    root = webex.messages[alert["parentId"]]  # a thread of its own, under its summary
    assert "parentId" not in root
    assert root["markdown"].startswith(f"**{number} · Fault · ")
    assert "Status: New – not acknowledged" in root["markdown"]

    await space.press(megan, alert, {"command": f"ack {number}"})
    await space.sent(lambda m: f"{number} acknowledged by Megan Bowen" in m.get("markdown", ""))
    change = await space.sent(
        lambda m: m.get("parentId") == root["id"] and "→ In progress" in m.get("markdown", "")
    )
    assert change["markdown"].startswith("Status: New – not acknowledged → In progress")
    assert "attachments" not in change  # the change, not another card
    await webex.wait_until(lambda: "In progress" in webex.messages[root["id"]]["markdown"])
    assert "Owner: Megan Bowen" in webex.messages[root["id"]]["markdown"]
    await space.sent(
        lambda m: (
            m["roomId"] == direct["id"]
            and m.get("markdown") == f"Megan Bowen is working on your ticket {number}."
        )
    )

    # In the alert's thread the number may be left out.
    await space.say(
        megan,
        engineers_room,
        "reply Please restart the phone",
        mention_bot=True,
        parent_id=root["id"],
    )
    await space.sent(
        lambda m: (
            m["roomId"] == direct["id"]
            and m.get("markdown")
            == f"**Megan Bowen** wrote on {number}:\n\n> Please restart the phone"
        )
    )

    await space.say(clara, direct, "Restarted it, calls still drop")
    relayed = await space.sent(
        lambda m: (
            "calls still drop" in m.get("markdown", "") and m["roomId"] == engineers_room["id"]
        )
    )
    assert relayed.get("parentId") == root["id"]

    # The contact's file reaches the thread with a link that downloads it.
    trace = webex.add_file("sip-trace.log", b"INVITE failed 503\n" * 40)
    await space.say(clara, direct, "", files=(trace,))
    notice = await space.sent(
        lambda m: m.get("parentId") == root["id"] and "sip-trace.log" in m.get("markdown", "")
    )
    assert "/files/logfiles/" in notice["markdown"]

    await space.sent(lambda m: m["roomId"] == direct["id"] and "Received" in m.get("markdown", ""))

    # Megan's commands in the thread, answered there; in German once she asks for it.
    expected: dict[str, Callable[[Json], bool]] = {
        "show": lambda m: title(m).startswith(number) and "sip-trace.log" in json.dumps(m),
        "queue": lambda m: title(m) == "Open tickets",
        "mine": lambda m: title(m) == "Your tickets",
        "effort 90 min": lambda m: "Logged" in m.get("markdown", ""),
        "why": lambda m: f"Why {number}" in m.get("markdown", ""),
        "language de": lambda m: "Deutsch" in m.get("markdown", ""),
        "warteschlange": lambda m: title(m) == "Offene Tickets",
        "aufwand 1,5h": lambda m: "erfasst" in m.get("markdown", ""),
    }
    answers: dict[str, Json] = {}
    for command, answered in expected.items():
        count = len(webex.sent)
        await space.say(megan, engineers_room, command, mention_bot=True, parent_id=root["id"])
        answers[command] = await space.sent_after(count, answered)
        assert answers[command].get("parentId") == root["id"]
    everything = {command: json.dumps(m, ensure_ascii=False) for command, m in answers.items()}
    assert "Megan Bowen" in everything["show"] and "/files/logfiles/" in everything["show"]
    assert '"Acknowledge"' not in everything["show"]  # done: no second Acknowledge
    for listing in (everything["queue"], everything["mine"], everything["warteschlange"]):
        assert number in listing and "Demo Customer GmbH" in listing
        assert "Webex Calling" in listing and "webex-calling" not in listing
    assert f"Logged 1 hr 30 mins on {number}" in answers["effort 90 min"]["markdown"]
    assert "1 Std. 30 Min. auf " + number in answers["aufwand 1,5h"]["markdown"]
    assert "first response" in answers["why"]["markdown"]
    assert "counted 0 mins" not in answers["why"]["markdown"]  # no empty stretch
    for message in answers.values():
        assert_readable(message)

    await space.press(
        megan, alert, {"command": f"resolve {number}", "resolution": "The trunk was restarted."}
    )
    resolved = await space.sent(
        lambda m: m["roomId"] == direct["id"] and "The trunk was restarted." in json.dumps(m)
    )
    assert "Reopen" in json.dumps(resolved)


def assert_readable(message: Json) -> None:
    """What Webex shows renders as meant: no escaped markup, doubled stars, raw ISO dates or
    empty fact sets."""
    content = {key: message.get(key) for key in ("markdown", "text", "attachments")}
    shown = json.dumps(content, ensure_ascii=False)
    assert "&lt;" not in shown and "&gt;" not in shown and "&amp;" not in shown, shown
    assert "****" not in shown, shown
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", shown), shown
    for attachment in message.get("attachments") or []:
        for block in _blocks(attachment["content"]):
            if block.get("type") == "FactSet":
                assert block.get("facts"), shown


def _blocks(node: Any) -> list[Json]:
    found: list[Json] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _blocks(value)
    elif isinstance(node, list):
        for value in node:
            found += _blocks(value)
    return found
