"""The engineers' flow through the fake Webex API: a report in the contact's 1:1 space appears
as a card in the engineers' space; an engineer acknowledges it there; the contact gets the
notice; a reply reaches the contact; the contact's answer reaches the ticket's thread."""

from __future__ import annotations

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
            and m.get("markdown") == f"**Megan Bowen** on {number}: Please restart the phone"
        )
    )

    await space.say(clara, direct, "Restarted it, calls still drop")
    relayed = await space.sent(
        lambda m: (
            "calls still drop" in m.get("markdown", "") and m["roomId"] == engineers_room["id"]
        )
    )
    assert relayed.get("parentId") == root["id"]
