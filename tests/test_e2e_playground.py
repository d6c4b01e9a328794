"""End to end with the real Microsoft 365 Agents Playground (npm, pinned in package.json).

The bot runs as it does for a developer: anonymous (empty app id) on a loopback address. The
Playground plays Teams: it posts activities to `/api/messages` and receives the bot's answers
on its mocked Bot Connector. Its default tenant and users are the demo customer (Alex Wilber),
the engineer (Megan Bowen) and the manager (Adele Vance) of `chatops.example.toml`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.app import TASKS, Overrides, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from tests.playground import DEFAULT_BINARY, BotEvent, Playground

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools"),
]
ENGINEER = "user-id-1"  # Megan Bowen
MANAGER = "user-id-2"  # Adele Vance
FAKE_SHAREPOINT = "contoso-my.sharepoint.com"


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    settings = Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)
    # The file test's fake SharePoint runs on this machine: an explicit opt-in (see file_fetch).
    overrides = Overrides(teams_file_test_hosts={FAKE_SHAREPOINT: "127.0.0.1"})
    server = TestServer(create_app(settings, overrides=overrides), host="127.0.0.1")
    await server.start_server()
    try:
        endpoint = str(server.make_url("/api/messages"))
        async with Playground.start(bot_endpoint=endpoint, startup_timeout=60) as pg:
            yield pg
            await server.app[TASKS].idle()
    finally:
        await server.close()


def card_title(event: BotEvent) -> str:
    [card] = event.adaptive_cards()
    title: str = card["body"][0]["text"]
    return title


def card_text(event: BotEvent) -> str:
    [card] = event.adaptive_cards()
    return " ".join(str(block.get("text", "")) for block in card["body"])


async def test_help_in_the_personal_chat_gets_the_help_card(playground: Playground) -> None:
    await playground.send(playground.personal_chat_id, "help")

    typing = await playground.next_bot_activity(playground.personal_chat_id, include_typing=True)
    answer = await playground.next_bot_activity(playground.personal_chat_id)

    assert typing.is_typing
    assert card_title(answer) == "What I can do for you"
    assert "Alex Wilber" in card_text(answer)
    assert "**customer contact** for Demo Customer GmbH" in card_text(answer)


async def test_a_mention_in_the_team_channel_is_answered_in_that_channel(
    playground: Playground,
) -> None:
    general = playground.channel_ids[0]

    sent = await playground.send(general, "whoami", mention_bot=True)
    answer = await playground.next_bot_activity(sent.conversation_id)

    assert sent.conversation_id.startswith(f"{general};messageid=")
    assert card_title(answer) == "Who you are to me"
    [card] = answer.adaptive_cards()
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Customer"] == "Demo Customer GmbH"
    assert facts["Contract"] == "Cloud Collaboration Support Basic 3.0"


async def test_staff_see_their_roles(playground: Playground) -> None:
    general = playground.channel_ids[0]
    thread = await playground.send(general, "help", mention_bot=True)
    await playground.next_bot_activity(thread.conversation_id)

    await playground.send(thread.conversation_id, "help", user_id=ENGINEER, mention_bot=True)
    engineer = await playground.next_bot_activity(thread.conversation_id)
    await playground.send(thread.conversation_id, "help", user_id=MANAGER, mention_bot=True)
    manager = await playground.next_bot_activity(thread.conversation_id)

    assert "Megan Bowen" in card_text(engineer)
    assert "**engineer**" in card_text(engineer)
    assert "Adele Vance" in card_text(manager)
    assert "manager, engineer" in card_text(manager)


async def test_a_help_card_button_runs_its_command(playground: Playground) -> None:
    await playground.send(playground.personal_chat_id, "help")
    card = await playground.next_bot_activity(playground.personal_chat_id)
    assert card.message_id is not None
    [whoami] = [
        action["data"]
        for action in card.adaptive_cards()[0]["actions"]
        if action["title"] == "whoami"
    ]

    await playground.submit(playground.personal_chat_id, card.message_id, whoami)
    answer = await playground.next_bot_activity(playground.personal_chat_id)

    assert card_title(answer) == "Who you are to me"


async def test_a_universal_action_is_answered_in_the_invoke_response(
    playground: Playground,
) -> None:
    await playground.send(playground.personal_chat_id, "help")
    card = await playground.next_bot_activity(playground.personal_chat_id)
    assert card.message_id is not None

    result = await playground.invoke(
        playground.personal_chat_id, card.message_id, verb="run", data={"command": "whoami"}
    )

    assert result["type"] == "application/vnd.microsoft.card.adaptive"
    assert result["value"]["body"][0]["text"] == "Who you are to me"


FAULT_FORM = {
    "action": "submit_fault_report",
    "product": "webex-calling",
    "priority": "P2",
    "description": "Calls drop after 30 seconds on all desk phones",
    "since": "",
    "affected": "All users at the Vienna office",
    "tested": "Restarted the phones",
    "phone": "+43 1 234 5678",
}
DEADLINE = re.compile(
    r"react by \*\*(today|tomorrow|[A-Z][a-z]+day \d\d\.\d\d\.|\d\d\.\d\d\.\d{4}) \d\d:\d\d\*\*"
)


async def report_by_card(pg: Playground) -> BotEvent:
    """Fill in and send the fault form in the personal chat; the bot's confirmation."""
    chat = pg.personal_chat_id
    await pg.send(chat, "report a fault")
    form = await pg.next_bot_activity(chat)
    assert form.message_id is not None
    assert card_title(form) == "Report a fault"
    await pg.submit(chat, form.message_id, FAULT_FORM)
    follow_ups = await pg.next_bot_activity(chat)
    assert follow_ups.message_id is not None
    await pg.submit(chat, follow_ups.message_id, {"action": "skip_followups"})
    summary = await pg.next_bot_activity(chat)
    assert summary.message_id is not None
    assert card_title(summary) == "Please check your report"
    await pg.submit(chat, summary.message_id, {"action": "confirm_report"})
    return await pg.next_bot_activity(chat)


async def test_a_fault_report_by_card_ends_with_a_ticket_and_a_deadline(
    playground: Playground,
) -> None:
    confirmation = await report_by_card(playground)
    coaching = await playground.next_bot_activity(playground.personal_chat_id)

    assert card_title(confirmation) == f"CCS-{_year()}-000001"
    assert DEADLINE.search(card_text(confirmation)), card_text(confirmation)
    assert "Send logs" in (coaching.text or "")


async def test_a_personal_chat_file_is_stored_with_its_sha256(
    playground: Playground, tmp_path: Path
) -> None:
    content = b"PK\x03\x04" + bytes(range(256)) * 64

    async def download(_request: web.Request) -> web.Response:
        return web.Response(body=content, content_type="application/zip")

    served = web.Application()
    served.router.add_get("/download/logs.zip", download)
    file_server = TestServer(served, host="127.0.0.1")
    await file_server.start_server()
    try:
        confirmation = await report_by_card(playground)
        await playground.next_bot_activity(playground.personal_chat_id)  # the coaching
        number = card_title(confirmation)
        activity = playground.build_activity(
            playground.personal_chat_id, user_id=playground.current_user_id, text=""
        )
        activity["attachments"] = [
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": "logs.zip",
                "content": {
                    "downloadUrl": f"http://{FAKE_SHAREPOINT}:{file_server.port}/download/logs.zip",
                    "uniqueId": "3f2a",
                    "fileType": "zip",
                },
            }
        ]
        await playground.send_activity(activity)
        receiving = await playground.next_bot_activity(playground.personal_chat_id)
        answer = await playground.next_bot_activity(playground.personal_chat_id)
    finally:
        await file_server.close()

    assert (receiving.text or "").startswith(f"📥 Receiving **logs.zip** for {number}")
    assert answer.text == f"Received **logs.zip** (16.0 KB) for {number}."
    sha = hashlib.sha256(content).hexdigest()
    stored = tmp_path / "var" / "files" / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == content


def _year() -> str:
    return str(datetime.now(ZoneInfo("Europe/Vienna")).year)


async def test_a_natural_first_message_opens_a_report_already_filled_in(
    playground: Playground,
) -> None:
    chat = playground.personal_chat_id
    await playground.send(
        chat, "Webex Calling down since 9:00 for all 40 users in Vienna, we restarted the phones"
    )
    note = await playground.next_bot_activity(chat)
    form = await playground.next_bot_activity(chat)

    assert "sounds like a fault" in (note.text or "")
    assert card_title(form) == "Report a fault"
    [card] = form.adaptive_cards()
    values = {e["id"]: e.get("value", "") for e in card["body"] if "id" in e}
    assert values["product"] == "webex-calling"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} 09:00", values["since"])
    assert values["affected"] == "all 40 users in Vienna"
    assert values["tested"] == "we restarted the phones"
    assert values["priority"] == "P1"
    assert "From your message I understood" in card_text(form)


async def test_installing_the_app_welcomes_the_contact_once(playground: Playground) -> None:
    chat = playground.personal_chat_id

    await playground.install(chat)  # installationUpdate and conversationUpdate, like Teams
    welcome = await playground.next_bot_activity(chat, timeout=15)
    await playground.install(chat)  # a reinstall

    assert card_title(welcome) == "Welcome, Alex Wilber"
    assert "**customer contact** of **Demo Customer GmbH**" in card_text(welcome)
    await playground.assert_no_bot_activity(chat, within=3.0)
