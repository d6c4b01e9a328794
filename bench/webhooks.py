"""Benchmark: outbound webhook deliveries per second to a local receiver.

A fresh database (SQLite in a temporary folder, or `--database-url postgresql+asyncpg://…` of
an empty database, migrated here) gets one subscription to every event type. Tickets are
created and events appended through the repositories the bot uses (`Tickets.create`,
`Tickets.append`), so the deliveries are queued exactly as in production: in the event's own
transaction. Then the outbox dispatcher (`Dispatcher.deliver_due`, as its loop runs it) sends
them, signed, over HTTP to a receiver in another process (it verifies every signature with
the `standardwebhooks` verifier and answers 200).

Measured:
(a) queueing: ticket events appended per second with one subscription (each queues one
    delivery in its transaction), against the same without any subscription;
(b) delivering many tickets' events (`--tickets` tickets, `--events` each): deliveries per
    second, end to end, until the outbox is empty (deliveries about different tickets go out
    concurrently within a claimed batch);
(c) delivering one ticket's events: strictly one after another (each waits for the one
    before it), the floor for a single busy ticket.

Run: `.venv/bin/python bench/webhooks.py` (about a minute; `--tickets 50` for a quick run).
Reported, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/webhooks.py`
    sys.path.insert(0, str(ROOT))

from bot.outbox import Dispatcher  # noqa: E402
from bot.settings import EXAMPLE_DIRECTORY  # noqa: E402
from bot.webhooks import WebhookSender  # noqa: E402
from dialogs.notify import Notifier  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.directory import Priority, load_directory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.repositories import Store  # noqa: E402
from storage.tickets import NewTicket  # noqa: E402
from storage.webhooks import WebhookEvent  # noqa: E402

KINDS = ("acknowledged", "note", "engineer_reply", "customer_message", "resolved", "reopened")


def receiver_process(secret: str, ports: Any, asks: Any, counts: Any) -> None:
    """The receiver: verifies each signature, answers 200, reports its count when asked."""
    from aiohttp import web
    from standardwebhooks.webhooks import Webhook

    verifier = Webhook(secret)
    received = 0

    async def handle(request: web.Request) -> web.Response:
        nonlocal received
        verifier.verify(await request.read(), dict(request.headers), json_parse=False)
        received += 1
        return web.Response(status=204)

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/hooks", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        ports.put(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        while True:
            await asyncio.sleep(0.2)
            if not asks.empty() and asks.get() == "count?":
                counts.put(received)

    asyncio.run(serve())


def ticket() -> NewTicket:
    return NewTicket(
        customer_key="demo",
        kind="fault",
        contract="CCSB",
        product="webex-calling",
        priority=Priority.P2,
        description="calls drop",
        since=None,
        affected="all",
        tested="restart",
        phone="+43 1",
        language="en",
        reporter_channel="teams",
        reporter_user_id="u",
        reporter_name="Clara",
        conversation_id="a:1",
    )


async def add_events(store: Store, tickets: int, events: int) -> tuple[int, float]:
    """Create `tickets` tickets with `events` more events each; (events written, seconds)."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    written = 0
    for _ in range(tickets):
        row, _new = await store.tickets.create(ticket(), prefix="BEN", year=2026, now=now)
        assert row.id is not None
        written += 1
        for n in range(events):
            await store.tickets.append(
                row.id, kind=KINDS[n % len(KINDS)], at=now, data={"text": f"event {n}"}
            )
            written += 1
    return written, time.perf_counter() - started


async def drain(outbox: Dispatcher) -> tuple[int, float]:
    started = time.perf_counter()
    sent = 0
    while delivered := await outbox.deliver_due():
        sent += delivered
    return sent, time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    database = Database(url)
    await upgrade_database(database)
    store = Store(database)
    directory = load_directory(EXAMPLE_DIRECTORY)
    await store.customers.sync(customers=directory.customers, now=datetime.now(UTC))

    await add_events(store, 10, args.events)  # warm-up: statement caches, the pool
    plain, plain_seconds = await add_events(store, args.tickets, args.events)
    print(f"(a) {plain / plain_seconds:,.0f} events/s appended without subscriptions")

    context = multiprocessing.get_context("spawn")
    ports, asks, counts = context.Queue(), context.Queue(), context.Queue()
    secret_row = await store.webhooks.add(
        url="http://127.0.0.1:1/hooks",  # replaced once the receiver has a port
        events=[event.value for event in WebhookEvent],
        customer_key=None,
        now=datetime.now(UTC),
    )
    receiver = context.Process(
        target=receiver_process, args=(secret_row.secret, ports, asks, counts), daemon=True
    )
    receiver.start()
    port = ports.get(timeout=30)
    await set_url(store, secret_row.id or 0, f"http://127.0.0.1:{port}/hooks")

    queued, queue_seconds = await add_events(store, args.tickets, args.events)
    print(f"    {queued / queue_seconds:,.0f} events/s appended, each queueing its delivery")

    sender = WebhookSender(store=store, allow_insecure=True)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
    outbox = Dispatcher(
        store=store,
        senders={},
        posters={},
        notifier=Notifier(store=store, directory=directory, clock=clock),
        clock=clock,
        webhooks=sender,
    )
    sent, seconds = await drain(outbox)
    print(
        f"(b) {sent:,} deliveries of {args.tickets} tickets in {seconds:.1f} s: "
        f"{sent / seconds:,.0f} deliveries/s"
    )

    await add_events(store, 1, args.single)
    sent, seconds = await drain(outbox)
    print(
        f"(c) {sent:,} deliveries of one ticket in {seconds:.1f} s: "
        f"{sent / seconds:,.0f} deliveries/s (strictly in order)"
    )
    asks.put("count?")
    verified = counts.get(timeout=30)
    print(f"    the receiver verified {verified:,} signatures")
    await sender.close()
    await database.dispose()
    receiver.terminate()


async def set_url(store: Store, subscription_id: int, url: str) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from storage.models import WebhookSubscriptionRow

    async with store.database.session() as session:
        await session.execute(
            update(WebhookSubscriptionRow)
            .where(col(WebhookSubscriptionRow.id) == subscription_id)
            .values(url=url)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--events", type=int, default=9, help="events per ticket after created")
    parser.add_argument("--single", type=int, default=300, help="events of the one ticket (c)")
    parser.add_argument("--database-url", default="", help="an empty database (default SQLite)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
