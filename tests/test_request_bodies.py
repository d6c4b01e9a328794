"""Request bodies that arrive in several reads (a proxy, a slow link, a large activity) are read
to their end, on every endpoint that takes one (the two chat webhooks and the integration API):
a correct request is accepted however it was cut, and a body past the limit gets 413 however it
was cut. Over real HTTP, written by hand on a socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from bot.app import SETTINGS, STORE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from tests.activities import personal_message
from tests.api_client import REPORT, V1, Api, auth, make_token
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector
from tests.serving import FAR_FUTURE, Bot
from tests.wire import post_in_pieces

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
JSON = {"Content-Type": "application/json"}
FRAMINGS = pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def bot(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> Bot:
    return await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))


@pytest.fixture
def clara(webex: FakeWebex, directory: Directory) -> Json:
    org = directory.customers[0].webex_org_ids[0]
    return webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)


async def nothing_stored(bot: Bot) -> bool:
    await bot.app[TASKS].idle()
    inbox = bot.app[STORE].inbox
    pending = [
        *await inbox.pending(channel="webex", received_before=FAR_FUTURE),
        *await inbox.pending(channel="teams", received_before=FAR_FUTURE),
    ]
    return pending == []


@FRAMINGS
async def test_a_signed_webex_delivery_in_pieces_is_accepted_and_answered(
    bot: Bot, webex: FakeWebex, clara: Json, chunked: bool
) -> None:
    message = webex.say(clara, webex.add_room("direct"), "help")
    body = webex.webhook_body("messages", webex.message_data(message))
    headers = JSON | {"X-Spark-Signature": webex.sign(body)}

    response = await post_in_pieces(bot.make_url("/api/webex"), body, headers, chunked=chunked)

    assert response.status == 200, response.text
    [reply] = await webex.wait_for_sent(1)
    assert reply["roomId"] == message["roomId"]


@FRAMINGS
async def test_a_large_teams_activity_in_pieces_is_accepted_and_answered(
    bot: Bot, connector: FakeBotConnector, directory: Directory, chunked: bool
) -> None:
    # About 100 KB, as a message with a long pasted log can be.
    activity = personal_message(directory, "help", service_url=connector.url)
    activity["channelData"]["padding"] = "x" * 100_000
    body = json.dumps(activity).encode()

    response = await post_in_pieces(
        bot.make_url("/api/messages"), body, JSON, count=8, chunked=chunked
    )

    assert response.status == 200, response.text
    [reply] = await connector.wait_for_messages(1)
    assert reply.conversation_id == activity["conversation"]["id"]


@pytest.mark.parametrize("path", ["/api/webex", "/api/messages"])
async def test_a_body_past_the_limit_in_pieces_gets_413_and_nothing_is_stored(
    bot: Bot, webex: FakeWebex, path: str
) -> None:
    limit = bot.app[SETTINGS].max_body_bytes
    body = b'{"text": "' + b"x" * limit + b'"}'
    headers = JSON | {"X-Spark-Signature": webex.sign(body)}

    response = await post_in_pieces(bot.make_url(path), body, headers, count=8, chunked=True)

    assert response.status == 413
    assert "larger than" in response.json()["error"]
    assert await nothing_stored(bot)


@FRAMINGS
async def test_an_api_request_in_pieces_is_accepted(bot: Bot, chunked: bool) -> None:
    token = await make_token(bot, "psa")
    # A long description, as a mail gateway forwards one.
    body = json.dumps(REPORT | {"description": "Calls drop. " + "x" * 3_000}).encode()

    response = await post_in_pieces(
        bot.make_url(f"{V1}/tickets"), body, JSON | auth(token), count=8, chunked=chunked
    )

    assert response.status == 201, response.text
    number = response.json()["ticket"]["number"]
    assert (await Api(bot, token).ok("GET", f"/tickets/{number}"))["description"].startswith(
        "Calls drop."
    )


async def test_an_api_body_past_the_limit_in_pieces_gets_413_and_opens_nothing(bot: Bot) -> None:
    token = await make_token(bot, "psa")
    limit = bot.app[SETTINGS].max_body_bytes
    body = json.dumps(REPORT | {"tested": "x" * limit}).encode()

    response = await post_in_pieces(
        bot.make_url(f"{V1}/tickets"), body, JSON | auth(token), count=8, chunked=True
    )

    assert response.status == 413
    assert response.json()["status"] == 413
    assert (await Api(bot, token).ok("GET", "/tickets"))["items"] == []
