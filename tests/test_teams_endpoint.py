"""`POST /api/messages` over real HTTP, with a fake Bot Connector receiving the answers.

Authentication is off here (empty app id, as in local development); real token validation is
tested in test_teams_auth.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from bot.app import METRICS, STORE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory, Role, StaffMember
from tests.activities import channel_mention, personal_message
from tests.fakes import FakeBotConnector
from tests.serving import FAR_FUTURE, Bot, running

ClientFactory = Callable[[web.Application], Awaitable[Bot]]


@pytest.fixture
async def bot(aiohttp_client: ClientFactory, settings: Settings, directory: Directory) -> Bot:
    return await aiohttp_client(create_app(settings, directory=directory))


async def post(bot: Bot, activity: dict[str, Any]) -> int:
    response = await bot.post("/api/messages", json=activity)
    return response.status


async def settle(bot: Bot) -> None:
    """Wait for the background work the requests started."""
    await bot.app[TASKS].idle()


async def test_help_in_the_personal_chat_is_answered_with_a_card(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "help", service_url=connector.url)

    assert await post(bot, activity) == 200
    [reply] = await connector.wait_for_messages(1)

    assert reply.conversation_id == activity["conversation"]["id"]
    assert reply.body["replyToId"] == activity["id"]
    [attachment] = reply.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["version"] == "1.5"
    assert attachment["content"]["body"][0]["text"] == "What I can do for you"
    # The typing indicator goes out before the answer.
    assert connector.calls[0].body["type"] == "typing"


async def test_a_retried_activity_is_answered_once(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "help", service_url=connector.url)

    statuses = [await post(bot, activity) for _ in range(3)]
    await settle(bot)

    assert statuses == [200, 200, 200]
    assert len(connector.messages) == 1
    metrics = await (await bot.get("/metrics")).text()
    assert 'chatops_duplicate_events_total{channel="teams"} 2.0' in metrics


async def test_a_slow_typing_indicator_does_not_hold_up_the_turn_and_still_comes_first(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    connector.typing_gate = asyncio.Event()
    activity = personal_message(directory, "help", service_url=connector.url)

    assert await post(bot, activity) == 200
    turns = {"channel": "teams", "outcome": "help"}
    registry = bot.app[METRICS].registry
    try:
        for _ in range(250):  # the command runs while the indicator is still on its way
            if registry.get_sample_value("chatops_turns_total", turns):
                break
            await asyncio.sleep(0.02)
        assert registry.get_sample_value("chatops_turns_total", turns) == 1.0
        assert connector.messages == []  # the answer waits for the indicator
    finally:
        connector.typing_gate.set()

    await connector.wait_for_messages(1)
    assert [call.body["type"] for call in connector.calls] == ["typing", "message"]


async def test_answers_reuse_the_connection_to_the_bot_connector(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    # The SDK opened a new connection (a TLS handshake against the real connector) per send.
    for number in range(3):
        activity = personal_message(directory, "help", service_url=connector.url)
        assert await post(bot, activity) == 200
        await connector.wait_for_messages(number + 1)

    assert len(connector.calls) == 6  # a typing indicator and an answer per message
    # Kept open and reused: at most two at once (the typing indicator goes out while the
    # sender's e-mail is looked up); a new one per send was six.
    assert len({call.connection for call in connector.calls}) <= 2


async def test_a_mention_in_a_channel_is_answered_in_that_thread(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = channel_mention(directory, "whoami", service_url=connector.url)

    assert await post(bot, activity) == 200
    [reply] = await connector.wait_for_messages(1)

    assert reply.conversation_id == activity["conversation"]["id"]
    card = reply.body["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Who you are to me"  # the mention did not confuse parsing


async def test_staff_are_recognised_by_the_e_mail_teams_reports(
    aiohttp_client: ClientFactory,
    settings: Settings,
    connector: FakeBotConnector,
    directory: Directory,
) -> None:
    erika = StaffMember(name="Erika", email="erika@provider.example", roles=(Role.ENGINEER,))
    staffed = directory.model_copy(update={"staff": (erika,)})
    bot = await aiohttp_client(create_app(settings, directory=staffed))
    activity = personal_message(directory, "help", service_url=connector.url, user="29:erika")
    connector.members["29:erika"] = {
        "id": "29:erika",
        "name": "Erika",
        "email": "Erika@Provider.example",
        "userPrincipalName": "erika@provider.example",
    }

    await post(bot, activity)
    [reply] = await connector.wait_for_messages(1)

    intro = reply.body["attachments"][0]["content"]["body"][1]["text"]
    assert "signed in as **engineer**" in intro


async def test_the_conversation_reference_is_kept_for_later(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "help", service_url=connector.url)
    await post(bot, activity)
    await settle(bot)

    row = await bot.app[STORE].conversations.get(
        channel="teams", conversation_id=activity["conversation"]["id"]
    )
    assert row is not None
    assert row.reference["serviceUrl"] == connector.url
    assert row.reference["user"]["id"] == activity["from"]["id"]


async def test_throttling_is_retried_until_the_answer_is_delivered(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    connector.fail_next(429, {"Retry-After": "0"})
    connector.fail_next(502)

    await post(bot, personal_message(directory, "help", service_url=connector.url))
    [reply] = await connector.wait_for_messages(1, timeout=10)

    assert reply.body["attachments"]


async def test_a_forbidden_conversation_is_given_up_not_retried(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    for _ in range(2):  # the typing indicator and the answer
        connector.fail_next(403)
    await post(bot, personal_message(directory, "help", service_url=connector.url))
    await settle(bot)

    assert connector.messages == []
    assert not connector.failures  # exactly one attempt at the answer, no retry storm
    pending = await bot.app[STORE].inbox.pending(channel="teams", received_before=FAR_FUTURE)
    assert pending == []


async def test_a_card_action_invoke_gets_its_answer_in_the_response(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "", service_url=connector.url)
    activity.update(
        type="invoke",
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "run", "data": {"command": "help"}}},
    )

    response = await bot.post("/api/messages", json=activity)

    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["body"][0]["text"] == "What I can do for you"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"type": 5}', "application/json", 400),
        (b'{"type": "message", "text": "no conversation"}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
        (b"x" * 300_000, "application/json", 413),
    ],
)
async def test_bad_requests_get_a_clear_4xx_and_store_nothing(
    bot: Bot, connector: FakeBotConnector, body: bytes, content_type: str, status: int
) -> None:
    response = await bot.post("/api/messages", data=body, headers={"Content-Type": content_type})

    assert response.status == status
    assert "error" in await response.json()
    await settle(bot)
    assert connector.calls == []
    assert await bot.app[STORE].inbox.pending(channel="teams", received_before=FAR_FUTURE) == []


@pytest.mark.parametrize("channel_id", ["directline", "webchat", "emulator", "", None])
async def test_only_teams_activities_are_accepted_even_without_authentication(
    bot: Bot, connector: FakeBotConnector, directory: Directory, channel_id: str | None
) -> None:
    # Its tenant and Entra object id would be taken as a customer's or an engineer's identity.
    activity = personal_message(directory, "whoami", service_url=connector.url)
    activity["channelId"] = channel_id

    response = await bot.post("/api/messages", json=activity)

    assert response.status == 403
    assert await response.json() == {"error": "only msteams activities are accepted here"}
    await settle(bot)
    assert connector.calls == []
    assert await bot.app[STORE].inbox.pending(channel="teams", received_before=FAR_FUTURE) == []


async def test_unknown_activity_types_are_acknowledged_and_ignored(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    activity = personal_message(directory, "", service_url=connector.url)
    activity["type"] = "messageReaction"

    assert await post(bot, activity) == 200
    await settle(bot)
    assert connector.calls == []


async def test_a_crash_in_a_command_gets_an_apology_not_a_stack_trace(
    aiohttp_client: ClientFactory,
    settings: Settings,
    connector: FakeBotConnector,
    directory: Directory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("secret internals at /srv/app.py line 42")

    monkeypatch.setattr("dialogs.commands.whoami_command", broken)
    bot = await aiohttp_client(create_app(settings, directory=directory))

    await post(bot, personal_message(directory, "whoami", service_url=connector.url))
    [reply] = await connector.wait_for_messages(1)

    assert "something went wrong" in reply.body["text"]
    assert "internals" not in json.dumps(reply.body)


async def test_health_and_metrics(bot: Bot) -> None:
    health = await bot.get("/healthz")
    assert health.status == 200
    assert await health.json() == {"status": "ok"}

    metrics = await bot.get("/metrics")
    assert metrics.status == 200
    assert metrics.content_type == "text/plain"
    text = await metrics.text()
    assert 'chatops_http_requests_total{method="GET",route="healthz",status="200"} 1.0' in text
    assert "chatops_turn_seconds" in text


@pytest.mark.parametrize(
    ("path", "heading"), [("/", "SLA Desk"), ("/privacy", "Privacy"), ("/terms", "Terms of use")]
)
async def test_the_pages_the_teams_manifest_links_to_exist(
    bot: Bot, directory: Directory, path: str, heading: str
) -> None:
    response = await bot.get(path)
    assert response.status == 200
    page = await response.text()
    assert f"<h1>{heading}</h1>" in page
    assert directory.provider.name in page


async def test_unfinished_work_is_resumed_after_a_restart(
    settings: Settings, directory: Directory, connector: FakeBotConnector
) -> None:
    # First run: the connector is down for every attempt, so the answer cannot be sent.
    for _ in range(12):
        connector.fail_next(503, {"Retry-After": "0"})
    async with running(create_app(settings, directory=directory)) as first:
        await post(first, personal_message(directory, "help", service_url=connector.url))
        await settle(first)
    assert connector.messages == []
    connector.failures.clear()

    # Second run on the same database: the accepted message is answered, once.
    async with running(create_app(settings, directory=directory)) as second:
        await settle(second)
        await asyncio.sleep(0)
        [reply] = await connector.wait_for_messages(1)
        await settle(second)
    assert reply.body["attachments"]
    assert len(connector.messages) == 1


async def test_another_person_on_the_same_user_id_is_not_taken_for_the_last_one(
    aiohttp_client: ClientFactory,
    settings: Settings,
    connector: FakeBotConnector,
    directory: Directory,
) -> None:
    # The Agents Playground keeps the current user's id when its configuration switches the
    # person played (Megan, then Adele); Teams names the person by their Entra object id.
    megan = StaffMember(name="Megan", email="megan@provider.example", roles=(Role.ENGINEER,))
    adele = StaffMember(name="Adele", email="adele@provider.example", roles=(Role.MANAGER,))
    bot = await aiohttp_client(
        create_app(settings, directory=directory.model_copy(update={"staff": (megan, adele)}))
    )
    intros: list[str] = []
    for person in (megan, adele):
        connector.members["user-id-0"] = {"id": "user-id-0", "email": person.email}
        activity = personal_message(directory, "help", service_url=connector.url, user="user-id-0")
        activity["from"]["aadObjectId"] = f"aad-{person.name}"
        await post(bot, activity)
        reply = (await connector.wait_for_messages(len(intros) + 1))[-1]
        intros.append(reply.body["attachments"][0]["content"]["body"][1]["text"])

    assert "signed in as **engineer**" in intros[0]
    assert "signed in as **manager**" in intros[1]


async def test_another_person_on_the_same_user_id_does_not_inherit_the_language(
    bot: Bot, connector: FakeBotConnector, directory: Directory
) -> None:
    titles: list[str] = []
    for person, text in (("alex", "language de"), ("alex", "help"), ("megan", "help")):
        activity = personal_message(directory, text, service_url=connector.url, user="user-id-0")
        activity["from"]["aadObjectId"] = f"aad-{person}"
        await post(bot, activity)
        reply = (await connector.wait_for_messages(len(titles) + 1))[-1]
        attachments = reply.body.get("attachments") or []
        titles.append(attachments[0]["content"]["body"][0]["text"] if attachments else "")

    assert titles[1] == "Was ich für Sie tun kann"  # Alex chose German
    assert titles[2] == "What I can do for you"  # Megan did not
