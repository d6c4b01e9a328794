"""Benchmark: signed Webex webhooks acknowledged per second by one `chatops serve` process on
SQLite and on PostgreSQL, each as a ratio to a bare aiohttp handler measured the same way in
the same run, with median and p99 acknowledgement latency.

Every server runs as a process of its own on loopback; one client process sends the same number
of signed deliveries (each a new message id, so each is verified, persisted and queued) with a
fixed concurrency. The bot talks to a fake Webex API, so its background work (fetching each
message, marking it done) stays local and competes with the acknowledgements as it would in
production. The bare handler is measured right before each bot, so a busier machine shows in
both. After each run the bench checks that every acknowledged delivery was stored exactly once.

Run: `make bench` (or `.venv/bin/python bench/ingest.py --requests 3000`). PostgreSQL is
measured when `--postgres-url` (or `CHATOPS_TEST_POSTGRES_URL`) names a server whose user may
create databases: the bench creates a fresh database there and drops it afterwards.
It measures and reports; it asserts no timing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.migrate import upgrade_database
from tests.fake_webex import BOT_TOKEN, WEBHOOK_SECRET
from tests.fake_webex import PREFIX as WEBEX_PREFIX

ROOT = Path(__file__).resolve().parent.parent
FAKE_WEBEX = """
import sys
from aiohttp import web
from tests.fake_webex import FakeWebex
web.run_app(FakeWebex().app(), host="127.0.0.1", port=int(sys.argv[1]), print=None,
            access_log=None)
"""
BARE = """
import sys
from aiohttp import web
async def handler(request):
    await request.read()
    return web.Response(status=200)
app = web.Application()
app.router.add_post("/api/webex", handler)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


@dataclass(frozen=True, slots=True)
class Measured:
    """One blast: how many deliveries were acknowledged in how long, and each one's latency."""

    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def line(self, name: str) -> str:
        cut = statistics.quantiles(self.latencies, n=100)
        return (
            f"{name:>18}: {self.rate:7.0f} deliveries/s   median {cut[49] * 1000:6.1f} ms   "
            f"p99 {cut[98] * 1000:6.1f} ms"
        )


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together, so the OS cannot hand one out twice)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


async def wait_ready(url: str, *, status: int | None = None) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(url) as response:
                    if response.status == status or (status is None and response.status < 500):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def delivery(message_id: str) -> tuple[bytes, str]:
    """A Webex `messages/created` delivery and its signature."""
    body = json.dumps(
        {
            "id": "hook",
            "name": "bench",
            "resource": "messages",
            "event": "created",
            "data": {"id": message_id, "roomId": "r", "personId": "p", "roomType": "direct"},
        }
    ).encode()
    return body, hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()


async def blast(url: str, requests: int, concurrency: int, tag: str) -> Measured:
    """Send `requests` signed deliveries with ids `tag-0 …`; every one must get a 200."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)
    bodies = [delivery(f"{tag}-{n}") for n in range(requests)]

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, signature = bodies[queue.get_nowait()]
            started = time.perf_counter()
            async with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", "X-Spark-Signature": signature},
            ) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return Measured(time.perf_counter() - started, latencies)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server: SIGTERM (the bot drains its background work for a while), then kill."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used so far (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_quiet(pid: int, *, limit: float = 60.0) -> None:
    """Wait until the process uses less than a tenth of a core (its start-up and warm-up
    work, such as loading the understanding, done), at most `limit` seconds."""
    deadline = time.monotonic() + limit
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            return
        before = now


@asynccontextmanager
async def fresh_postgres(server_url: str) -> AsyncIterator[str]:
    """A new, migrated database on the server of `server_url`, dropped afterwards."""
    base = make_url(server_url)
    name = f"chatops_bench_{uuid.uuid4().hex[:12]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    url = base.set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    try:
        database = Database(url)
        await upgrade_database(database)
        await database.dispose()
        yield url
    finally:
        connection = await asyncpg.connect(admin)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def stored_once(database_url: str, tag: str) -> tuple[int, int]:
    """(events stored for `tag`, distinct delivery keys among them)."""
    database = Database(database_url)
    try:
        async with database.session() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(*), count(DISTINCT dedupe_key) FROM inbound_event "
                        "WHERE dedupe_key LIKE :pattern"
                    ),
                    {"pattern": f"messages|{tag}-%"},
                )
            ).one()
    finally:
        await database.dispose()
    return int(row[0]), int(row[1])


async def measure_bot(
    name: str, database_url: str, *, bare_url: str, webex_port: int, args: argparse.Namespace
) -> None:
    """Start `chatops serve` on `database_url`, blast the bare handler and then the bot."""
    (bot_port,) = free_ports(1)
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "CHATOPS_DATA_DIR": data,
            "WEBEX_BOT_TOKEN": BOT_TOKEN,
            "WEBEX_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBEX_API_URL": f"http://127.0.0.1:{webex_port}{WEBEX_PREFIX}",
            "CHATOPS_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
            "CHATOPS_DATABASE_URL": database_url,
        }
        serve = [str(Path(sys.executable).parent / "chatops"), "serve", "--port", str(bot_port)]
        if args.profile:
            stats = Path(args.profile) / f"ingest-{name.lower()}.prof"
            serve = [
                sys.executable,
                "-c",
                "import cProfile, sys; from bot.cli import main; "
                f"sys.argv = {['chatops', *serve[1:]]!r}; cProfile.run('main()', {str(stats)!r})",
            ]
        bot = subprocess.Popen(serve, env=env, cwd=ROOT)  # noqa: ASYNC220 - a one-off launch
        bot_url = f"http://127.0.0.1:{bot_port}/api/webex"
        try:
            await wait_ready(f"http://127.0.0.1:{bot_port}/healthz", status=200)
            await blast(bot_url, 200, args.concurrency, f"warm-{uuid.uuid4().hex[:8]}")
            await wait_quiet(bot.pid)  # the warm-up's background work done
            bare = await blast(bare_url, args.requests, args.concurrency, "bare")
            tag = f"run-{uuid.uuid4().hex[:8]}"
            chatops = await blast(bot_url, args.requests, args.concurrency, tag)
            stored, distinct = await stored_once(
                database_url or f"sqlite+aiosqlite:///{Path(data) / 'chatops.sqlite3'}", tag
            )
        finally:
            await asyncio.to_thread(stop, bot)
    print(bare.line("bare handler"))
    print(chatops.line(f"chatops, {name}"))
    print(
        f"{'ratio':>18}: {chatops.rate / bare.rate:.1%} of the bare handler; "
        f"{len(chatops.latencies)} acknowledged, {stored} stored ({distinct} distinct)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CHATOPS_TEST_POSTGRES_URL", ""),
        help="a PostgreSQL server (postgresql+asyncpg://user@host/db) whose user may create "
        "databases; default CHATOPS_TEST_POSTGRES_URL; without it only SQLite is measured",
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument(
        "--profile", metavar="DIR", help="run the bots under cProfile, their stats written here"
    )
    args = parser.parse_args()

    bare_port, webex_port = free_ports(2)
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])  # noqa: ASYNC220
    webex = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-c", FAKE_WEBEX, str(webex_port)], cwd=ROOT
    )
    bare_url = f"http://127.0.0.1:{bare_port}/api/webex"
    try:
        await wait_ready(f"http://127.0.0.1:{webex_port}{WEBEX_PREFIX}people/me")
        await wait_ready(bare_url)
        await blast(bare_url, 200, args.concurrency, "warm")
        print(
            f"{args.requests} signed Webex deliveries, concurrency {args.concurrency}, "
            f"{os.cpu_count()} cores"
        )
        if args.only in (None, "sqlite"):
            await measure_bot("SQLite", "", bare_url=bare_url, webex_port=webex_port, args=args)
        if args.only == "sqlite":
            pass
        elif args.postgres_url:
            async with fresh_postgres(args.postgres_url) as url:
                await measure_bot(
                    "PostgreSQL", url, bare_url=bare_url, webex_port=webex_port, args=args
                )
        else:
            print("PostgreSQL not measured: set --postgres-url or CHATOPS_TEST_POSTGRES_URL")
    finally:
        for process in (bare, webex):
            stop(process)


if __name__ == "__main__":
    asyncio.run(main())
