"""The outbox: delivered once per (event, target), retried on 429/503, dead after repeated
failure and reported to the managers, and nothing lost or repeated across a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.model import Channel, Outgoing
from adapters.ports import Posted
from bot.outbox import Dispatcher
from dialogs.notify import Notifier
from storage.directory import Directory
from storage.errors import PermanentChannelError, TransientChannelError
from storage.models import OutboxStatus
from storage.repositories import Store
from tests.samples import sample_ticket

NOW = datetime.fromisoformat("2026-01-07T15:30:00+01:00")


class FakeChannel:
    """Records sends and posts; fails the next calls on request."""

    def __init__(self) -> None:
        self.sent: list[tuple[dict[str, Any], list[str]]] = []
        self.posts: list[tuple[dict[str, Any], str]] = []
        self.failures: list[Exception] = []
        self.posted = asyncio.Event()

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    async def send_proactive(self, reference: dict[str, Any], answers: Sequence[Outgoing]) -> None:
        self._maybe_fail()
        self.sent.append((reference, [answer.text for answer in answers]))

    async def post_to_channel(self, target: dict[str, Any], answer: Outgoing) -> Posted:
        self._maybe_fail()
        self.posts.append((target, answer.text))
        self.posted.set()
        root = f"root-{len(self.posts)}"
        return Posted(reference={"thread": root}, message_id=root)

    async def update_post(self, posted: Posted, answer: Outgoing) -> None:
        self._maybe_fail()
        self.sent.append((posted.reference, [f"updated: {answer.text}"]))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def teams() -> FakeChannel:
    return FakeChannel()


def dispatcher(store: Store, directory: Directory, clock: Clock, teams: FakeChannel) -> Dispatcher:
    notifier = Notifier(store=store, directory=directory, clock=clock)
    return Dispatcher(
        store=store,
        senders={Channel.TEAMS: teams},
        posters={Channel.TEAMS: teams},
        notifier=notifier,
        clock=clock,
    )


def message(text: str) -> dict[str, Any]:
    return {
        "answers": [
            {
                "conversation": {"channel": "teams", "conversation_id": "c"},
                "text": text,
                "card": None,
                "reply_to": None,
                "extra": {},
            }
        ]
    }


async def queue(store: Store, key: str, text: str, *, kind: str = "conversation") -> int | None:
    target = {"conversation_id": "a:1"} if kind == "conversation" else {"channel_id": "team-id"}
    return await store.outbox.enqueue(
        dedupe_key=key, channel="teams", kind=kind, target=target, payload=message(text), now=NOW
    )


@pytest.fixture
async def reachable(store: Store) -> Store:
    await store.conversations.save(
        channel="teams",
        conversation_id="a:1",
        kind="personal",
        user_id="u",
        reference={
            "serviceUrl": "https://smba.example/emea/",
            "conversation": {"id": "a:1", "tenantId": "t-1"},
        },
        now=NOW,
    )
    return store


async def test_each_event_and_target_is_delivered_once(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    assert await queue(reachable, "working:CCS-1:customer", "hello") is not None
    assert await queue(reachable, "working:CCS-1:customer", "hello again") is None

    sent = await dispatcher(reachable, directory, clock, teams).deliver_due()
    assert sent == 1
    assert await dispatcher(reachable, directory, clock, teams).deliver_due() == 0
    assert teams.sent == [
        (
            {
                "serviceUrl": "https://smba.example/emea/",
                "conversation": {"id": "a:1", "tenantId": "t-1"},
            },
            ["hello"],
        )
    ]


async def test_throttling_and_outages_are_retried_with_backoff(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    teams.failures = [
        TransientChannelError("HTTP 429", retry_after=30),
        TransientChannelError("HTTP 503"),
    ]
    row_id = await queue(reachable, "e1", "hello")
    assert row_id is not None
    outbox = dispatcher(reachable, directory, clock, teams)

    assert await outbox.deliver_due() == 0
    clock.now += timedelta(seconds=29)
    assert await outbox.deliver_due() == 0  # Retry-After is honoured
    clock.now += timedelta(seconds=2)
    assert await outbox.deliver_due() == 0  # the 503
    clock.now += timedelta(seconds=11)
    assert await outbox.deliver_due() == 1

    assert [texts for _ref, texts in teams.sent] == [["hello"]]
    row = await reachable.outbox.get(row_id)
    assert row is not None
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


async def test_repeated_failure_marks_dead_and_tells_the_managers_once(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    row_id = await queue(reachable, "e2", "hello")
    teams.failures = [PermanentChannelError("HTTP 403: the bot was removed")]
    outbox = dispatcher(reachable, directory, clock, teams)

    await outbox.deliver_due()
    await outbox.report_dead()
    await outbox.report_dead()
    await outbox.deliver_due()

    assert row_id is not None
    row = await reachable.outbox.get(row_id)
    assert row is not None and row.status == OutboxStatus.DEAD
    [(target, report)] = teams.posts
    assert target["channel_id"] == "channel-announcements-id"  # the managers' channel
    assert "Could not deliver a message" in report
    assert "the bot was removed" in report


async def test_the_running_dispatcher_reports_a_message_it_gave_up_on_at_once(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    outbox = dispatcher(reachable, directory, clock, teams)
    checked = asyncio.Event()
    report_dead = outbox.report_dead

    async def noted_report_dead() -> None:
        await report_dead()
        checked.set()

    outbox.report_dead = noted_report_dead  # type: ignore[method-assign]
    running = asyncio.create_task(outbox.run(poll=0.01))
    try:
        await asyncio.wait_for(checked.wait(), 5)  # the start-up check is behind it
        teams.failures = [PermanentChannelError("HTTP 403: the bot was removed")]
        await queue(reachable, "e3", "hello")
        await asyncio.wait_for(teams.posted.wait(), 5)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    [(target, report)] = teams.posts
    assert target["channel_id"] == "channel-announcements-id"
    assert "the bot was removed" in report


async def test_a_thread_message_waits_for_its_alert(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    from tests.transcript import FIXED_NOW

    await reachable.customers.sync(customers=directory.customers, now=FIXED_NOW)
    ticket_id = await _ticket(reachable)
    await reachable.outbox.enqueue(
        dedupe_key="note:thread",
        channel="teams",
        kind="thread",
        target={},
        payload=message("a note"),
        now=NOW,
        ticket_id=ticket_id,
    )
    outbox = dispatcher(reachable, directory, clock, teams)
    assert await outbox.deliver_due() == 0  # no alert thread yet: later

    await reachable.outbox.enqueue(
        dedupe_key="alert",
        channel="teams",
        kind="channel",
        target={"channel_id": "team-id"},
        payload=message("the alert"),
        now=NOW,
        ticket_id=ticket_id,
    )
    assert await outbox.deliver_due() == 1
    clock.now += timedelta(seconds=10)
    assert await outbox.deliver_due() == 1

    assert teams.posts[0][0]["service_url"] == "https://smba.example/emea/"
    # only a conversation of the personal chat is known: its serviceUrl, not its tenant
    assert teams.posts[0][0]["tenant_id"] == ""
    assert teams.sent == [({"thread": "root-1"}, ["a note"])]


async def test_a_restart_after_claiming_loses_and_repeats_nothing(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    await queue(reachable, "e3", "hello")
    # A replica claims the row and dies before sending.
    [claimed] = await reachable.outbox.claim(now=clock.now)
    assert claimed.dedupe_key == "e3"
    restarted = dispatcher(reachable, directory, clock, teams)
    assert await restarted.deliver_due() == 0  # still leased to the dead replica

    clock.now += timedelta(minutes=11)  # the lease runs out
    assert await restarted.deliver_due() == 1
    assert await restarted.deliver_due() == 0
    assert [texts for _ref, texts in teams.sent] == [["hello"]]


async def _ticket(store: Store) -> int:
    row, _ = await store.tickets.create(
        sample_ticket(),
        prefix="CCS",
        year=2026,
        now=NOW,
    )
    assert row.id is not None
    return row.id


async def test_a_channel_post_takes_the_tenant_from_that_teams_own_conversations(
    reachable: Store, directory: Directory, clock: Clock, teams: FakeChannel
) -> None:
    await reachable.conversations.save(
        channel="teams",
        conversation_id="team-id;messageid=17",
        kind="channel",
        user_id="u",
        reference={
            "serviceUrl": "https://smba.example/team/",
            "conversation": {"id": "team-id;messageid=17", "tenantID": "provider"},
        },
        now=NOW - timedelta(days=1),
    )
    await queue(reachable, "post", "hello team", kind="channel")

    await dispatcher(reachable, directory, clock, teams).deliver_due()

    [(target, _text)] = teams.posts
    assert (target["service_url"], target["tenant_id"]) == (
        "https://smba.example/team/",
        "provider",
    )
