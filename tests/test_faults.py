"""Faults with real processes on PostgreSQL: a replica killed (SIGKILL) in the middle of a
stream loses nothing it acknowledged and answers nothing twice, and the other replica takes its
events over within about a lease; a live replica keeps a turn longer than the lease; a
database that goes away turns webhooks and `/healthz` into 503 (so Teams and Webex retry) and
the same process answers again once it is back, without a restart; dropped connections are
replaced without failing a request.

A slow or failing Webex is covered in `tests/test_webex_endpoint.py` (the loop stays
responsive: `test_a_slow_webex_does_not_stall_the_service`; 429/5xx are retried and the answer
arrives once; work a failing Webex left unfinished is resumed after a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.fake_webex import FakeWebex, Json, running_fake_webex
from tests.test_replicas import Cluster, Replica, free_ports, show_logs

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set CHATOPS_TEST_POSTGRES_URL to run the fault tests on PostgreSQL"
)


@dataclass
class GatedWebex(FakeWebex):
    """The fake Webex, where fetching a message can be held until the test opens the gate:
    turns then stop before their answer, as they would behind a slow Webex."""

    hold: bool = False
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    held: list[str] = field(default_factory=list)  # messages whose fetch waits at the gate

    def app(self) -> web.Application:
        app = super().app()
        app.middlewares.insert(0, self._held)
        return app

    @web.middleware
    async def _held(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.hold and request.method == "GET" and "/messages/" in request.path:
            self.held.append(request.path.rpartition("/")[2])
            self._notify()
            await self.gate.wait()
        return await handler(request)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    webex = GatedWebex()
    async with _fresh_postgres_database() as url, running_fake_webex(webex):
        group = Cluster(webex, url, tmp_path)
        await group.migrate()
        try:
            yield group
        finally:
            webex.gate.set()  # nothing held back while the replicas shut down
            await group.stop()


async def test_a_replica_killed_mid_stream_loses_nothing_and_answers_nothing_twice(
    cluster: Cluster,
) -> None:
    webex = cluster.webex
    assert isinstance(webex, GatedWebex)
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    rooms = [webex.add_room("direct") for _ in range(40)]
    messages = [cluster.message("help", room) for room in rooms]

    # 1. Ten messages over both replicas, answered.
    await send(cluster, [(a if n % 2 else b, m) for n, m in enumerate(messages[:10])])
    await cluster.wait_until_processed(10)

    # 2. Ten more reach `a` and are acknowledged; its turns are under way (held before their
    #    answer, fetching the message) when it is killed.
    webex.hold = True
    await send(cluster, [(a, m) for m in messages[10:20]])
    await webex.wait_until(lambda: len(webex.held) >= 1)
    a.kill()
    await a.wait_killed()

    # 3. The load balancer sends the next ten to `b`, whose turns are under way when `a` comes
    #    back: `a` must take over its own orphans only, never what `b` is answering.
    await send(cluster, [(b, m) for m in messages[20:30]])
    # Two minutes pass: the killed replica's leases run out (moved back here, not waited for).
    orphans = [m["id"] for m in messages[10:20]]
    expired = await cluster.sql(
        "UPDATE inbound_event SET claimed_until = now() - interval '1 second'"
        " WHERE status = 'pending' AND payload->'data'->>'id' = ANY($1::text[]) RETURNING id",
        orphans,
    )
    assert len(expired) == 10  # all ten still unanswered after the kill
    await a.start()  # re-drives its leftovers at start
    webex.gate.set()
    await cluster.wait_until_processed(30)

    # 4. The rest of the stream over both again.
    await send(cluster, [(a if n % 2 else b, m) for n, m in enumerate(messages[30:])])
    await cluster.wait_until_processed(40)

    assert await cluster.events() == Counter(done=40), show_logs(cluster)
    answers = [len(cluster.replies_in(room)) for room in rooms]
    assert answers == [1] * 40, show_logs(cluster)


# A short lease keeps these tests short; every bound below is derived from it.
LEASE_SECONDS = 4.0
# The re-drive looks four times per lease (see `Core.redrive_forever`).
REDRIVE_EVERY = LEASE_SECONDS / 4


async def test_a_replica_killed_mid_burst_has_its_events_answered_within_a_lease(
    cluster: Cluster,
) -> None:
    webex = cluster.webex
    assert isinstance(webex, GatedWebex)
    cluster.env["CHATOPS_LEASE_SECONDS"] = str(LEASE_SECONDS)
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    # Both have answered once: their understanding, built in the background after the start,
    # is ready, so the burst is answered at full speed.
    await send(cluster, [(a, cluster.message("help")), (b, cluster.message("help"))])
    await cluster.wait_until_processed(2, timeout=60)
    webex.sent.clear()
    rooms = [webex.add_room("direct") for _ in range(40)]
    messages = [cluster.message("help", room) for room in rooms]

    # A burst over both replicas, every delivery acknowledged (stored) before work starts.
    webex.hold = True
    await send(cluster, [(a if n % 2 else b, m) for n, m in enumerate(messages)])
    webex.hold = False
    webex.gate.set()
    # `a` dies in the middle of it: some answers sent, others under way or waiting.
    await webex.wait_until(lambda: len(webex.sent) >= 4)
    a.kill()
    await a.wait_killed()
    await asyncio.sleep(0.2)  # sends that reached the fake Webex before the kill are recorded
    answered_before = {m["roomId"] for m in webex.sent}
    in_flight = {
        row["room"]
        for row in await cluster.sql(
            "SELECT payload->'data'->>'roomId' AS room FROM inbound_event WHERE status = 'pending'"
        )
    }
    assert in_flight, "the kill came after the burst was over"

    # Its lease runs out unrenewed (at most one lease after the kill), `b`'s re-drive sees it
    # within a quarter of a lease, and answers: within two leases, with room for the work.
    await cluster.wait_until_processed(42, timeout=2 * LEASE_SECONDS + REDRIVE_EVERY)

    assert await cluster.events() == Counter(done=42), show_logs(cluster)
    answers = Counter(m["roomId"] for m in webex.sent)
    assert all(answers[room["id"]] >= 1 for room in rooms), show_logs(cluster)
    # Only a turn `a` had answered but not yet marked done when it died may be answered again.
    repeated = {room for room, n in answers.items() if n > 1}
    assert repeated <= answered_before & in_flight, show_logs(cluster)
    assert max(answers.values()) <= 2


async def test_a_live_replica_keeps_a_turn_that_takes_longer_than_the_lease(
    cluster: Cluster,
) -> None:
    webex = cluster.webex
    assert isinstance(webex, GatedWebex)
    cluster.env["CHATOPS_LEASE_SECONDS"] = str(LEASE_SECONDS)
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    room = webex.add_room("direct")
    message = cluster.message("help", room)

    # `a`'s turn is stuck behind a slow Webex for three leases while `b` re-drives a dozen
    # times: `a`'s heartbeat keeps the event, so `b` never starts it.
    webex.hold = True
    await send(cluster, [(a, message)])
    await webex.wait_until(lambda: message["id"] in webex.held)
    await asyncio.sleep(3 * LEASE_SECONDS)
    assert webex.held == [message["id"]], show_logs(cluster)
    webex.gate.set()
    await cluster.wait_until_processed(1)

    assert len(cluster.replies_in(room)) == 1, show_logs(cluster)
    [event] = await cluster.sql("SELECT attempts, claimed_by FROM inbound_event")
    assert event["attempts"] == 1
    assert a.process is not None and f":{a.process.pid}:" in event["claimed_by"]


async def test_after_every_database_connection_is_dropped_the_next_requests_succeed(
    cluster: Cluster,
) -> None:
    replica = cluster.replica("a")
    await replica.start()
    await send(cluster, [(replica, cluster.message("help"))])
    await cluster.wait_until_processed(1)

    async with aiohttp.ClientSession() as session:
        for round_ in range(1, 4):
            # A failover or an operator drops every connection the bot holds ...
            dropped = await cluster.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert dropped, "the bot held no connection"
            # ... and the very next health check and webhook are answered as usual.
            assert await health(session, replica) == 200, show_logs(cluster)
            await send(cluster, [(replica, cluster.message("help"))])
            await cluster.wait_until_processed(1 + round_)

    assert await cluster.events() == Counter(done=4), show_logs(cluster)
    assert len(cluster.webex.sent) == 4


async def send(cluster: Cluster, deliveries: list[tuple[Replica, Json]]) -> None:
    """Deliver all at once; every one must be acknowledged (200) — it is then stored."""
    statuses = await asyncio.gather(*(cluster.deliver(r, m) for r, m in deliveries))
    assert set(statuses) == {200}, statuses


class TcpProxy:
    """A TCP forwarder to PostgreSQL that the test can cut (every connection dropped, new ones
    refused) and restore on the same port: the database as the app sees a network outage."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_ports(1)[0]
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            pipe = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(sink)
            sink.transport.abort()


async def test_without_its_database_the_app_says_503_and_recovers_without_a_restart(
    cluster: Cluster,
) -> None:
    webex = cluster.webex
    target = make_url(POSTGRES_URL)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await proxy.up()
    cluster.env["CHATOPS_DATABASE_URL"] = (
        make_url(cluster.database_url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )
    replica = cluster.replica("a")
    await replica.start()
    first = cluster.message("help")
    await send(cluster, [(replica, first)])
    await cluster.wait_until_processed(1)  # answered and marked done

    await proxy.down()
    try:
        async with aiohttp.ClientSession() as session:
            assert await health(session, replica) == 503
            during = cluster.message("help")
            body = json.dumps(webex._envelope("messages", webex.message_data(during))).encode()
            signature = {"Content-Type": "application/json", "X-Spark-Signature": webex.sign(body)}
            async with session.post(replica.webhook, data=body, headers=signature) as response:
                assert response.status == 503
                assert response.headers["Retry-After"]
                assert "retry later" in (await response.json())["error"]
            assert await health(session, replica) == 503
    finally:
        await proxy.up()

    async with aiohttp.ClientSession() as session:
        await replica.wait_healthy(15)
        # Webex retries the delivery it got a 503 for: now it is stored and answered.
        assert await cluster.deliver(replica, during) == 200
    await cluster.webex.wait_for_sent(2)
    await cluster.wait_until_processed(2)
    assert await cluster.events() == Counter(done=2), show_logs(cluster)
    assert replica.process is not None and replica.process.returncode is None  # no restart
    with contextlib.suppress(Exception):
        await proxy.down()


async def health(session: aiohttp.ClientSession, replica: Replica) -> int:
    async with session.get(f"{replica.base}/healthz") as response:
        return response.status
