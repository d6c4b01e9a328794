"""Outbound webhooks, over real HTTP to a receiver that verifies every signature with the
`standardwebhooks` verifier: what a subscription hears about, in which order, retried after a
500 or a timeout with the same `webhook-id`, given up after repeated failure (and the managers
told once), disabled by 410 Gone, never another customer's events. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from adapters.api import SCOPES, Principal
from adapters.api import models as wire
from adapters.model import Channel, Outgoing
from adapters.ports import Posted
from bot.app import STORE, Overrides, create_app
from bot.integration import Integration
from bot.outbox import WEBHOOK_MAX_ATTEMPTS, Dispatcher
from bot.settings import EXAMPLE_DIRECTORY, Settings
from bot.watcher import SlaWatcher
from bot.webhook_payloads import openapi_webhooks
from bot.webhooks import WebhookSender
from dialogs.notify import Notifier
from storage.directory import Directory
from storage.models import CustomerRow, OutboxRow, OutboxStatus
from storage.repositories import Store
from storage.webhooks import WebhookEvent
from tests.activities import personal_message
from tests.fake_webhook_receiver import HANG, WebhookReceiver
from tests.fakes import FakeBotConnector
from tests.samples import sample_ticket
from tests.serving import running
from tests.transcript import Transcript, customer_contact, report_by_card, staff_member

NUMBER = "CCS-2026-000001"
EVERYTHING = [event.value for event in WebhookEvent]


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


class ChatChannel:
    """Takes every chat message the dispatcher sends (the webhooks are what is tested)."""

    def __init__(self) -> None:
        self.posts: list[str] = []

    async def send_proactive(self, reference: dict[str, Any], answers: Sequence[Outgoing]) -> None:
        pass

    async def post_to_channel(self, target: dict[str, Any], answer: Outgoing) -> Posted:
        self.posts.append(answer.text)
        return Posted(reference={"thread": len(self.posts)}, message_id=f"m{len(self.posts)}")

    async def update_post(self, posted: Posted, answer: Outgoing) -> None:
        pass


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    await store.conversations.save(  # the bot is installed in Teams: it can post to channels
        channel="teams",
        conversation_id="a:1",
        kind="personal",
        user_id="u",
        reference={"serviceUrl": "https://smba.example/emea/", "conversation": {"id": "a:1"}},
        now=vienna("2026-01-01T00:00"),
    )
    transcript = Transcript(directory, store, blob_root=tmp_path / "files")
    transcript.now = vienna("2026-01-07T10:00")
    return transcript


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    fake = WebhookReceiver(hang_seconds=1.5)
    await fake.start()
    yield fake
    await fake.close()
    assert fake.invalid == []  # every payload it got fits the documented schema


@pytest.fixture
def chat() -> ChatChannel:
    return ChatChannel()


@pytest.fixture
async def outbox(bot: Transcript, chat: ChatChannel) -> AsyncIterator[Dispatcher]:
    services = bot.services
    sender = WebhookSender(store=services.store, allow_insecure=True, timeout_seconds=0.5)
    yield Dispatcher(
        store=services.store,
        senders={Channel.TEAMS: chat},
        posters={Channel.TEAMS: chat},
        notifier=Notifier(store=services.store, directory=services.directory, clock=services.clock),
        clock=services.clock,
        webhooks=sender,
    )
    await sender.close()


async def subscribe(
    bot: Transcript, receiver: WebhookReceiver, events: Sequence[str], customer: str | None = None
) -> int:
    row = await bot.services.store.webhooks.add(
        url=receiver.url, events=events, customer_key=customer, now=bot.now
    )
    receiver.secret = row.secret
    assert row.id is not None
    return row.id


async def deliveries(store: Store) -> list[OutboxRow]:
    async with store.database.session() as session:
        query = (
            select(OutboxRow).where(col(OutboxRow.kind) == "webhook").order_by(col(OutboxRow.id))
        )
        return list((await session.scalars(query)).all())


async def test_a_ticket_lifecycle_reaches_the_receiver_signed_and_in_order(
    bot: Transcript, directory: Directory, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    clara, erika = customer_contact(directory), staff_member(directory, "engineer")
    await subscribe(bot, receiver, EVERYTHING)

    await report_by_card(bot, clara)
    await bot.say(f"take {NUMBER}", sender=erika)
    await bot.say(f"note {NUMBER} Looks like a carrier issue", sender=erika)
    await bot.say(f"reply {NUMBER} Please restart the phone once more", sender=erika)
    await bot.say("Restarted, still dropping", sender=clara)
    await bot.say(f"effort {NUMBER} 45m trunk analysis", sender=erika)
    await bot.say(f"resolve {NUMBER} Carrier fixed the trunk", sender=erika)
    await bot.say(f"reopen {NUMBER}", sender=erika)
    while await outbox.deliver_due():
        pass

    assert receiver.rejected == []
    assert receiver.types() == [
        "ticket.created",
        "ticket.taken",
        "ticket.acknowledged",
        "ticket.note",
        "ticket.engineer_reply",
        "ticket.customer_reply",
        "ticket.effort_logged",
        "ticket.resolved",
        "ticket.reopened",
    ]
    by_type = {delivery.type: delivery.payload for delivery in receiver.received}
    created = by_type["ticket.created"]
    assert created["schema_version"] == 1
    assert created["data"]["ticket"]["number"] == NUMBER
    assert created["data"]["ticket"]["description"] == "Calls drop after 30 seconds on all phones"
    assert by_type["ticket.taken"]["data"]["ticket"]["owner_name"] == erika.name
    assert by_type["ticket.note"]["data"]["text"] == "Looks like a carrier issue"
    assert by_type["ticket.customer_reply"]["data"]["text"] == "Restarted, still dropping"
    assert by_type["ticket.effort_logged"]["data"]["minutes"] == 45
    assert by_type["ticket.effort_logged"]["data"]["billable"] is False  # a fault
    resolved = by_type["ticket.resolved"]["data"]
    assert (resolved["summary"], resolved["ticket"]["status"]) == (
        "Carrier fixed the trunk",
        "resolved",
    )
    assert by_type["ticket.reopened"]["data"]["ticket"]["status"] == "open"
    ids = [delivery.webhook_id for delivery in receiver.received]
    assert len(set(ids)) == len(ids)


async def test_a_subscription_hears_only_the_events_it_asked_for(
    bot: Transcript, directory: Directory, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    clara, erika = customer_contact(directory), staff_member(directory, "engineer")
    await subscribe(bot, receiver, ["ticket.created", "ticket.resolved"])

    await report_by_card(bot, clara)
    await bot.say(f"ack {NUMBER}", sender=erika)
    await bot.say(f"resolve {NUMBER} done", sender=erika)
    while await outbox.deliver_due():
        pass

    assert receiver.types() == ["ticket.created", "ticket.resolved"]


async def test_a_500_and_a_timeout_are_retried_with_the_same_id_and_body(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    await subscribe(bot, receiver, ["ticket.created"])
    receiver.script = [500, HANG]
    await bot.services.store.tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)

    assert await outbox.deliver_due() == 0  # 500
    bot.now += timedelta(seconds=4)
    assert await outbox.deliver_due() == 0  # not due yet: the first retry waits 5 s
    bot.now += timedelta(seconds=1)
    assert await outbox.deliver_due() == 0  # no answer in time
    bot.now += timedelta(seconds=10)
    assert await outbox.deliver_due() == 1

    attempts = receiver.received
    assert len(attempts) == 3
    assert len({a.webhook_id for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    [row] = await deliveries(bot.services.store)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert "did not answer within" in (row.last_error or "")


async def test_a_later_event_of_a_ticket_waits_for_the_earlier_one_others_do_not(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    await subscribe(bot, receiver, ["ticket.created", "ticket.resolved"])
    tickets = bot.services.store.tickets
    first, _ = await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
    assert first.id is not None
    await tickets.append(first.id, kind="resolved", at=bot.now, data={"summary": "done"})
    await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
    receiver.script = [503]

    while await outbox.deliver_due():
        pass
    assert [(d.type, d.number) for d in receiver.received] == [
        ("ticket.created", "CCS-2026-000001"),  # 503
        ("ticket.created", "CCS-2026-000002"),  # another ticket goes ahead
    ]

    bot.now += timedelta(seconds=5)
    while await outbox.deliver_due():
        pass
    assert [(d.type, d.number) for d in receiver.received[2:]] == [
        ("ticket.created", "CCS-2026-000001"),
        ("ticket.resolved", "CCS-2026-000001"),
    ]


async def test_repeated_failure_gives_up_tells_the_managers_once_and_unblocks_the_ticket(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher, chat: ChatChannel
) -> None:
    subscription = await subscribe(bot, receiver, ["ticket.created", "ticket.resolved"])
    tickets = bot.services.store.tickets
    ticket, _ = await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
    assert ticket.id is not None
    receiver.script = [500] * WEBHOOK_MAX_ATTEMPTS

    for _attempt in range(WEBHOOK_MAX_ATTEMPTS):
        await outbox.deliver_due()
        bot.now += timedelta(hours=1)
    await outbox.report_dead()
    await outbox.report_dead()
    await outbox.deliver_due()

    [row] = await deliveries(bot.services.store)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, WEBHOOK_MAX_ATTEMPTS)
    [note] = [text for text in chat.posts if "webhook" in text]
    assert f"ticket.created about {ticket.number} to subscription {subscription}" in note
    assert "HTTP 500" in note

    await tickets.append(ticket.id, kind="resolved", at=bot.now, data={"summary": "done"})
    await outbox.deliver_due()
    assert receiver.types()[-1] == "ticket.resolved"  # the dead one no longer holds it up


async def test_410_gone_disables_the_subscription_and_drops_what_was_queued(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher, chat: ChatChannel
) -> None:
    subscription = await subscribe(bot, receiver, ["ticket.created", "ticket.resolved"])
    tickets = bot.services.store.tickets
    ticket, _ = await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
    assert ticket.id is not None
    await tickets.append(ticket.id, kind="resolved", at=bot.now, data={"summary": "done"})
    receiver.script = [410]

    await outbox.deliver_due()
    await outbox.report_dead()
    await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
    await outbox.deliver_due()

    assert receiver.types() == ["ticket.created"]  # nothing after the 410
    row = await bot.services.store.webhooks.get(subscription)
    assert row is not None and not row.active
    assert "410" in (row.disabled_reason or "")
    assert [row.status for row in await deliveries(bot.services.store)] == [
        OutboxStatus.DEAD,
        OutboxStatus.DEAD,
    ]
    [note] = [text for text in chat.posts if "webhook" in text]
    assert "410 Gone" in note


async def test_a_redirect_is_not_followed(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    await subscribe(bot, receiver, ["ticket.created"])
    receiver.script = [307]
    await bot.services.store.tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)

    assert await outbox.deliver_due() == 0

    assert len(receiver.received) == 1  # the target of the redirect was never asked
    [row] = await deliveries(bot.services.store)
    assert (row.status, row.last_error) == (OutboxStatus.PENDING, "the receiver answered HTTP 307")


async def test_a_customer_bound_subscription_hears_only_its_customers_tickets(
    bot: Transcript, outbox: Dispatcher
) -> None:
    async with bot.services.store.database.session() as session:
        session.add(CustomerRow(key="acme", name="Acme", first_seen=bot.now, updated_at=bot.now))
    demo_only, everyone = WebhookReceiver(), WebhookReceiver()
    for fake in (demo_only, everyone):
        await fake.start()
    try:
        await subscribe(bot, demo_only, ["ticket.created"], customer="demo")
        await subscribe(bot, everyone, ["ticket.created"])
        tickets = bot.services.store.tickets
        await tickets.create(
            sample_ticket(customer_key="acme"), prefix="CCS", year=2026, now=bot.now
        )
        await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
        while await outbox.deliver_due():
            pass
    finally:
        for fake in (demo_only, everyone):
            await fake.close()

    assert [d.payload["data"]["ticket"]["customer"] for d in demo_only.received] == ["demo"]
    assert sorted(d.payload["data"]["ticket"]["customer"] for d in everyone.received) == [
        "acme",
        "demo",
    ]
    assert demo_only.invalid == everyone.invalid == []


async def test_sla_warnings_and_the_breach_are_published_with_the_deadline(
    bot: Transcript, directory: Directory, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    await subscribe(bot, receiver, ["sla.warning", "sla.breached"])
    bot.now = vienna("2026-01-07T15:30")  # Wednesday; P2: 4h, due Thursday 10:30
    await report_by_card(bot, customer_contact(directory))
    watcher = SlaWatcher(bot.services)

    bot.now = vienna("2026-01-08T10:30")
    await watcher.check()
    while await outbox.deliver_due():
        pass

    assert receiver.types() == ["sla.warning"] * 3 + ["sla.breached"]
    notices = [d.payload["data"] for d in receiver.received]
    assert [(n["clock"], n["percent"]) for n in notices] == [
        ("reaction", 50),
        ("reaction", 75),
        ("reaction", 90),
        ("reaction", 100),
    ]
    assert {datetime.fromisoformat(n["deadline"]) for n in notices} == {vienna("2026-01-08T10:30")}


async def test_the_running_dispatcher_delivers_at_once_without_waiting_for_its_poll(
    bot: Transcript, receiver: WebhookReceiver, outbox: Dispatcher
) -> None:
    await subscribe(bot, receiver, ["ticket.created"])
    bot.services.store.webhooks.on_queued = outbox.wake
    running = asyncio.create_task(outbox.run(poll=3600))
    try:
        await asyncio.sleep(0.1)  # the first pass found nothing and sleeps for an hour
        await bot.services.store.tickets.create(
            sample_ticket(), prefix="CCS", year=2026, now=bot.now
        )
        await receiver.wait_for(1)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert receiver.types() == ["ticket.created"]


async def test_a_delivery_pending_at_shutdown_goes_out_after_a_restart(
    tmp_path: Path, directory: Directory, receiver: WebhookReceiver, connector: FakeBotConnector
) -> None:
    settings = Settings(
        data_dir=tmp_path / "var",
        directory=EXAMPLE_DIRECTORY,
        webhooks_allow_insecure=True,
        webhook_timeout=2.0,
    )
    receiver.script = [503]
    async with running(create_app(settings)) as bot:
        store = bot.app[STORE]
        await subscribe_in(store, receiver, ["ticket.customer_reply"])
        ticket, _ = await store.tickets.create(
            sample_ticket(reporter_user_id="29:clara", conversation_id="a:personal-29:clara"),
            prefix="CCS",
            year=2026,
            now=datetime.now(UTC),
        )
        assert ticket.id is not None
        question = {"text": "Does it happen after a restart?"}  # Clara's answer belongs to it
        await store.tickets.append(
            ticket.id, kind="engineer_reply", at=datetime.now(UTC), data=question
        )
        said = personal_message(directory, "Restarted, still dropping", service_url=connector.url)
        answered = await bot.post("/api/messages", json=said)
        assert answered.status < 300
        # answered 503: to be retried in 5 s (a served app reads its understanding first)
        [first] = await receiver.wait_for(1, timeout=60)
    [row] = await deliveries(store)
    assert row.status == OutboxStatus.PENDING

    later = Overrides(clock=lambda: datetime.now(UTC) + timedelta(seconds=6))
    async with running(create_app(settings, overrides=later)):
        await receiver.wait_for(2, timeout=60)

    again = receiver.received[1]
    assert (again.webhook_id, again.body) == (first.webhook_id, first.body)
    assert again.payload["data"]["text"] == "Restarted, still dropping"
    assert receiver.rejected == []


async def subscribe_in(store: Store, receiver: WebhookReceiver, events: Sequence[str]) -> None:
    row = await store.webhooks.add(
        url=receiver.url, events=events, customer_key=None, now=datetime.now(UTC)
    )
    receiver.secret = row.secret


async def test_a_receiver_on_a_private_address_is_never_connected_to(
    bot: Transcript, receiver: WebhookReceiver
) -> None:
    services = bot.services
    port = receiver.url.split(":")[2].split("/")[0]
    await services.store.webhooks.add(  # as if its name had later moved to a private address
        url=f"https://localhost:{port}/hooks/chatops",
        events=["ticket.created"],
        customer_key=None,
        now=bot.now,
    )
    await _create_a_ticket_and_deliver_with_the_production_sender(bot)

    assert (receiver.received, receiver.rejected) == ([], [])
    [row] = await deliveries(services.store)
    assert "localhost has no public address" in (row.last_error or "")


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_a_receiver_written_as_a_private_address_is_never_connected_to(
    bot: Transcript, scheme: str
) -> None:
    # Stored while CHATOPS_WEBHOOKS_ALLOW_INSECURE was on, or written to the database by hand:
    # an address in the URL is not resolved, so the resolver that guards names never sees it.
    connections: list[asyncio.StreamWriter] = []

    def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    services = bot.services
    await services.store.webhooks.add(
        url=f"{scheme}://127.0.0.1:{port}/hooks/chatops",
        events=["ticket.created"],
        customer_key=None,
        now=bot.now,
    )
    try:
        await _create_a_ticket_and_deliver_with_the_production_sender(bot)
    finally:
        listener.close()
        await listener.wait_closed()

    assert connections == []
    [row] = await deliveries(services.store)
    assert "refused" in (row.last_error or "")


def test_the_openapi_webhooks_section_documents_every_event_type() -> None:
    webhooks, components = openapi_webhooks()

    assert set(webhooks) == {event.value for event in WebhookEvent}
    refs = re.findall(
        r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps([webhooks, components])
    )
    assert refs and set(refs) <= set(components)
    resolved = components["TicketResolvedWebhook"]
    assert resolved["properties"]["type"]["const"] == "ticket.resolved"
    assert set(resolved["required"]) >= {"type", "timestamp", "data"}


# --- the same events from the integration API -----------------------------------------------

# Each event type of the API, the chat command that does the same, and the event's body.
SAME_ACTION: dict[str, tuple[str, dict[str, Any]]] = {
    "ack": ("ack {n}", {}),
    "take": ("take {n}", {}),
    "assign": ("assign {n} adelev@example.com", {"to": "adelev@example.com"}),
    "note": ("note {n} Trunk looks fine", {"text": "Trunk looks fine"}),
    "reply": ("reply {n} Please restart the phone", {"text": "Please restart the phone"}),
    "ask_logs": ("ask-logs {n} the phone's logs", {"what": "the phone's logs"}),
    "vendor": ("vendor {n} cisco 698812345", {"vendor": "cisco", "case": "698812345"}),
    "resolve": ("resolve {n} Carrier fixed the trunk", {"summary": "Carrier fixed the trunk"}),
    "reopen": ("reopen {n}", {}),
    "effort": ("effort {n} 45m trunk analysis", {"minutes": 45, "note": "trunk analysis"}),
}
# Who did it is named differently (a chat user, the token); the rest of `data` is the event's.
WHO = {"actor", "ticket", "by"}


@pytest.mark.parametrize("event", sorted(SAME_ACTION))
async def test_an_api_write_publishes_what_the_same_action_in_chat_does(
    bot: Transcript, directory: Directory, receiver: WebhookReceiver, outbox: Dispatcher, event: str
) -> None:
    erika = staff_member(directory, "engineer")
    tickets = bot.services.store.tickets
    in_chat, by_api = [
        (await tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now))[0]
        for _ in range(2)
    ]
    if event == "reopen":
        for ticket in (in_chat, by_api):
            await bot.say(f"resolve {ticket.number} done", sender=erika)
    await subscribe(bot, receiver, EVERYTHING)
    command, body = SAME_ACTION[event]

    await bot.say(command.format(n=in_chat.number), sender=erika)
    psa = Principal("psa", frozenset(SCOPES))
    new_event = wire.NewEvent.model_validate({"type": event, **body})
    await Integration(bot.services).add_event(psa, by_api.number, new_event, "request-1")
    while await outbox.deliver_due():
        pass

    def published(number: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (d.type, {k: v for k, v in d.payload["data"].items() if k not in WHO})
            for d in receiver.received
            if d.number == number
        ]

    assert published(in_chat.number)  # every write is published
    assert published(by_api.number) == published(in_chat.number)
    actors = {d.payload["data"]["actor"] for d in receiver.received if d.number == by_api.number}
    assert actors == {"api:psa"}  # the token's name, as in the event log
    # The ticket after each event: the same state, and an owner where the chat gave one.
    assert ticket_states(receiver, by_api.number) == ticket_states(receiver, in_chat.number)
    if event in ("ack", "take", "assign"):  # the delivery already names the new owner
        assert all(owned for _type, _state, owned in ticket_states(receiver, by_api.number))


def ticket_states(receiver: WebhookReceiver, number: str) -> list[tuple[str, str, bool]]:
    return [
        (
            d.type,
            d.payload["data"]["ticket"]["status"],
            d.payload["data"]["ticket"]["owner_id"] is not None,
        )
        for d in receiver.received
        if d.number == number
    ]


def test_the_readme_lists_every_event_type_and_no_other() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Outbound webhooks", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `((?:ticket|sla)\.[a-z_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(EVERYTHING)


async def _create_a_ticket_and_deliver_with_the_production_sender(bot: Transcript) -> None:
    """One ticket created and the outbox run once through the real webhook sender (with its
    filtering resolver), which must deliver nothing."""
    services = bot.services
    production = WebhookSender(store=services.store)
    outbox = Dispatcher(
        store=services.store,
        senders={},
        posters={},
        notifier=Notifier(store=services.store, directory=services.directory, clock=services.clock),
        clock=services.clock,
        webhooks=production,
    )
    try:
        await services.store.tickets.create(sample_ticket(), prefix="CCS", year=2026, now=bot.now)
        assert await outbox.deliver_due() == 0
    finally:
        await production.close()
