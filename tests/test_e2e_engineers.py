"""End to end in the Microsoft 365 Agents Playground: a report in the personal chat appears as a
card in the team channel; an engineer acknowledges it there; the customer gets the notice; the
engineer's reply reaches the customer; the customer's answer reaches the ticket's thread."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import TASKS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from tests.playground import DEFAULT_BINARY, BotEvent, Playground
from tests.test_e2e_playground import card_title, report_by_card

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools"),
]
ENGINEER = "user-id-1"  # Megan Bowen in the example directory


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


async def test_engineers_work_a_ticket_from_the_team_channel(playground: Playground) -> None:
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
    assert relayed.text == f"**Megan Bowen** on {number}: Please restart the phone"

    await pg.send(personal, "Restarted it, calls still drop")
    added = await pg.next_bot_activity(personal)
    assert added.text == f"Added to {number}; the engineers see it."
    answer = await pg.next_bot_activity(thread)
    assert "Restarted it, calls still drop" in (answer.text or "")

    # Resolve: the card's field is what the customer reads; the card then offers nothing.
    resolution = {"command": f"resolve {number}", "resolution": "The trunk was restarted."}
    await pg.submit(thread, alert.message_id, resolution, user_id=ENGINEER)
    told = await pg.next_bot_activity(personal)
    assert f"Your ticket {number} is resolved: The trunk was restarted." in _text(told)
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


def _text(event: BotEvent) -> str:
    """Everything a person reads on the message: text, card text and facts."""
    return json.dumps(event.adaptive_cards(), ensure_ascii=False) + (event.text or "")
