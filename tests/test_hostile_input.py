"""Input that used to end in an unhandled error (HTTP 500, or an event retried until dropped):
each gets a clear 4xx or a clean answer, over real HTTP against the whole app, and the reason
never carries a stack trace."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from yarl import URL

from adapters.model import Channel, ConversationRef, Outgoing
from bot.app import SERVICES, STORE, TASKS, WEBEX, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.repositories import Store
from tests.activities import BOT_ID, channel_mention, personal_message
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector
from tests.serving import FAR_FUTURE, Bot
from tests.wire import post_in_pieces

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
JSON = {"Content-Type": "application/json"}
HUGE_NUMBER = "9" * 5_000  # past Python's limit for converting digits to an int (4,300)
LONE_SURROGATE = "\ud800"


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def bot(
    aiohttp_client: ClientFactory,
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    store: Store,
) -> Bot:
    """The bot on each database backend (PostgreSQL where configured), Webex on the fake."""
    on_backend = bot_settings(settings, webex, database_url=store.database.url)
    return await aiohttp_client(create_app(on_backend, directory=directory))


@pytest.fixture
def clara(webex: FakeWebex, directory: Directory) -> Json:
    org = directory.customers[0].webex_org_ids[0]
    return webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)


async def assert_refused(response_status: int, text: str, status: int) -> None:
    assert response_status == status, text
    assert "error" in json.loads(text)
    assert "Traceback" not in text


async def nothing_stored(bot: Bot) -> bool:
    await bot.app[TASKS].idle()
    inbox = bot.app[STORE].inbox
    pending = [
        *await inbox.pending(channel="webex", received_before=FAR_FUTURE),
        *await inbox.pending(channel="teams", received_before=FAR_FUTURE),
    ]
    return pending == []


# --- Webex ---------------------------------------------------------------------------------


async def test_a_non_ascii_signature_is_a_wrong_signature(bot: Bot, webex: FakeWebex) -> None:
    body = webex.webhook_body("messages", {"id": "m1", "roomId": "r1", "personId": "p1"})
    headers = JSON | {"X-Spark-Signature": "ü" + webex.sign(body)[1:]}

    response = await post_in_pieces(bot.make_url("/api/webex"), body, headers, count=1)

    await assert_refused(response.status, response.text, 401)
    assert await nothing_stored(bot)


@pytest.mark.parametrize(
    "data",
    [
        {"id": "m1", "roomId": "r1", "personId": "p1", "count": HUGE_NUMBER},
        {"id": f"m{LONE_SURROGATE}", "roomId": "r1", "personId": "p1"},
        {"id": "m\x00", "roomId": "r1", "personId": "p1"},
    ],
    ids=["5000-digit-number", "lone-surrogate-id", "nul-in-id"],
)
async def test_a_signed_delivery_with_unusable_json_gets_400(
    bot: Bot, webex: FakeWebex, data: dict[str, Any]
) -> None:
    # json.dumps writes the surrogate and the NUL as \\u escapes, as a JSON sender may.
    raw = webex.webhook_body("messages", data).replace(
        b'"' + HUGE_NUMBER.encode() + b'"', HUGE_NUMBER.encode()
    )
    headers = JSON | {"X-Spark-Signature": webex.sign(raw)}

    response = await bot.post("/api/webex", data=raw, headers=headers)

    await assert_refused(response.status, await response.text(), 400)
    assert await nothing_stored(bot)


async def test_an_answer_with_a_lone_surrogate_is_sent_with_it_replaced(
    bot: Bot, webex: FakeWebex
) -> None:
    # Text relayed from elsewhere (a Webex message, a name) may hold half a surrogate pair:
    # the message used to fail to encode on every retry and was dropped.
    room = webex.add_room("direct")
    answer = Outgoing(
        conversation=ConversationRef(Channel.WEBEX, room["id"]),
        text=f"Ticket for Cl{LONE_SURROGATE}ra 😀",
    )

    await bot.app[WEBEX].send(answer)

    [sent] = await webex.wait_for_sent(1)
    assert sent["markdown"] == "Ticket for Cl\ufffdra 😀"


# --- Teams ---------------------------------------------------------------------------------


async def post_raw(bot: Bot, body: bytes) -> tuple[int, str]:
    response = await bot.post("/api/messages", data=body, headers=JSON)
    return response.status, await response.text()


async def test_a_5000_digit_number_in_an_activity_gets_400(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "help", service_url=connector.url)
    activity["channelData"]["count"] = "HUGE"
    body = json.dumps(activity).replace('"HUGE"', HUGE_NUMBER).encode()

    await assert_refused(*await post_raw(bot, body), 400)
    assert await nothing_stored(bot)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", f"activity-{LONE_SURROGATE}"),
        ("text", f"help {LONE_SURROGATE}"),
        ("conversation.id", "a:personal\x00chat"),
        ("conversation.id", "a:" + "c" * 600),
        ("from.id", "29:" + "u" * 300),
        ("from.aadObjectId", "a" * 100),
    ],
    ids=[
        "surrogate-id",
        "surrogate-text",
        "nul-conversation",
        "long-conversation",
        "long-user",
        "long-aad-object-id",
    ],
)
async def test_ids_a_database_cannot_store_get_400_and_nothing_is_stored(
    bot: Bot, connector: FakeBotConnector, directory: Directory, field: str, value: str
) -> None:
    activity = personal_message(directory, "help", service_url=connector.url)
    *parents, name = field.split(".")
    target = activity
    for parent in parents:
        target = target["from" if parent == "from" else parent]
    target[name] = value

    await assert_refused(*await post_raw(bot, json.dumps(activity).encode()), 400)
    assert await nothing_stored(bot)
    assert connector.calls == []


async def test_a_long_display_name_is_answered(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    # Entra allows 256 characters; the contacts table keeps 200 (PostgreSQL refused the row).
    activity = personal_message(directory, "whoami", service_url=connector.url)
    activity["from"]["name"] = "N" * 256

    assert (await bot.post("/api/messages", json=activity)).status == 200

    [reply] = await connector.wait_for_messages(1)
    assert reply.conversation_id == activity["conversation"]["id"]


MALFORMED_MENTIONS: list[Any] = [
    {"type": "mention", "mentioned": "not an account"},
    {"type": "mention", "mentioned": {"id": BOT_ID}, "text": 5},
    {"type": "mention", "text": "<at>SLA Desk</at>"},
    {"type": None},
    {"type": "mention", "mentioned": {"id": BOT_ID}},
]


async def test_a_card_action_with_malformed_mentions_gets_its_answer(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = channel_mention(directory, "", service_url=connector.url)
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "run", "data": {"command": "help"}}},
        entities=MALFORMED_MENTIONS,
    )

    response = await bot.post("/api/messages", json=activity)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["value"]["body"][0]["text"] == "What I can do for you"


async def test_a_message_with_malformed_mentions_is_answered(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = channel_mention(directory, "whoami", service_url=connector.url)
    activity["entities"] = [*MALFORMED_MENTIONS, *activity["entities"]]

    assert (await bot.post("/api/messages", json=activity)).status == 200

    [reply] = await connector.wait_for_messages(1)
    card = reply.body["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Who you are to me"


# --- signed report links -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "sig"),
    [("²", None), (HUGE_NUMBER, None), (None, "ü" * 64), ("-1", None), ("1e3", None)],
    ids=["superscript-digit", "5000-digits", "non-ascii-signature", "negative", "exponent"],
)
async def test_a_mangled_report_link_gets_403(
    bot: Bot, expires: str | None, sig: str | None
) -> None:
    links = bot.app[SERVICES].links
    assert links is not None
    genuine = URL(await links.publish(b"a,b\n", suffix="csv", now=datetime.now(UTC)))
    query = dict(genuine.query)
    query["expires"] = expires or query["expires"]
    query["sig"] = sig or query["sig"]

    response = await bot.get(genuine.path, params=query)

    await assert_refused(response.status, await response.text(), 403)
    assert (await bot.get(genuine.path_qs)).status == 200  # the genuine link still works
