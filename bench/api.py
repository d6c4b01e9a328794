"""Benchmark: `GET /api/v1/tickets` with 100,000 tickets in the store.

The tickets (20 customers, products and priorities mixed, created over the year before now,
updated at distinct instants) and their event logs (`created` for all, a first response for
60 %, an announced breach for 3 %) are written straight into the database; then the whole bot
serves on 127.0.0.1 (port 0) and one client asks, one request at a time, for:

- the first page (50 tickets), and a page reached by following the cursor 20 times;
- one customer's tickets, P1 tickets that are open, tickets changed in the last day,
  tickets whose breach was announced.

Each scenario: 20 requests to warm up, then `--requests` measured; p50, p99 and the mean in
milliseconds, and requests per second. Every page computes the SLA state of its 50 tickets.

Run: `.venv/bin/python bench/api.py` (SQLite in a temporary folder);
`--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres` creates a database of its own
there for the run and drops it afterwards. `--tickets 10000` for a quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from sqlalchemy import insert
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/api.py`
    sys.path.insert(0, str(ROOT))

from adapters.api import new_token, token_hash  # noqa: E402
from bot.app import STORE, create_app  # noqa: E402
from bot.settings import EXAMPLE_DIRECTORY, Settings  # noqa: E402
from bot.watcher import TERMS_KEY  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.directory import Directory, load_directory  # noqa: E402
from storage.migrate import upgrade_database  # noqa: E402
from storage.models import CustomerRow, PreferenceRow, TicketEventRow, TicketRow  # noqa: E402
from storage.sla import terms_fingerprint  # noqa: E402

CUSTOMERS = 20
PRODUCTS = ("webex-calling", "webex-contact-center", "microsoft-calling", "luware-recording")
PRIORITIES = ("P1", "P2", "P2", "P3", "P3", "P4")
BATCH = 5_000
WARM_UP = 20


def directory_with_customers(count: int) -> Directory:
    example = load_directory(EXAMPLE_DIRECTORY)
    demo = example.customers[0]
    customers = [
        demo.model_copy(
            update={
                "key": f"c{n:03d}",
                "name": f"Customer {n}",
                "teams_tenant_ids": (),
                "webex_org_ids": (),
                "email_domains": (f"c{n:03d}.example",),
            }
        )
        for n in range(count)
    ]
    return example.model_copy(update={"customers": customers})


async def seed(database: Database, tickets: int, now: datetime) -> None:
    """Tickets and event logs written in batches, as the bot would have stored them. The SLA
    watcher is told the terms are known and no ticket is due, so nothing runs in the background
    while the API is measured."""
    rng = random.Random(16)
    fingerprint = terms_fingerprint(directory_with_customers(CUSTOMERS))
    async with database.session() as session:
        session.add(PreferenceRow(key=TERMS_KEY, value={"sha256": fingerprint}, updated_at=now))
        await session.execute(
            insert(CustomerRow),
            [
                {"key": f"c{n:03d}", "name": f"Customer {n}", "first_seen": now, "updated_at": now}
                for n in range(CUSTOMERS)
            ],
        )
    start = now - timedelta(days=365)
    step = timedelta(days=365) / tickets
    for first in range(0, tickets, BATCH):
        rows, events = [], []
        for n in range(first, min(first + BATCH, tickets)):
            created = start + n * step
            priority = rng.choice(PRIORITIES)
            rows.append(
                {
                    "id": n + 1,
                    "number": f"CCS-{created.year}-{n + 1:06d}",
                    "customer_key": f"c{rng.randrange(CUSTOMERS):03d}",
                    "kind": "fault",
                    "status": rng.choice(("open", "open", "resolved", "waiting_for_customer")),
                    "contract": "CCSB",
                    "product": rng.choice(PRODUCTS),
                    "priority": priority,
                    "description": "Calls drop after 30 seconds",
                    "affected": "all users",
                    "tested": "restarted phones",
                    "phone": "+43 1 234 5678",
                    "details": {},
                    "language": "en",
                    "reporter_channel": "teams",
                    "reporter_user_id": f"user-{n % 997}",
                    "reporter_name": "Contact",
                    "conversation_id": f"conv-{n % 997}",
                    "created_at": created,
                    "updated_at": created + timedelta(minutes=rng.randrange(1, 600)),
                    "owner_name": "",
                }
            )
            events.append(_event(n, "created", created, {"priority": priority, "contract": "CCSB"}))
            if rng.random() < 0.6:
                events.append(_event(n, "responded", created + timedelta(hours=1), {}))
            if rng.random() < 0.03:
                events.append(
                    _event(n, "sla_notice", created + timedelta(hours=4), {"key": "reaction:1:100"})
                )
        async with database.session() as session:
            await session.execute(insert(TicketRow), rows)
            await session.execute(insert(TicketEventRow), events)


def _event(n: int, kind: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": n + 1, "kind": kind, "at": at, "actor": "", "data": data}


async def measure(
    name: str, ask: Callable[[], Awaitable[int]], requests: int
) -> dict[str, float | str]:
    for _ in range(WARM_UP):
        await ask()
    times = []
    started = time.perf_counter()
    for _ in range(requests):
        begin = time.perf_counter()
        status = await ask()
        times.append((time.perf_counter() - begin) * 1000)
        assert status == 200, status
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "scenario": name,
        "p50": statistics.median(times),
        "p99": times[max(0, round(0.99 * len(times)) - 1)],
        "mean": statistics.fmean(times),
        "per_second": requests / elapsed,
    }


async def run(args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        url, drop = await _database(args, Path(folder))
        try:
            database = Database(url)
            await upgrade_database(database)
            began = time.perf_counter()
            await seed(database, args.tickets, now)
            print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - began:.1f} s")
            await database.dispose()
            await _serve_and_measure(args, url, Path(folder), now)
        finally:
            await drop()


async def _serve_and_measure(
    args: argparse.Namespace, url: str, folder: Path, now: datetime
) -> None:
    settings = Settings(
        data_dir=folder / "var",
        directory=EXAMPLE_DIRECTORY,
        database_url=url,
        api_rate=10_000,
        api_burst=10_000,
    )
    app = create_app(settings, directory=directory_with_customers(CUSTOMERS))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    token = new_token()
    await app[STORE].api_tokens.add(
        name="bench",
        token_hash=token_hash(token),
        scopes=["tickets:read"],
        customer_key=None,
        now=now,
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as client:
            deep = await _cursor_after(client, base, pages=20)

            def get(params: dict[str, str]) -> Callable[[], Awaitable[int]]:
                async def ask() -> int:
                    async with client.get(f"{base}/tickets", params=params) as response:
                        await response.read()
                        return response.status

                return ask

            since = (now - timedelta(days=1)).isoformat()
            scenarios = [
                ("first page (limit 50)", {"limit": "50"}),
                ("21st page (cursor)", {"limit": "50", "cursor": deep}),
                ("one customer", {"customer": "c007"}),
                ("open P1", {"state": "open", "priority": "P1"}),
                ("changed in the last day", {"updated_since": since}),
                ("breach announced", {"breached": "true"}),
            ]
            print(f"GET /tickets, {args.tickets:,} tickets, {args.requests} requests each")
            print(f"{'scenario':<26} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'req/s':>7}")
            for name, params in scenarios:
                found = await measure(name, get(params), args.requests)
                print(
                    f"{found['scenario']:<26} {found['p50']:>8.1f} {found['p99']:>8.1f} "
                    f"{found['mean']:>8.1f} {found['per_second']:>7.1f}"
                )
    finally:
        await runner.cleanup()


async def _cursor_after(client: aiohttp.ClientSession, base: str, *, pages: int) -> str:
    cursor = ""
    for _ in range(pages):
        params = {"limit": "50"} | ({"cursor": cursor} if cursor else {})
        async with client.get(f"{base}/tickets", params=params) as response:
            cursor = (await response.json())["next_cursor"]
    return cursor


async def _database(
    args: argparse.Namespace, folder: Path
) -> tuple[str, Callable[[], Awaitable[None]]]:
    if not args.postgres:

        async def nothing() -> None:
            return None

        return f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}", nothing
    base = make_url(args.postgres)
    name = f"chatops_bench_api_{uuid.uuid4().hex[:8]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        dropping = await asyncpg.connect(admin)
        await dropping.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await dropping.close()

    return base.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL to create a database at")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
