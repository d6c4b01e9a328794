"""Benchmark: recovery, as whole-process figures on PostgreSQL.

1. A replica killed in a burst: two `chatops serve` processes on a fresh database, a burst of
   inbound Webex messages (`help`) spread over both and all acknowledged, then `kill -9` of one
   of them once a quarter of the answers are out. Measured: seconds from the kill until every
   event of the burst is answered and marked done; events unfinished at the kill; answers sent
   twice (only a turn the killed replica had answered but not yet marked done may repeat).
2. Every database connection dropped: one replica; each round terminates all of its
   PostgreSQL backends (`pg_terminate_backend`), then checks `/healthz` eight times 0.25 s
   apart and delivers one webhook. Measured: 503s of `/healthz`, webhooks not acknowledged
   with 200, seconds until that webhook's answer arrived.

The fake Webex API the bots call runs in this process (`tests.fake_webex`); the bots are real
processes, so the figures include start-up-free recovery only: nothing is restarted.

Run: `.venv/bin/python bench/recovery.py` (about 3 minutes: `--runs 5` kills with the default
20-s lease, `--drops 10` rounds; `--lease S` sets `CHATOPS_LEASE_SECONDS`, `--burst N` the burst
size, `--postgres URL` the server, default `postgresql+asyncpg://postgres@127.0.0.1:5432/test`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/recovery.py`
    sys.path.insert(0, str(ROOT))

from tests.fake_webex import running_fake_webex  # noqa: E402
from tests.test_faults import GatedWebex  # noqa: E402
from tests.test_replicas import Cluster, Replica  # noqa: E402

HEALTH_CHECKS = 8
HEALTH_EVERY = 0.25


@dataclass(frozen=True, slots=True)
class KillRun:
    """One kill -9 in a burst."""

    seconds_to_all_answered: float
    unfinished_at_kill: int
    answered_twice: int


@dataclass(frozen=True, slots=True)
class DropRound:
    """One drop of every database connection."""

    health_503: int
    webhook_refused: int
    seconds_to_answer: float


@contextlib.asynccontextmanager
async def fresh_database(server: str) -> AsyncIterator[str]:
    """A database created for one run and dropped after it."""
    name = f"chatops_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = make_url(server).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextlib.asynccontextmanager
async def cluster_of(server: str, lease: float) -> AsyncIterator[Cluster]:
    webex = GatedWebex()
    with tempfile.TemporaryDirectory() as tmp:
        async with fresh_database(server) as url, running_fake_webex(webex):
            cluster = Cluster(webex, url, Path(tmp))
            cluster.env["CHATOPS_LEASE_SECONDS"] = str(lease)
            await cluster.migrate()
            try:
                yield cluster
            finally:
                webex.gate.set()
                await cluster.stop()


async def kill_in_a_burst(server: str, lease: float, burst: int) -> KillRun:
    async with cluster_of(server, lease) as cluster:
        webex = cluster.webex
        assert isinstance(webex, GatedWebex)
        a, b = cluster.replica("a"), cluster.replica("b")
        await cluster.start(a, b)
        messages = [cluster.message("help", webex.add_room("direct")) for _ in range(burst)]
        webex.hold = True  # every delivery is acknowledged before any answer goes out
        await acknowledged(cluster, [(a if n % 2 else b, m) for n, m in enumerate(messages)])
        webex.hold = False
        webex.gate.set()
        await webex.wait_until(lambda: len(webex.sent) >= burst // 4, timeout=120)
        a.kill()
        killed = time.perf_counter()
        await a.wait_killed()
        await asyncio.sleep(0.2)  # sends that reached the fake before the kill are counted
        unfinished = (await cluster.events())["pending"]
        await cluster.wait_until_processed(burst, timeout=10 * lease + 60)
        done = time.perf_counter() - killed
        answers = Counter(m["roomId"] for m in webex.sent)
        assert len(answers) == burst, "an event was lost"
        return KillRun(done, unfinished, sum(n - 1 for n in answers.values()))


async def acknowledged(cluster: Cluster, deliveries: list[tuple[Replica, dict[str, str]]]) -> None:
    statuses = await asyncio.gather(*(cluster.deliver(r, m) for r, m in deliveries))
    assert set(statuses) == {200}, Counter(statuses)


async def drop_connections(server: str, lease: float, rounds: int) -> list[DropRound]:
    async with cluster_of(server, lease) as cluster:
        replica = cluster.replica("a")
        await replica.start()
        await acknowledged(cluster, [(replica, cluster.message("help"))])
        await cluster.wait_until_processed(1)
        results = []
        async with aiohttp.ClientSession() as session:
            for n in range(rounds):
                await cluster.sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                results.append(await after_the_drop(cluster, session, replica, answered=n + 1))
        return results


async def after_the_drop(
    cluster: Cluster, session: aiohttp.ClientSession, replica: Replica, *, answered: int
) -> DropRound:
    started = time.perf_counter()
    answer = asyncio.create_task(answered_at(cluster, answered + 1))
    delivery = asyncio.create_task(cluster.deliver(replica, cluster.message("help")))
    statuses = []
    for _ in range(HEALTH_CHECKS):
        async with session.get(f"{replica.base}/healthz") as response:
            statuses.append(response.status)
        await asyncio.sleep(HEALTH_EVERY)
    if await delivery != 200:  # Webex would retry it: so does this
        await acknowledged(cluster, [(replica, cluster.message("help"))])
    return DropRound(statuses.count(503), int(delivery.result() != 200), await answer - started)


async def answered_at(cluster: Cluster, count: int) -> float:
    await cluster.webex.wait_for_sent(count, timeout=120)
    return time.perf_counter()


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f}, min {min(values):.1f}, max {max(values):.1f}"


async def main(args: argparse.Namespace) -> None:
    kills = [await kill_in_a_burst(args.postgres, args.lease, args.burst) for _ in range(args.runs)]
    unfinished = sum(k.unfinished_at_kill for k in kills)
    twice = sum(k.answered_twice for k in kills)
    print(f"kill -9 of one of two replicas, burst of {args.burst}, lease {args.lease:g} s:")
    recovered = summary([k.seconds_to_all_answered for k in kills])
    print(f"  seconds from the kill until all answered: {recovered}")
    print(f"  unfinished at the kill: {unfinished} in {args.runs} runs; answered twice: {twice}")
    per_event = twice / (args.runs * args.burst)
    print(f"  answered twice per kill: {twice / args.runs:.2f}; per event: {per_event:.4f}")
    drops = await drop_connections(args.postgres, args.lease, args.drops)
    print(f"every database connection dropped, {args.drops} rounds:")
    print(f"  /healthz 503s: {sum(d.health_503 for d in drops)} of {HEALTH_CHECKS * len(drops)}")
    print(f"  webhooks not acknowledged: {sum(d.webhook_refused for d in drops)} of {len(drops)}")
    print(f"  seconds until the webhook's answer: {summary([d.seconds_to_answer for d in drops])}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--lease", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drops", type=int, default=10)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
