"""Through the fake Webex API: a contact's file shows up in the ticket's thread with a link that
downloads it from the bot; after an acknowledge the card in the thread no longer offers it; the
Resolve button's field reaches the contact as the resolution, and the last card has no buttons."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.settings import Settings
from storage.directory import ChannelTarget, Directory, WebexSpace
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.test_webex_engineers import Space, title
from tests.transcript import GOOD_FORM

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
CONTENT = b"2026-03-02 09:14 INVITE failed 503\n" * 50
LINK = re.compile(r"\]\((https?://[^)\s]+/files/logfiles/[^)\s]+)\)")


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


def card_of(message: Json) -> dict[str, Any]:
    attachments = message.get("attachments") or []
    return dict(attachments[0]["content"]) if attachments else {}


def facts_of(message: Json) -> dict[str, str]:
    return {
        fact["title"]: fact["value"]
        for item in card_of(message).get("body", ())
        if item["type"] == "FactSet"
        for fact in item["facts"]
    }


def button_titles(message: Json) -> list[str]:
    return [action["title"] for action in card_of(message).get("actions", ())]


async def test_files_links_buttons_and_resolution_in_a_webex_space(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    engineers_room = webex.add_room("group", "Engineers")
    channels = {
        **directory.channels,
        "engineers": ChannelTarget(webex=WebexSpace(room_id=engineers_room["id"])),
    }
    bot = await aiohttp_client(
        create_app(
            bot_settings(settings, webex, public_url="https://bot.example"),
            directory=directory.model_copy(update={"channels": channels}),
        )
    )
    space = Space(webex, str(bot.make_url("/api/webex")))
    clara = webex.add_person(
        "Clara Contact", "clara@somewhere.example", org_id=directory.customers[0].webex_org_ids[0]
    )
    megan = webex.add_person("Megan Bowen", "meganb@example.com")
    direct = webex.add_room("direct")

    def in_engineers(message: Json) -> bool:
        return bool(message["roomId"] == engineers_room["id"])

    await space.say(clara, direct, "report a fault")
    form = await space.sent(lambda m: title(m) == "Report a fault")
    await space.press(clara, form, {**GOOD_FORM, "since": ""})
    follow_ups = await space.sent(lambda m: "details for the engineer" in title(m))
    await space.press(clara, follow_ups, {"action": "skip_followups"})
    summary = await space.sent(lambda m: title(m) == "Please check your report")
    await space.press(clara, summary, {"action": "confirm_report"})
    confirmation = await space.sent(
        lambda m: m["roomId"] == direct["id"] and title(m)[:4] == "CCS-"
    )
    number = title(confirmation).split()[0]
    alert = await space.sent(lambda m: in_engineers(m) and title(m).startswith(number))
    thread = alert["parentId"]  # the card is in the thread under its editable summary
    assert facts_of(alert)["Reaction time"].endswith("left")
    assert button_titles(alert) == ["Acknowledge", "Take", "Ask for logs", "Resolve"]

    # The contact sends a logfile; the thread hears of it with a link that downloads it.
    url = webex.add_file("ablauf trace.log", CONTENT, content_type="text/plain")
    await space.say(clara, direct, "", files=(url,))
    notice = await space.sent(lambda m: in_engineers(m) and "sent for" in m.get("markdown", ""))
    assert notice.get("parentId") == thread
    found = LINK.search(notice["markdown"])
    assert found is not None and found[1].startswith("https://bot.example/files/logfiles/")
    parts = urlsplit(found[1])
    download = await bot.get(f"{parts.path}?{parts.query}")
    assert download.status == 200
    assert await download.read() == CONTENT
    assert download.headers["Content-Disposition"] == 'attachment; filename="ablauf trace.log"'
    forged = await bot.get(f"{parts.path}?{parts.query[:-4]}0000")
    assert forged.status == 403

    # After the acknowledge, the card posted into the thread offers what still applies.
    await space.press(megan, alert, {"command": f"ack {number}"})
    current = await space.sent(
        lambda m: in_engineers(m) and facts_of(m).get("Status") == "In progress (Megan Bowen)"
    )
    assert current.get("parentId") == thread
    assert button_titles(current) == ["Ask for logs", "Resolve"]
    assert "ablauf_trace.log" in str(card_of(current)["body"])

    # Resolve: the unfolded field's text is what the contact reads.
    [resolve] = [a for a in card_of(current)["actions"] if a["type"] == "Action.ShowCard"]
    [confirm] = resolve["card"]["actions"]
    inputs = {**confirm["data"], "resolution": "The SIP trunk was restarted."}
    await space.press(megan, current, inputs)
    await space.sent(
        lambda m: (
            m["roomId"] == direct["id"]
            and m.get("markdown", "").startswith(
                f"Your ticket {number} is resolved:\n\n> The SIP trunk was restarted.\n\n"
            )
        )
    )
    closed = await space.sent(lambda m: in_engineers(m) and facts_of(m).get("Status") == "Resolved")
    assert "actions" not in card_of(closed)
