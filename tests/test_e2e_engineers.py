"""End to end in the Microsoft 365 Agents Playground: a report in the personal chat appears as a
card in the team channel; an engineer acknowledges it there; the customer gets the notice; the
engineer's reply reaches the customer; the customer's answer and file reach the ticket's thread
(the file with a link that downloads it); the engineer's show, queue, mine, effort and why
answer in the thread, each line on a line of its own; Resolve asks for the resolution."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import TASKS, Overrides, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from tests.playground import DEFAULT_BINARY, BotEvent, Playground
from tests.test_e2e_playground import card_title, report_by_card

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools"),
]
ENGINEER = "user-id-1"  # Megan Bowen in the example directory
FAKE_SHAREPOINT = "contoso-my.sharepoint.com"
LOGS = b"2026-03-02 09:14 INVITE failed 503\n" * 64
LINK = re.compile(r"\[(?P<name>[^\]]+)\]\((?P<url>http[^)\s]+/files/logfiles/[^)\s]+)\)")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[TestServer]:
    settings = Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)
    # The contact's file comes from a fake SharePoint on this machine (an explicit opt-in).
    overrides = Overrides(teams_file_test_hosts={FAKE_SHAREPOINT: "127.0.0.1"})
    server = TestServer(create_app(settings, overrides=overrides), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def playground(bot: TestServer) -> AsyncIterator[Playground]:
    endpoint = str(bot.make_url("/api/messages"))
    async with Playground.start(bot_endpoint=endpoint, startup_timeout=60) as pg:
        yield pg
        await bot.app[TASKS].idle()


@pytest.fixture
async def sharepoint() -> AsyncIterator[str]:
    """Where the contact's file can be downloaded (as Teams' pre-authorised URL)."""

    async def download(_request: web.Request) -> web.Response:
        return web.Response(body=LOGS, content_type="text/plain")

    served = web.Application()
    served.router.add_get("/download/sip-trace.log", download)
    server = TestServer(served, host="127.0.0.1")
    await server.start_server()
    yield f"http://{FAKE_SHAREPOINT}:{server.port}/download/sip-trace.log"
    await server.close()


async def test_engineers_work_a_ticket_from_the_team_channel(
    playground: Playground, bot: TestServer, sharepoint: str
) -> None:
    pg, personal = playground, playground.personal_chat_id
    number = card_title(await report_by_card(pg))
    await pg.next_bot_activity(personal)  # the logfile coaching

    alert = await pg.wait_for(lambda e: _is_alert_of(e, number), timeout=15)
    thread = alert.post_conversation_id
    assert thread is not None and thread.startswith("team-id;messageid=")
    assert "New – not acknowledged" in _text(alert)
    assert alert.message_id is not None
    assert (await pg.next_bot_activity(thread)).message_id == alert.message_id  # the root post

    # Megan presses "Acknowledge" on the alert card in the channel.
    await pg.submit(thread, alert.message_id, {"command": f"ack {number}"}, user_id=ENGINEER)
    acknowledged = await pg.next_bot_activity(thread)
    assert f"{number} acknowledged by Megan Bowen: first response recorded" in (
        acknowledged.text or ""
    )
    notice = await pg.next_bot_activity(personal)
    assert notice.text == f"Megan Bowen is working on your ticket {number}."
    updated = await pg.wait_for(
        lambda e: e.action == "updateMessage" and "In progress (Megan Bowen)" in _text(e),
        timeout=15,
    )
    # the card everyone sees offers only what still applies
    titles = [a["title"] for card in updated.adaptive_cards() for a in card.get("actions", ())]
    assert titles == ["Ask for logs", "Resolve"]

    # In the thread the ticket number may be left out.
    await pg.send(thread, "reply Please restart the phone", user_id=ENGINEER, mention_bot=True)
    sent = await pg.next_bot_activity(thread)
    assert f"Sent to the customer of {number}" in (sent.text or "")
    relayed = await pg.next_bot_activity(personal)
    assert relayed.text == f"**Megan Bowen** wrote on {number}:\n\n> Please restart the phone"

    await pg.send(personal, "Restarted it, calls still drop")
    added = await pg.next_bot_activity(personal)
    assert added.text == f"Added to {number}; the engineers see it."
    answer = await pg.next_bot_activity(thread)
    assert "Restarted it, calls still drop" in (answer.text or "")

    # The contact's file, sent with words: the thread lists it with a link that downloads it.
    file = pg.build_activity(personal, user_id=pg.current_user_id, text="")
    file["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "name": "sip-trace.log",
            "content": {"downloadUrl": sharepoint, "uniqueId": "7c1d", "fileType": "log"},
        }
    ]
    await pg.send_activity(file)
    notice = await pg.next_bot_activity(thread, timeout=15)
    receiving, received = await pg.next_bot_activity(personal), await pg.next_bot_activity(personal)
    assert "Receiving" in (receiving.text or "") and "Received" in (received.text or "")
    assert "Alex Wilber sent for " + number in (notice.text or "")
    await _downloads(bot, _link(notice.text or ""), LOGS)

    # What Megan asks in the thread is answered there, never with a typing indicator (Teams
    # shows none in channels, and the Playground's page stops showing the thread on one).
    answers = {}
    effort = "effort 1,5h dial plan checked"
    for command in ("show", "queue", "mine", effort, "why"):
        await pg.send(thread, command, user_id=ENGINEER, mention_bot=True)
        answers[command] = await pg.next_bot_activity(thread, include_typing=True)
    assert not any(event.is_typing for event in answers.values())
    show = _text(answers["show"])
    assert "Megan Bowen" in show and "sip-trace.log" in show and "/files/logfiles/" in show
    assert "Ask for logs" in show and "Acknowledge" not in show  # done: no second Acknowledge
    for listing in (answers["queue"], answers["mine"]):
        row = _text(listing)
        assert number in row and "Demo Customer GmbH" in row and "Webex Calling" in row
        assert "webex-calling" not in row and '"demo"' not in row  # names, not keys
    assert f"Logged 1 hr 30 mins on {number}" in (answers[effort].text or "")
    why = answers["why"].text or ""
    # Teams joins lines split by one newline; each step of the explanation is its own line.
    steps = [line for line in why.split("\n\n") if line.strip()]
    assert len(steps) >= 3, why
    assert all("\n" not in step for step in steps[1:]), why
    assert "counted 0h00" not in why  # an acknowledge within the minute leaves no empty stretch

    # Resolve: the card's field is what the customer reads; the card then offers nothing.
    resolution = {"command": f"resolve {number}", "resolution": "The trunk was restarted."}
    await pg.submit(thread, alert.message_id, resolution, user_id=ENGINEER)
    told = await pg.next_bot_activity(personal)
    assert f"Your ticket {number} is resolved:\\n\\n" in _text(told)
    assert '"The trunk was restarted."' in _text(told)
    closed = await pg.wait_for(
        lambda e: e.action == "updateMessage" and '"Resolved"' in _text(e), timeout=15
    )
    assert not any(card.get("actions") for card in closed.adaptive_cards())


def _is_alert_of(event: BotEvent, number: str) -> bool:
    return (
        event.action == "createMessage"
        and event.post_conversation_id is not None
        and bool(event.adaptive_cards())
        and card_title(event).startswith(number)
    )


def _link(markdown: str) -> str:
    found = LINK.search(markdown)
    assert found is not None, markdown
    return found["url"]


async def _downloads(bot: TestServer, link: str, content: bytes) -> None:
    """The signed link, on the bot's served address, downloads the file as an attachment."""
    parts = urlsplit(link)
    async with (
        aiohttp.ClientSession() as session,
        session.get(bot.make_url(f"{parts.path}?{parts.query}")) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert await response.read() == content


def _text(event: BotEvent) -> str:
    """Everything a person reads on the message: text, card text and facts."""
    return json.dumps(event.adaptive_cards(), ensure_ascii=False) + (event.text or "")
