"""Several replicas on one PostgreSQL database: two real `chatops serve` processes behind no load
balancer (the test spreads deliveries over both), one fake Webex API served in the test's loop.

Every delivery is answered exactly once, wherever Webex sends it and however often; a stream
spread over both replicas gets exactly one answer per message; proactive messages (the alert,
the confirmation) and the SLA watcher's warnings reach Webex once although both replicas run
their dispatcher and watcher. The inbound lease itself is checked on both backends first.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.settings import EXAMPLE_DIRECTORY
from storage.leases import Lease
from storage.repositories import Store
from tests.conftest import POSTGRES_URL, _fresh_postgres_database
from tests.fake_webex import FakeWebex, Json, running_fake_webex
from tests.transcript import GOOD_FORM

CHATOPS = str(Path(sys.executable).parent / "chatops")
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SOON = NOW + timedelta(seconds=1)
LINK_SECRET = "replica-test-link-secret"
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="set CHATOPS_TEST_POSTGRES_URL to run replicas on PostgreSQL"
)


# --- the lease, on both backends ------------------------------------------------------------


async def test_an_accepted_event_is_leased_to_the_replica_that_accepted_it(store: Store) -> None:
    event = await store.inbox.accept(channel="webex", dedupe_key="m|1", payload={}, now=NOW)
    lease = store.lease.duration
    within = NOW + lease / 2

    # Another replica re-driving within the lease leaves it alone ...
    assert (
        await other_replica(store).inbox.claim(channel="webex", received_before=within, now=within)
        == []
    )

    # ... until the lease has run out unrenewed (its replica died): then exactly one claim
    # gets it.
    expired = NOW + lease + timedelta(seconds=1)
    [claimed] = await other_replica(store).inbox.claim(
        channel="webex", received_before=expired, now=expired
    )
    assert claimed.id == event
    assert await store.inbox.claim(channel="webex", received_before=expired, now=expired) == []


async def test_a_live_replica_keeps_its_event_by_renewing_the_lease(store: Store) -> None:
    event = await store.inbox.accept(channel="webex", dedupe_key="m|1", payload={}, now=NOW)
    assert event is not None
    other = other_replica(store)
    lease = store.lease.duration
    beat = NOW
    # A turn that takes five leases: its replica renews every third of a lease.
    while beat < NOW + 5 * lease:
        beat += lease / 3
        assert await store.inbox.renew(event_ids=[event], now=beat) == []
        assert await other.inbox.claim(channel="webex", received_before=beat, now=beat) == []

    # Once the renewals stop (the replica died), another one takes it over after one lease,
    # and the first one, should it come back to life, learns that it lost it.
    expired = beat + lease + timedelta(seconds=1)
    [taken] = await other.inbox.claim(channel="webex", received_before=expired, now=expired)
    assert taken.id == event
    assert await store.inbox.renew(event_ids=[event], now=expired) == [event]
    assert await store.inbox.start_attempt(event_id=event) == 0  # not its turn to run


async def test_a_released_event_is_claimed_at_once_and_a_finished_one_never(store: Store) -> None:
    failed = await store.inbox.accept(channel="webex", dedupe_key="m|1", payload={}, now=NOW)
    done = await store.inbox.accept(channel="webex", dedupe_key="m|2", payload={}, now=NOW)
    assert failed and done
    await store.inbox.release(event_id=failed)  # a transient failure gives the lease up
    await store.inbox.finish(event_id=done, now=NOW)
    await store.inbox.release(event_id=done)  # no effect on a finished event
    soon = NOW + timedelta(seconds=1)

    claimed = await store.inbox.claim(channel="webex", received_before=soon, now=soon)

    assert [row.id for row in claimed] == [failed]


async def test_concurrent_claims_never_get_the_same_event(store: Store) -> None:
    for n in range(30):
        await store.inbox.accept(
            channel="webex", dedupe_key=f"m|{n}", payload={}, now=NOW, lease=timedelta(0)
        )
    batches = await asyncio.gather(
        *(
            store.inbox.claim(channel="webex", received_before=SOON, now=SOON, limit=7)
            for _ in range(6)
        )
    )
    claimed = [row.id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed)) == 30


def other_replica(store: Store) -> Store:
    """Another replica's repositories on the same database (its own name on its leases)."""
    return Store(store.database, Lease.for_this_process(store.lease.duration))


# --- real processes ---------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together, so none is handed out twice)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


class Replica:
    """One `chatops serve` process; its output goes to a log file shown when a test fails."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_ports(1)[0]
        self.log = log_dir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str:
        return f"{self.base}/api/webex"

    async def start(self) -> None:
        with self.log.open("a") as output:
            self.process = await asyncio.create_subprocess_exec(
                CHATOPS,
                "serve",
                "--port",
                str(self.port),
                env=self.env,
                stdout=output,
                stderr=output,
            )
        await self.wait_healthy()

    async def wait_healthy(self, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout), aiohttp.ClientSession() as session:
            while True:
                assert self.process is not None
                if self.process.returncode is not None:
                    raise AssertionError(f"{self.name} exited early:\n{self.output()}")
                try:
                    async with session.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, connections just vanish."""
        assert self.process is not None
        self.process.kill()

    async def stop(self) -> None:
        """SIGTERM and wait: the clean shutdown a rolling deploy does."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def wait_killed(self) -> None:
        assert self.process is not None
        await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


class Cluster:
    """A fresh PostgreSQL database (migrated by `chatops migrate`), the fake Webex, replicas."""

    def __init__(self, webex: FakeWebex, database_url: str, tmp_path: Path) -> None:
        self.webex = webex
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.customer = webex.add_person(
            "Clara Contact", "clara@demo-customer.example", org_id=DEMO_ORG
        )
        self.engineers = webex.add_room("group", "Engineers")
        self.managers = webex.add_room("group", "Managers")
        directory = tmp_path / "chatops.toml"
        directory.write_text(self._directory(), encoding="utf-8")
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "CHATOPS_DATA_DIR": str(tmp_path / "shared"),  # the shared volume
            # trained once for the whole run (conftest), not once per process
            "CHATOPS_UNDERSTANDING_CACHE": os.environ["CHATOPS_UNDERSTANDING_CACHE"],
            "CHATOPS_DATABASE_URL": database_url,
            "CHATOPS_DIRECTORY": str(directory),
            "CHATOPS_LINK_SECRET": LINK_SECRET,
            "CHATOPS_LOG_LEVEL": "WARNING",
            "WEBEX_BOT_TOKEN": webex.token,
            "WEBEX_WEBHOOK_SECRET": webex.secret,
            "WEBEX_API_URL": webex.base_url,
        }
        self.replicas: list[Replica] = []

    def _directory(self) -> str:
        """The example directory, its contract around the clock (the test runs on the real
        clock at any hour) and the engineers' and managers' channels in Webex spaces."""
        text = EXAMPLE_DIRECTORY.read_text(encoding="utf-8")
        text = text.replace('service_time = "SNAZ"', 'service_time = "24x7"')
        text = text.replace(
            'teams = { team_id = "team-id", channel_id = "team-id" }',
            f'webex = {{ room_id = "{self.engineers["id"]}" }}',
        )
        text = text.replace(
            'teams = { team_id = "team-id", channel_id = "channel-announcements-id" }',
            f'webex = {{ room_id = "{self.managers["id"]}" }}',
        )
        return text

    async def migrate(self) -> None:
        migrate = await asyncio.create_subprocess_exec(
            CHATOPS,
            "migrate",
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await migrate.communicate()
        assert migrate.returncode == 0, output.decode()

    def replica(self, name: str) -> Replica:
        replica = Replica(name, self.env, self.tmp_path)
        self.replicas.append(replica)
        return replica

    async def start(self, *replicas: Replica) -> None:
        await asyncio.gather(*(replica.start() for replica in replicas))

    async def stop(self) -> None:
        await asyncio.gather(*(replica.stop() for replica in self.replicas))

    # --- talking to it ---------------------------------------------------------------------

    def message(self, text: str, room: Json | None = None) -> Json:
        """Clara writes `text` (in a new 1:1 space unless `room` is given)."""
        return self.webex.say(self.customer, room or self.webex.add_room("direct"), text)

    async def deliver(self, replica: Replica, message: Json) -> int:
        return await self.webex.deliver(
            replica.webhook, "messages", self.webex.message_data(message)
        )

    async def press(self, replica: Replica, card: Json, inputs: Json) -> int:
        action = self.webex.submit(self.customer, card, inputs)
        return await self.webex.deliver(
            replica.webhook, "attachmentActions", self.webex.action_data(action)
        )

    def replies_in(self, room: Json) -> list[Json]:
        return [m for m in self.webex.sent if m["roomId"] == room["id"]]

    async def sent(self, test: Callable[[Json], bool], timeout: float = 15) -> Json:
        """The first message the bot sent that passes `test` (waiting for it)."""
        await self.webex.wait_until(lambda: any(test(m) for m in self.webex.sent), timeout=timeout)
        return next(m for m in self.webex.sent if test(m))

    # --- the database, as an operator would look at it -------------------------------------

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(_plain_dsn(self.database_url))
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def events(self) -> Counter[str]:
        """Inbound events by status."""
        rows = await self.sql("SELECT status, count(*) AS n FROM inbound_event GROUP BY status")
        return Counter({row["status"]: row["n"] for row in rows})

    async def wait_until_processed(self, count: int, timeout: float = 30) -> None:
        """Until `count` inbound events are stored and none is left pending: after that no
        answer to them can still come (an event is finished after its answer was sent)."""
        async with asyncio.timeout(timeout):
            while True:
                events = await self.events()
                if events.total() >= count and events["pending"] == 0:
                    return
                await asyncio.sleep(0.1)

    async def wait_until_outbox_sent(self, timeout: float = 20) -> Counter[str]:
        async with asyncio.timeout(timeout):
            while True:
                rows = await self.sql("SELECT status, count(*) AS n FROM outbox GROUP BY status")
                statuses = Counter({row["status"]: row["n"] for row in rows})
                if statuses and statuses["pending"] == 0:
                    return statuses
                await asyncio.sleep(0.1)


DEMO_ORG = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8wZDFlMmYzYS00YjVjLTRkNmUtOGY3MC04MTkyYTNiNGM1ZDY"


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    """A migrated fresh database and the fake Webex; the replicas are started by each test
    (and always stopped, their logs shown when the test failed)."""
    async with _fresh_postgres_database() as url, running_fake_webex() as webex:
        group = Cluster(webex, url, tmp_path)
        await group.migrate()
        try:
            yield group
        finally:
            await group.stop()


def title(message: Json) -> str:
    attachments = message.get("attachments") or []
    return str(attachments[0]["content"]["body"][0]["text"]) if attachments else ""


def duplicates(messages: Iterable[Json]) -> list[tuple[Any, ...]]:
    """Messages the bot sent more than once (same space, thread, text and card)."""
    seen = Counter(
        (m["roomId"], m.get("parentId"), m.get("markdown") or m.get("text"), title(m))
        for m in messages
    )
    return [key for key, n in seen.items() if n > 1]


def show_logs(cluster: Cluster) -> str:
    return "\n".join(f"--- {r.name}\n{r.output()}" for r in cluster.replicas)


@needs_postgres
async def test_one_delivery_sent_to_both_replicas_twice_is_answered_once(
    cluster: Cluster,
) -> None:
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    room = cluster.webex.add_room("direct")
    message = cluster.message("help", room)

    statuses = await asyncio.gather(*(cluster.deliver(r, message) for r in (a, b, a, b)))

    assert statuses == [200, 200, 200, 200]
    await cluster.wait_until_processed(1)
    assert await cluster.events() == Counter(done=1), show_logs(cluster)
    [reply] = cluster.replies_in(room)
    assert title(reply) == "What I can do for you"


@needs_postgres
async def test_a_stream_spread_over_both_replicas_gets_one_answer_per_message(
    cluster: Cluster,
) -> None:
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    rooms = [cluster.webex.add_room("direct") for _ in range(40)]
    messages = [cluster.message("help", room) for room in rooms]
    # Webex retries some deliveries, to the other replica: ten messages arrive twice.
    targets = [(a if n % 2 else b, m) for n, m in enumerate(messages)]
    targets += [(b if n % 2 else a, m) for n, m in enumerate(messages[:10])]

    statuses = await asyncio.gather(*(cluster.deliver(r, m) for r, m in targets))

    assert set(statuses) == {200}
    await cluster.wait_until_processed(40)
    assert await cluster.events() == Counter(done=40), show_logs(cluster)
    assert [len(cluster.replies_in(room)) for room in rooms] == [1] * 40


@needs_postgres
async def test_alerts_confirmations_and_sla_warnings_reach_webex_once(cluster: Cluster) -> None:
    a, b = cluster.replica("a"), cluster.replica("b")
    await cluster.start(a, b)
    direct = cluster.webex.add_room("direct")

    # A fault report by card, each step through the other replica (a load balancer's doing).
    assert await cluster.deliver(a, cluster.message("report a fault", direct)) == 200
    form = await cluster.sent(lambda m: title(m) == "Report a fault")
    assert await cluster.press(b, form, {**GOOD_FORM, "since": ""}) == 200
    follow_ups = await cluster.sent(lambda m: "details for the engineer" in title(m))
    assert await cluster.press(a, follow_ups, {"action": "skip_followups"}) == 200
    summary = await cluster.sent(lambda m: title(m) == "Please check your report")
    assert await cluster.press(b, summary, {"action": "confirm_report"}) == 200
    confirmation = await cluster.sent(lambda m: title(m).startswith("CCS-"))
    number = title(confirmation).split()[0]
    alert = await cluster.sent(
        lambda m: m["roomId"] == cluster.engineers["id"] and title(m).startswith(number)
    )
    await cluster.wait_until_processed(4)
    assert (await cluster.wait_until_outbox_sent())["dead"] == 0

    # Three and a half hours pass (the ticket's times are moved back, as the watcher would see
    # them then): 50 % and 75 % of the 4 h reaction time have passed. Both replicas are
    # restarted so that both watchers look at the due ticket at the same moment.
    await cluster.stop()
    shift = timedelta(hours=3, minutes=30)
    await cluster.sql(
        "UPDATE ticket SET created_at = created_at - $1::interval,"
        " updated_at = updated_at - $1::interval,"
        " sla_next_due = now()",
        shift,
    )
    await cluster.sql("UPDATE ticket_event SET at = at - $1::interval", shift)
    await cluster.start(a, b)

    # the alert's summary and its card, then the warnings
    await cluster.webex.wait_until(lambda: len(cluster.replies_in(cluster.engineers)) >= 4)
    outbox = await cluster.wait_until_outbox_sent()

    assert outbox == Counter(sent=3), show_logs(cluster)
    rows = await cluster.sql("SELECT dedupe_key FROM outbox ORDER BY id")
    assert [row["dedupe_key"] for row in rows] == [
        f"alert:{number}:webex",
        f"milestone:{number}:reaction:1:50:thread:webex",
        f"milestone:{number}:reaction:1:75:thread:webex",
    ]
    root, card, *warnings = cluster.replies_in(cluster.engineers)
    assert card is alert
    assert alert["parentId"] == root["id"]
    assert [m["markdown"].split(", not")[0] for m in warnings] == [
        f"⚠️ {number}: 50 % of the reaction time used",
        f"⚠️ {number}: 75 % of the reaction time used",
    ]
    assert all(m["parentId"] == root["id"] for m in warnings)
    assert len(cluster.replies_in(direct)) == 5  # form, follow-ups, summary, ticket, coaching
    assert duplicates(cluster.webex.sent) == []
