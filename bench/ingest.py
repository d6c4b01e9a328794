"""Benchmark: signed Webex webhooks acknowledged per second by one `chatops serve` process, as a
ratio to a bare aiohttp handler measured the same way in the same run, with p50/p99 latency.

Both servers run as separate processes on loopback; one client process sends the same number of
signed deliveries (each a new message id, so each is verified, persisted and queued) with a
fixed concurrency. The bot talks to a fake Webex API so its background work stays local.

Run: `make bench` (or `.venv/bin/python bench/ingest.py --requests 3000`).
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
from pathlib import Path

import aiohttp

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
        for _ in range(200):
            try:
                async with session.get(url) as response:
                    if response.status == status or (status is None and response.status < 500):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def blast(
    url: str, requests: int, concurrency: int, tag: str = "m"
) -> tuple[float, list[float]]:
    """Send `requests` signed deliveries; (seconds, per-request latencies)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = json.dumps(
                {
                    "id": "hook",
                    "name": "bench",
                    "resource": "messages",
                    "event": "created",
                    "data": {
                        "id": f"{tag}-{n}",
                        "roomId": "r",
                        "personId": "p",
                        "roomType": "direct",
                    },
                }
            ).encode()
            signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
            started = time.perf_counter()
            async with session.post(
                url,
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Spark-Signature": signature,
                },
            ) as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def _stored(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM inbound_event").fetchone()
    return int(count)


def report(name: str, seconds: float, latencies: list[float]) -> float:
    rate = len(latencies) / seconds
    cut = statistics.quantiles(latencies, n=100)
    print(
        f"{name:>10}: {rate:8.0f} requests/s   p50 {cut[49] * 1000:6.2f} ms   "
        f"p99 {cut[98] * 1000:6.2f} ms"
    )
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default="",
        help="e.g. postgresql+asyncpg://postgres@127.0.0.1/bench "
        "(migrated first); default: the embedded SQLite",
    )
    args = parser.parse_args()

    bare_port, bot_port, webex_port = free_ports(3)
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)])  # noqa: ASYNC220
    webex = subprocess.Popen(  # noqa: ASYNC220 - a one-off launch, not on a serving loop
        [sys.executable, "-c", FAKE_WEBEX, str(webex_port)], cwd=ROOT
    )
    with tempfile.TemporaryDirectory() as data_tmp:
        data = os.environ.get("BENCH_DATA", data_tmp)
        env = {
            **os.environ,
            "CHATOPS_DATA_DIR": data,
            "WEBEX_BOT_TOKEN": BOT_TOKEN,
            "WEBEX_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBEX_API_URL": f"http://127.0.0.1:{webex_port}{WEBEX_PREFIX}",
            "CHATOPS_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "CHATOPS_DATABASE_URL": args.database_url,
        }
        bot = subprocess.Popen(  # noqa: ASYNC220
            [str(Path(sys.executable).parent / "chatops"), "serve", "--port", str(bot_port)],
            env=env,
            cwd=ROOT,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{webex_port}{WEBEX_PREFIX}people/me")
            await wait_ready(f"http://127.0.0.1:{bare_port}/api/webex")
            await wait_ready(f"http://127.0.0.1:{bot_port}/healthz", status=200)
            for port in (bare_port, bot_port):  # warm-up
                await blast(f"http://127.0.0.1:{port}/api/webex", 200, args.concurrency, "warm")
            print(
                f"{args.requests} signed Webex deliveries, concurrency {args.concurrency}, "
                f"{os.cpu_count()} cores"
            )
            bare_rate = report(
                "bare",
                *await blast(
                    f"http://127.0.0.1:{bare_port}/api/webex", args.requests, args.concurrency
                ),
            )
            bot_rate = report(
                "chatops",
                *await blast(
                    f"http://127.0.0.1:{bot_port}/api/webex", args.requests, args.concurrency
                ),
            )
            print(f"ratio: chatops acknowledges at {bot_rate / bare_rate:.0%} of the bare handler")
            if not args.database_url:
                stored = await asyncio.to_thread(_stored, Path(data) / "chatops.sqlite3")
                print(f"events persisted before their 200: {stored}")
        finally:
            for process in (bare, bot, webex):
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    asyncio.run(main())
