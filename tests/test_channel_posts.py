"""Channel posts (`adapters.ports.ChannelPoster`) over real HTTP: Teams against the fake Bot
Connector, Webex against the fake Webex API through the real webexteamssdk.

The adapters are built directly, with a core that must not be called: posting needs none.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.model import Card, Channel, ConversationRef, Fact, Incoming, Outgoing, SubmitAction
from adapters.ports import ChannelPoster, PendingEvent, Posted
from adapters.retry import RetryPolicy
from adapters.teams import TeamsAdapter, TeamsCredentials
from adapters.webex import WebexAdapter, WebexApi
from adapters.webex.split import MAX_MESSAGE_BYTES
from storage.directory import Directory
from storage.errors import PermanentChannelError, TransientChannelError
from tests.activities import channel_mention
from tests.fake_webex import FakeWebex, running_fake_webex
from tests.fakes import FakeBotConnector

CHANNEL = "19:general@thread.tacv2"
TENANT = "00000000-0000-0000-0000-0000000000001"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
NOWHERE = ConversationRef(Channel.TEAMS, "unused")


class UnusedCore:
    """A `CorePort` for adapters that only send: every inbound call is a test failure."""

    def acknowledgement(self) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    async def accept(
        self, *, channel: Channel, dedupe_key: str, payload: dict[str, Any]
    ) -> int | None:
        raise AssertionError("posting must not accept events")

    async def remember_conversation(
        self, conversation: ConversationRef, *, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        raise AssertionError("posting must not remember conversations")

    async def handle(self, incoming: Incoming) -> list[Outgoing]:
        raise AssertionError("posting must not route messages")

    async def run_event(
        self, channel: Channel, event_id: int, work: Callable[[], Awaitable[None]]
    ) -> None:
        raise AssertionError("posting must not process events")

    async def resume(
        self, channel: Channel, process: Callable[[int, dict[str, Any]], Coroutine[Any, Any, None]]
    ) -> int:
        raise AssertionError("posting must not resume events")

    async def finish(self, event_id: int, *, error: str | None = None) -> None:
        raise AssertionError("posting must not process events")

    async def release(self, event_id: int) -> None:
        raise AssertionError("posting must not process events")

    async def pending(self, channel: Channel) -> Sequence[PendingEvent]:
        return []

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        work.close()
        raise AssertionError("posting must not start background work")

    def observe_turn(self, channel: Channel, seconds: float) -> None:
        """Not used by posting."""

    def count_error(self, where: str) -> None:
        """Not used by posting."""

    def count_duplicate(self, channel: Channel) -> None:
        """Not used by posting."""


class RememberingCore(UnusedCore):
    """Keeps the references the adapter stores; every event counts as already delivered."""

    def __init__(self) -> None:
        self.references: list[dict[str, Any]] = []

    async def remember_conversation(
        self, conversation: ConversationRef, *, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        self.references.append(reference)

    async def accept(
        self, *, channel: Channel, dedupe_key: str, payload: dict[str, Any]
    ) -> int | None:
        return None


def ticket_card(state: str) -> Outgoing:
    """A ticket notification as the watcher would post it."""
    return Outgoing(
        conversation=NOWHERE,
        text=f"**CCS-2026-000001** is {state}",
        card=Card(
            title="CCS-2026-000001",
            facts=(Fact("State", state),),
            actions=(SubmitAction("Take it", {"action": "take", "ticket": "CCS-2026-000001"}),),
        ),
    )


def card_state(activity: dict[str, Any]) -> str:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    facts = {
        f["title"]: f["value"] for b in attachment["content"]["body"] for f in b.get("facts", ())
    }
    return str(facts["State"])


# --- Teams -----------------------------------------------------------------------------------


@pytest.fixture
def teams() -> TeamsAdapter:
    """Authentication off (empty app id), as in local development."""
    return TeamsAdapter(
        credentials=TeamsCredentials(app_id="", app_password=""),
        core=UnusedCore(),
        max_body_bytes=1_000_000,
        retry=FAST,
    )


def teams_target(connector: FakeBotConnector) -> dict[str, Any]:
    """A directory channel entry as the core completes it (service URL and tenant added)."""
    return {
        "team_id": "19:team@thread.tacv2",
        "channel_id": CHANNEL,
        "service_url": connector.url,
        "tenant_id": TENANT,
    }


async def test_teams_post_starts_a_thread_in_the_channel_with_the_card(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))

    [created] = connector.created
    assert created.channel_id == CHANNEL
    assert created.body["isGroup"] is True
    assert created.body["channelData"]["tenant"] == {"id": TENANT}
    assert created.activity["type"] == "message"
    assert card_state(created.activity) == "new"
    assert posted.message_id == created.activity_id
    assert posted.reference == {
        "activityId": created.activity_id,
        "bot": {"id": "28:"},
        "conversation": {
            "id": f"{CHANNEL};messageid={created.activity_id}",
            "conversationType": "channel",
            "isGroup": True,
            "tenantID": TENANT,  # the SDK's own spelling, as in every stored reference
        },
        "channelId": "msteams",
        "serviceUrl": connector.url,
    }


async def test_teams_send_proactive_on_the_post_replies_in_its_thread(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))
    reply = Outgoing(conversation=NOWHERE, text="Erika took it.")

    await teams.send_proactive(posted.reference, [reply])

    [message] = connector.messages
    assert message.conversation_id == f"{CHANNEL};messageid={posted.message_id}"
    assert message.body["text"] == "Erika took it."
    assert message.body["conversation"]["conversationType"] == "channel"
    assert message.body["conversation"]["tenantID"] == TENANT


async def test_teams_update_post_replaces_the_card_of_the_same_activity(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))

    await teams.update_post(posted, ticket_card("in progress"))

    [update] = connector.updated
    assert update.conversation_id == f"{CHANNEL};messageid={posted.message_id}"
    assert update.reply_to_id == posted.message_id  # the PUT's activity id
    assert update.body["id"] == posted.message_id
    assert card_state(update.body) == "in progress"
    assert connector.messages == []  # replaced in place, nothing new in the thread


@pytest.mark.parametrize("status", [429, 412, 502])
async def test_teams_post_is_retried_when_throttled_or_the_gateway_fails(
    teams: TeamsAdapter, connector: FakeBotConnector, status: int
) -> None:
    connector.fail_next(status, {"Retry-After": "0"})

    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))

    [created] = connector.created
    assert posted.message_id == created.activity_id


async def test_teams_update_is_retried_when_throttled(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))
    connector.fail_next(429, {"Retry-After": "0"})

    await teams.update_post(posted, ticket_card("closed"))

    [update] = connector.updated
    assert card_state(update.body) == "closed"


async def test_teams_post_refused_with_403_is_permanent(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    connector.fail_next(403)
    connector.fail_next(403)  # would be used by a (wrong) retry

    with pytest.raises(PermanentChannelError, match="403"):
        await teams.post_to_channel(teams_target(connector), ticket_card("new"))

    assert connector.created == []
    assert len(connector.failures) == 1  # tried once


async def test_teams_update_refused_with_404_is_permanent(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    posted = await teams.post_to_channel(teams_target(connector), ticket_card("new"))
    connector.fail_next(404)

    with pytest.raises(PermanentChannelError, match="404"):
        await teams.update_post(posted, ticket_card("closed"))


async def test_teams_post_gives_up_after_the_retry_budget(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    for _ in range(FAST.attempts):
        connector.fail_next(503, {"Retry-After": "0"})

    with pytest.raises(TransientChannelError, match="503"):
        await teams.post_to_channel(teams_target(connector), ticket_card("new"))


async def test_teams_post_without_a_service_url_is_refused_before_any_call(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    target = {k: v for k, v in teams_target(connector).items() if k != "service_url"}

    with pytest.raises(PermanentChannelError, match="service_url"):
        await teams.post_to_channel(target, ticket_card("new"))

    assert connector.created == []


async def test_teams_post_without_a_tenant_names_the_bots_own_tenant(
    connector: FakeBotConnector,
) -> None:
    teams = TeamsAdapter(
        credentials=TeamsCredentials(app_id="", app_password="", tenant_id="bot-tenant"),
        core=UnusedCore(),
        max_body_bytes=1_000_000,
        retry=FAST,
    )
    target = {**teams_target(connector), "tenant_id": ""}

    posted = await teams.post_to_channel(target, ticket_card("new"))

    assert connector.created[0].body["channelData"]["tenant"] == {"id": "bot-tenant"}
    assert posted.reference["conversation"]["tenantID"] == "bot-tenant"


async def test_teams_post_without_any_tenant_leaves_it_out(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    target = {k: v for k, v in teams_target(connector).items() if k != "tenant_id"}

    posted = await teams.post_to_channel(target, ticket_card("new"))
    await teams.send_proactive(posted.reference, [Outgoing(NOWHERE, "hello")])

    assert "tenant" not in connector.created[0].body["channelData"]
    assert "tenantID" not in posted.reference["conversation"]
    assert len(connector.messages) == 1


async def test_teams_remembered_references_keep_the_tenant(
    aiohttp_client: ClientFactory, connector: FakeBotConnector, directory: Directory
) -> None:
    core = RememberingCore()
    teams = TeamsAdapter(
        credentials=TeamsCredentials(app_id="", app_password=""),
        core=core,
        max_body_bytes=1_000_000,
    )
    app = web.Application()
    app.router.add_post("/api/messages", teams.handle_request)
    client = await aiohttp_client(app)
    activity = channel_mention(directory, "help", service_url=connector.url)

    assert (await client.post("/api/messages", json=activity)).status == 200

    [reference] = core.references
    tenant = directory.customers[0].teams_tenant_ids[0]
    assert reference["conversation"]["tenantID"] == tenant  # the SDK's spelling


async def test_teams_post_uses_a_given_bot_id(
    teams: TeamsAdapter, connector: FakeBotConnector
) -> None:
    target = {**teams_target(connector), "bot_id": "28:the-bot"}

    posted = await teams.post_to_channel(target, ticket_card("new"))
    await teams.send_proactive(posted.reference, [Outgoing(NOWHERE, "hello")])

    assert posted.reference["bot"] == {"id": "28:the-bot"}
    assert connector.messages[0].body["from"]["id"] == "28:the-bot"


# --- Webex -----------------------------------------------------------------------------------


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def webex_adapter(webex: FakeWebex) -> AsyncIterator[WebexAdapter]:
    api = WebexApi(token=webex.token, base_url=webex.base_url, retry=FAST)
    yield WebexAdapter(api=api, core=UnusedCore(), webhook_secret=webex.secret, max_body_bytes=1)
    await api.close()


async def test_webex_post_lands_at_the_top_of_the_space_with_card_and_fallback(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group", "Support CCS")

    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))

    [message] = webex.sent
    assert message["roomId"] == space["id"]
    assert "parentId" not in message
    assert message["markdown"] == "**CCS-2026-000001** is new"
    assert message["text"] == "CCS-2026-000001 is new"
    assert card_state(message) == "new"
    assert posted == Posted(
        reference={"roomId": space["id"], "kind": "group", "parentId": message["id"]},
        message_id=message["id"],
    )


async def test_webex_send_proactive_on_the_post_replies_in_its_thread(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))

    await webex_adapter.send_proactive(posted.reference, [Outgoing(NOWHERE, "Erika took it.")])

    root, reply = webex.sent
    assert reply["roomId"] == space["id"]
    assert reply["parentId"] == root["id"] == posted.message_id
    assert reply["markdown"] == "Erika took it."


async def test_webex_send_proactive_without_parent_stays_at_the_top(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")

    await webex_adapter.send_proactive(
        {"roomId": space["id"], "kind": "group"}, [Outgoing(NOWHERE, "Reminder")]
    )

    [message] = webex.sent
    assert "parentId" not in message


async def test_webex_update_post_answers_in_the_thread_instead_of_editing(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))

    await webex_adapter.update_post(posted, ticket_card("in progress"))

    root, update = webex.sent
    assert update["parentId"] == posted.message_id
    assert card_state(update) == "in progress"
    assert card_state(root) == "new"  # cards cannot be edited in Webex
    assert ("PUT", f"messages/{root['id']}") not in webex.calls


def alert(status: str, owner: str = "–") -> Outgoing:
    """A ticket alert whose card is kept current: its status and owner are state facts."""
    return Outgoing(
        conversation=NOWHERE,
        text=f"**CCS-2026-000001** · {status}",
        card=Card(
            title="CCS-2026-000001 · Fault · Demo Customer GmbH",
            facts=(
                Fact("Product", "Webex Calling"),
                Fact("Status", status, state=True),
                Fact("Owner", owner, state=True),
            ),
            actions=(SubmitAction("Take", {"command": "take CCS-2026-000001"}),),
        ),
    )


async def test_webex_alert_starts_with_a_text_summary_and_has_its_card_in_the_thread(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")

    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, alert("New"))

    root, card = webex.sent
    assert root["id"] == posted.message_id
    assert "parentId" not in root
    assert "attachments" not in root
    assert root["markdown"] == (
        "**CCS-2026-000001 · Fault · Demo Customer GmbH**\nStatus: New\nOwner: –"
    )
    assert root["text"].startswith("CCS-2026-000001 · Fault")
    assert card["parentId"] == root["id"]
    assert card["attachments"][0]["content"]["body"][0]["text"].startswith("CCS-2026-000001")


async def test_webex_alert_update_edits_the_summary_and_says_only_what_changed(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, alert("New"))

    await webex_adapter.update_post(posted, alert("In progress", "Megan Bowen"))

    root, _card, change = webex.sent
    assert root["markdown"].endswith("Status: In progress\nOwner: Megan Bowen")
    assert webex.edits[root["id"]] == 1
    assert change["parentId"] == root["id"]
    assert change["markdown"] == "Status: New → In progress · Owner: – → Megan Bowen"
    assert "attachments" not in change


async def test_webex_alert_whose_buttons_changed_gets_its_current_card_in_the_thread(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, alert("New"))
    [old_card] = [m for m in webex.sent if m.get("attachments")]
    done = alert("Resolved", "Megan Bowen")
    assert done.card is not None
    resolved = replace(done, card=replace(done.card, actions=()))  # nothing left to press

    await webex_adapter.update_post(posted, resolved)

    root, change, card = webex.sent
    assert old_card["id"] not in webex.messages  # its buttons no longer apply
    assert change["markdown"] == "Status: New → Resolved · Owner: – → Megan Bowen"
    assert card["parentId"] == root["id"]
    assert "actions" not in card["attachments"][0]["content"]


async def test_webex_alert_update_without_a_change_posts_and_edits_nothing(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, alert("New"))

    await webex_adapter.update_post(posted, alert("New"))

    assert len(webex.sent) == 2
    assert ("PUT", f"messages/{posted.message_id}") not in webex.calls


async def test_webex_summary_past_its_edit_limit_is_posted_whole_into_the_thread(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, alert("New"))
    for step in range(10):
        await webex_adapter.update_post(posted, alert("New", f"Engineer {step}"))

    await webex_adapter.update_post(posted, alert("Resolved", "Engineer 9"))

    root = webex.messages[posted.message_id]
    *_, change, whole = webex.sent
    assert root["markdown"].endswith("Owner: Engineer 9")  # the tenth edit was the last
    assert change["markdown"] == "Status: New → Resolved"
    assert whole["parentId"] == root["id"]
    assert whole["markdown"].endswith("Status: Resolved\nOwner: Engineer 9")


async def test_webex_update_of_an_alert_posted_as_a_card_answers_with_the_card(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    """Alerts posted before summaries existed have their card at the top: not editable."""
    space = webex.add_room("group")
    old = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))

    await webex_adapter.update_post(old, alert("In progress", "Megan Bowen"))

    root, update = webex.sent
    assert update["parentId"] == root["id"]
    assert update["attachments"]
    assert webex.edits == {}


async def test_fake_webex_edits_like_webex(webex: FakeWebex, webex_adapter: WebexAdapter) -> None:
    """The fake's edit rules, through the real SDK: what the adapter relies on is real."""
    space = webex.add_room("group")
    clara = webex.add_person("Clara", "clara@example.com")
    theirs = webex.say(clara, space, "hello")
    card = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))
    api = webex_adapter._api  # the facade under the adapter

    with pytest.raises(PermanentChannelError, match="404"):
        await api.edit_message("no-such-message", {"roomId": space["id"], "text": "x"})
    with pytest.raises(PermanentChannelError, match="403"):
        await api.edit_message(theirs["id"], {"roomId": space["id"], "text": "x"})
    with pytest.raises(PermanentChannelError, match="400"):
        await api.edit_message(card.message_id, {"roomId": space["id"], "text": "x"})


async def test_webex_long_post_continues_in_its_own_thread(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    paragraph = "word " * 400
    long_text = "\n\n".join([paragraph] * (MAX_MESSAGE_BYTES // len(paragraph) + 2))

    posted = await webex_adapter.post_to_channel(
        {"room_id": space["id"]}, Outgoing(NOWHERE, long_text)
    )

    root, *rest = webex.sent
    assert rest
    assert "parentId" not in root
    assert all(part["parentId"] == root["id"] == posted.message_id for part in rest)


async def test_webex_post_is_retried_when_throttled(
    webex: FakeWebex, webex_adapter: WebexAdapter
) -> None:
    space = webex.add_room("group")
    webex.fail_next(429, **{"Retry-After": "0"})

    posted = await webex_adapter.post_to_channel({"room_id": space["id"]}, ticket_card("new"))

    assert [m["id"] for m in webex.sent] == [posted.message_id]


async def test_webex_post_to_an_unknown_space_is_permanent(webex_adapter: WebexAdapter) -> None:
    with pytest.raises(PermanentChannelError, match="404"):
        await webex_adapter.post_to_channel({"room_id": "no-such-room"}, ticket_card("new"))


def test_both_adapters_are_channel_posters(
    teams: TeamsAdapter, webex_adapter: WebexAdapter
) -> None:
    posters: list[ChannelPoster] = [teams, webex_adapter]  # checked by mypy
    assert all(callable(p.post_to_channel) and callable(p.update_post) for p in posters)
