"""The shipped `.m365agentsplayground.yml`: a newcomer switches between the three roles of the
example directory by changing one word, and the bot then sees that person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import TASKS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from tests.playground import DEFAULT_BINARY, REPO_ROOT, Playground

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not DEFAULT_BINARY.exists(), reason="run `make install` for npm tools"),
]
SHIPPED = REPO_ROOT / ".m365agentsplayground.yml"
SWITCH = "<<: *alex "


@pytest.fixture
async def bot_endpoint(tmp_path: Path) -> AsyncIterator[str]:
    settings = Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)
    server = TestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/api/messages"))
        await server.app[TASKS].idle()
    finally:
        await server.close()


def test_the_shipped_file_has_exactly_one_place_to_switch() -> None:
    assert SHIPPED.read_text(encoding="utf-8").count(SWITCH) == 1


@pytest.mark.parametrize(
    ("person", "name", "role"),
    [
        ("alex", "Alex Wilber", "customer contact"),
        ("megan", "Megan Bowen", "engineer"),
        ("adele", "Adele Vance", "manager, engineer"),
    ],
)
async def test_one_edit_makes_the_playground_user_someone_else(
    bot_endpoint: str, tmp_path: Path, person: str, name: str, role: str
) -> None:
    config = tmp_path / ".m365agentsplayground.yml"
    edited = SHIPPED.read_text(encoding="utf-8").replace(SWITCH, f"<<: *{person} ")
    config.write_text(edited, encoding="utf-8")

    async with Playground.start(
        bot_endpoint=bot_endpoint, config_file=config, startup_timeout=60
    ) as playground:
        await playground.send(playground.personal_chat_id, "whoami")
        answer = await playground.wait_for(
            lambda event: (
                bool(event.adaptive_cards()) and event.in_conversation(playground.personal_chat_id)
            ),
            timeout=15,
        )

    assert playground.current_user["name"] == name
    [card] = answer.adaptive_cards()
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Role"] == role
