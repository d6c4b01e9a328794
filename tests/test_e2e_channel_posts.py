"""Channel posts end to end with the real Microsoft 365 Agents Playground (npm, pinned).

The bot runs anonymous (empty app id) on a loopback address, as for a developer; the test calls
its Teams adapter the way the outbox does: start a thread in the team's General channel, reply
in it, update the root post's card. The Playground's mocked connector shows what Teams users
would see on its conversation WebSocket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from adapters.model import Card, Channel, ConversationRef, Fact, Outgoing
from adapters.teams import TeamsAdapter
from bot.app import TASKS, TEAMS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from tests.playground import DEFAULT_BINARY, BotEvent, Playground

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools"),
]
GENERAL = "team-id"  # the Playground's General channel has the team's id
TENANT = "00000000-0000-0000-0000-0000000000001"
NOWHERE = ConversationRef(Channel.TEAMS, "unused")


@dataclass
class Running:
    """The Playground and the bot's Teams adapter it talks to."""

    playground: Playground
    teams: TeamsAdapter

    def target(self) -> dict[str, Any]:
        """The General channel as the core hands it to `post_to_channel`."""
        return {
            "team_id": self.playground.team_id,
            "channel_id": GENERAL,
            "tenant_id": TENANT,
            "service_url": self.playground.connector_url,
        }


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    settings = Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        endpoint = str(server.make_url("/api/messages"))
        async with Playground.start(bot_endpoint=endpoint, startup_timeout=60) as pg:
            assert pg.channel_ids[0] == GENERAL
            assert pg.tenant_id == TENANT
            yield Running(pg, server.app[TEAMS])
            await server.app[TASKS].idle()
    finally:
        await server.close()


def ticket_card(state: str) -> Outgoing:
    return Outgoing(
        conversation=NOWHERE,
        text=f"CCS-2026-000001 is {state}",
        card=Card(title="CCS-2026-000001", facts=(Fact("State", state),)),
    )


def card_state(event: BotEvent) -> str:
    [card] = event.adaptive_cards()
    facts = {f["title"]: f["value"] for block in card["body"] for f in block.get("facts", ())}
    return str(facts["State"])


async def test_a_channel_post_starts_a_new_thread_in_general(running: Running) -> None:
    posted = await running.teams.post_to_channel(running.target(), ticket_card("new"))

    root = await running.playground.next_bot_activity(GENERAL)

    thread = f"{GENERAL};messageid={posted.message_id}"
    assert root.action == "createMessage"
    assert root.post_conversation_id == thread
    assert root.message_id == posted.message_id
    assert card_state(root) == "new"
    assert posted.reference["conversation"]["id"] == thread


async def test_a_follow_up_lands_in_the_posts_thread(running: Running) -> None:
    pg = running.playground
    posted = await running.teams.post_to_channel(running.target(), ticket_card("new"))
    root = await pg.next_bot_activity(GENERAL)
    since = pg.mark()

    await running.teams.send_proactive(posted.reference, [Outgoing(NOWHERE, "Megan took it.")])

    reply = await pg.wait_for(lambda e: e.action == "createMessage", since=since)
    assert reply.conversation_id == f"{GENERAL};messageid={posted.message_id}"
    assert reply.post_conversation_id is None  # a reply, not a new root post
    assert reply.text == "Megan took it."
    assert reply.message_id != root.message_id


async def test_an_update_replaces_the_posts_card(running: Running) -> None:
    pg = running.playground
    posted = await running.teams.post_to_channel(running.target(), ticket_card("new"))
    await pg.next_bot_activity(GENERAL)
    since = pg.mark()

    await running.teams.update_post(posted, ticket_card("in progress"))

    update = await pg.wait_for(lambda e: e.action == "updateMessage", since=since)
    assert update.message_id == posted.message_id
    assert card_state(update) == "in progress"
