"""`POST /api/webex` over real HTTP: the fake Webex posts signed webhooks to the bot, and the
real webexteamssdk fetches messages and sends answers to the same fake."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from adapters.model import Channel, ConversationRef, FileRef, Incoming, Outgoing
from adapters.webex.split import MAX_MESSAGE_BYTES
from bot.app import STORE, TASKS, WEBEX, create_app
from bot.pipeline import Core
from bot.settings import Settings
from dialogs.context import Turn
from storage.directory import Directory
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.serving import FAR_FUTURE, Bot, running

ClientFactory = Callable[[web.Application], Awaitable[Bot]]
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


BotFactory = Callable[[], Awaitable[Bot]]


@pytest.fixture
def make_bot(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory, webex: FakeWebex
) -> BotFactory:
    """Start the bot with Webex configured against the fake (after any monkeypatching)."""

    async def start() -> Bot:
        return await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))

    return start


@pytest.fixture
async def bot(make_bot: BotFactory) -> Bot:
    return await make_bot()


@pytest.fixture
def clara(webex: FakeWebex, directory: Directory) -> Json:
    """A contact of the demo customer, recognised by her Webex organisation."""
    org = directory.customers[0].webex_org_ids[0]
    return webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)


def url(bot: Bot) -> str:
    return str(bot.make_url("/api/webex"))


async def say(webex: FakeWebex, bot: Bot, person: Json, room: Json, text: str, **kw: Any) -> Json:
    """Write a message as `person` and deliver its webhook; returns the message."""
    message = webex.say(person, room, text, **kw)
    assert await webex.deliver(url(bot), "messages", webex.message_data(message)) == 200
    return message


async def settle(bot: Bot) -> None:
    await bot.app[TASKS].idle()


def card_of(message: Json) -> Json:
    [attachment] = message["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    card: Json = attachment["content"]
    return card


async def test_a_signed_message_is_answered_with_a_card_and_a_text_fallback(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    room = webex.add_room("direct")

    await say(webex, bot, clara, room, "help")
    [reply] = await webex.wait_for_sent(1)

    assert reply["roomId"] == room["id"]
    assert "parentId" not in reply  # no threads in a 1:1 space
    card = card_of(reply)
    assert card["version"] == "1.3"
    assert card["body"][0]["text"] == "What I can do for you"
    assert reply["markdown"].startswith("**What I can do for you**")
    assert reply["text"].startswith("What I can do for you")  # the plain fallback


@pytest.mark.parametrize(
    ("signature", "secret"),
    [(None, None), ("0" * 40, None), ("sign", "another-secret"), ("", None)],
    ids=["missing", "garbage", "wrong-secret", "empty"],
)
async def test_a_delivery_without_the_right_signature_is_refused_and_not_processed(
    bot: Bot, webex: FakeWebex, clara: Json, signature: str | None, secret: str | None
) -> None:
    message = webex.say(clara, webex.add_room("direct"), "help")

    status = await webex.deliver(
        url(bot), "messages", webex.message_data(message), signature=signature, secret=secret
    )
    await settle(bot)

    assert status == 401
    assert webex.sent == []
    assert ("GET", f"messages/{message['id']}") not in webex.calls
    assert await bot.app[STORE].inbox.pending(channel="webex", received_before=FAR_FUTURE) == []


async def test_a_repeated_delivery_is_answered_once(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    message = webex.say(clara, webex.add_room("direct"), "whoami")
    data = webex.message_data(message)

    statuses = [await webex.deliver(url(bot), "messages", data) for _ in range(3)]
    await settle(bot)

    assert statuses == [200, 200, 200]
    assert len(webex.sent) == 1
    metrics = await (await bot.get("/metrics")).text()
    assert 'chatops_duplicate_events_total{channel="webex"} 2.0' in metrics


async def test_a_card_submit_arrives_as_an_attachment_action_and_is_answered(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    room = webex.add_room("direct")
    await say(webex, bot, clara, room, "help")
    [help_card] = await webex.wait_for_sent(1)
    whoami_button = next(
        action for action in card_of(help_card)["actions"] if action["title"] == "whoami"
    )

    action = webex.submit(clara, help_card, inputs=whoami_button["data"])
    assert await webex.deliver(url(bot), "attachmentActions", webex.action_data(action)) == 200
    [_, answer] = await webex.wait_for_sent(2)

    assert answer["roomId"] == room["id"]
    assert card_of(answer)["body"][0]["text"] == "Who you are to me"


async def test_a_slow_webex_does_not_stall_the_service(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    webex.slow("POST", "messages", 1.5)
    await say(webex, bot, clara, webex.add_room("direct"), "help")
    await webex.wait_for_call("POST", "messages")

    started = time.perf_counter()
    health = await bot.get("/healthz")
    other = await say(webex, bot, clara, webex.add_room("direct"), "whoami")
    elapsed = time.perf_counter() - started

    assert health.status == 200
    assert elapsed < 0.5, f"the event loop was blocked for {elapsed:.2f}s"
    sent = await webex.wait_for_sent(2)
    assert {m["roomId"] for m in sent} >= {other["roomId"]}


async def test_throttling_and_outages_are_retried_and_the_answer_arrives_once(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    webex.fail_next(429, **{"Retry-After": "0"})
    webex.fail_next(503)
    webex.fail_next(429, **{"Retry-After": soon})  # the HTTP-date form the SDK cannot parse
    webex.fail_next(503, method="GET", path="messages/")

    await say(webex, bot, clara, webex.add_room("direct"), "help")
    await settle(bot)

    assert len(webex.sent) == 1
    assert not webex.failures
    assert webex.calls.count(("POST", "messages")) == 4


async def test_the_bots_own_messages_are_ignored(bot: Bot, webex: FakeWebex, clara: Json) -> None:
    room = webex.add_room("direct")
    await say(webex, bot, clara, room, "help")
    [reply] = await webex.wait_for_sent(1)

    # Webex reports the bot's own messages too: before and after the bot knows its own id.
    assert await webex.deliver(url(bot), "messages", webex.message_data(reply)) == 200
    own = webex.say(webex.bot, room, "help")
    assert await webex.deliver(url(bot), "messages", webex.message_data(own)) == 200
    await settle(bot)

    assert len(webex.sent) == 2  # the reply and the message we planted as the bot
    assert ("GET", f"messages/{reply['id']}") not in webex.calls


async def test_a_mention_in_a_group_space_is_stripped_and_answered_in_its_thread(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    room = webex.add_room("group", "Telephony escalations")
    root = webex.say(clara, room, "our hunt group is down")

    message = await say(webex, bot, clara, room, "whoami", mention_bot=True, parent_id=root["id"])
    [reply] = await webex.wait_for_sent(1)

    assert message["text"].startswith("SLA Desk ")
    assert card_of(reply)["body"][0]["text"] == "Who you are to me"  # not "unknown command"
    assert reply["parentId"] == root["id"]  # Webex threads are one level deep: the root


async def test_a_mention_that_starts_a_thread_is_answered_in_that_thread(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    room = webex.add_room("group")

    message = await say(webex, bot, clara, room, "help", mention_bot=True)
    [reply] = await webex.wait_for_sent(1)

    assert reply["parentId"] == message["id"]


async def test_an_unknown_person_is_told_politely_that_they_are_not_registered(
    bot: Bot, webex: FakeWebex
) -> None:
    stranger = webex.add_person("Sam Stranger", "sam@unknown.example")

    await say(webex, bot, stranger, webex.add_room("direct"), "help")
    [reply] = await webex.wait_for_sent(1)

    assert "I don't know you yet" in reply["markdown"]
    assert "attachments" not in reply


async def test_staff_are_recognised_by_their_webex_e_mail(
    bot: Bot, webex: FakeWebex, directory: Directory
) -> None:
    megan = next(s for s in directory.staff if s.name == "Megan Bowen")
    person = webex.add_person(megan.name, megan.email.upper())

    await say(webex, bot, person, webex.add_room("direct"), "help")
    [reply] = await webex.wait_for_sent(1)

    assert "signed in as **engineer**" in card_of(reply)["body"][1]["text"]


async def test_a_long_answer_is_split_under_the_byte_limit_at_line_breaks(
    make_bot: BotFactory, webex: FakeWebex, clara: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"Zeile {n}: Störung im Wählplan – Überlauf ✓ {'ä' * 40}" for n in range(400)]

    async def long_answer(turn: Turn, *_args: object) -> list[object]:
        return [turn.reply("\n".join(lines))]

    monkeypatch.setattr("dialogs.commands.whoami_command", long_answer)
    bot = await make_bot()

    await say(webex, bot, clara, webex.add_room("direct"), "whoami")
    await settle(bot)

    parts = [m["markdown"] for m in webex.sent]
    assert len(parts) > 1
    assert all(len(part.encode("utf-8")) <= MAX_MESSAGE_BYTES for part in parts)
    assert "\n".join(parts).split("\n") == lines  # every line whole, in order


async def test_the_files_of_a_message_arrive_as_file_refs(
    bot: Bot, webex: FakeWebex, clara: Json, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Incoming] = []
    original = Core.handle

    async def spy(core: Core, incoming: Incoming) -> list[Any]:
        seen.append(incoming)
        return await original(core, incoming)

    monkeypatch.setattr(Core, "handle", spy)
    log_url = webex.add_file("pbx trace.log", b"INVITE sip:...", content_type="text/plain")

    await say(webex, bot, clara, webex.add_room("direct"), "here are the logs", files=(log_url,))
    await settle(bot)

    [incoming] = seen
    assert incoming.files == (
        FileRef(name="pbx trace.log", url=log_url, content_type="text/plain", size=14),
    )


async def test_the_room_is_remembered_for_messages_the_bot_starts_later(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    room = webex.add_room("group")
    await say(webex, bot, clara, room, "help", mention_bot=True)
    await settle(bot)

    row = await bot.app[STORE].conversations.get(channel="webex", conversation_id=room["id"])
    assert row is not None
    notice = Outgoing(ConversationRef(Channel.WEBEX, "ignored"), "**Reminder**: ticket 42")
    await bot.app[WEBEX].send_proactive(row.reference, [notice])

    reminder = webex.sent[-1]
    assert (reminder["roomId"], reminder["markdown"]) == (room["id"], notice.text)
    assert "parentId" not in reminder  # a notification starts its own thread


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"resource": "messages", "event": "created", "data": {}}', "application/json", 400),
        (b'{"resource": "messages"}', "text/plain", 415),
        (b"x" * 300_000, "application/json", 413),
    ],
)
async def test_bad_but_signed_deliveries_get_a_clear_4xx_and_store_nothing(
    bot: Bot, webex: FakeWebex, body: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type, "X-Spark-Signature": webex.sign(body)}

    response = await bot.post("/api/webex", data=body, headers=headers)

    assert response.status == status
    assert "error" in await response.json()
    await settle(bot)
    assert await bot.app[STORE].inbox.pending(channel="webex", received_before=FAR_FUTURE) == []


async def test_other_resources_are_acknowledged_and_ignored(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    status = await webex.deliver(url(bot), "rooms", {"id": "r1", "personId": clara["id"]})
    await settle(bot)

    assert status == 200
    assert webex.calls == []


async def test_someone_else_joining_a_space_is_acknowledged_and_not_stored(
    bot: Bot, webex: FakeWebex, clara: Json
) -> None:
    status = await webex.deliver(
        url(bot), "memberships", {"id": "m1", "personId": clara["id"], "roomId": "r1"}
    )
    await settle(bot)

    assert status == 200
    assert await bot.app[STORE].inbox.get(event_id=1) is None  # nothing was stored
    assert webex.sent == []


async def test_neither_the_token_nor_the_secret_is_ever_logged(
    bot: Bot, webex: FakeWebex, clara: Json, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    webex.fail_next(429, **{"Retry-After": "0"})
    webex.fail_next(403)

    await say(webex, bot, clara, webex.add_room("direct"), "help")
    await webex.deliver(url(bot), "messages", {"id": "x"}, signature="0" * 40)
    await settle(bot)

    assert caplog.text  # something was logged (the retry, the refusal) ...
    assert webex.token not in caplog.text  # ... but never a secret
    assert webex.secret not in caplog.text


async def test_without_a_token_the_endpoint_says_webex_is_not_configured(
    aiohttp_client: ClientFactory, settings: Settings, directory: Directory
) -> None:
    bot = await aiohttp_client(create_app(settings, directory=directory))

    response = await bot.post("/api/webex", json={"resource": "messages"})

    assert response.status == 404
    assert "not configured" in (await response.json())["error"]


async def test_unfinished_work_is_resumed_after_a_restart(
    settings: Settings, directory: Directory, webex: FakeWebex, clara: Json
) -> None:
    configured = bot_settings(settings, webex)
    # First run: every attempt to send fails, so the answer cannot be delivered.
    for _ in range(12):
        webex.fail_next(503, **{"Retry-After": "0"})
    async with running(create_app(configured, directory=directory)) as first:
        await say(webex, first, clara, webex.add_room("direct"), "help")
        await settle(first)
    assert webex.sent == []
    webex.failures.clear()

    # Second run on the same database: the accepted delivery is answered, once.
    async with running(create_app(configured, directory=directory)) as second:
        [reply] = await webex.wait_for_sent(1)
        await settle(second)
    assert card_of(reply)["body"][0]["text"] == "What I can do for you"
    assert len(webex.sent) == 1
