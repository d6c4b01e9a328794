"""Benchmark: an outage storm. 2,000 fault reports from distinct contacts of 200 customers,
started within 60 seconds, half through Teams and half through Webex, against one
`chatops serve` process on a fresh PostgreSQL database.

Processes (all on loopback):
- the bot: `chatops serve`, Teams authentication off, `CHATOPS_DIRECTORY` pointing at a generated
  directory of the customers (each with a Teams tenant id and a Webex org id), after
  `chatops migrate` on a database created for the run (dropped at the end);
- a fake Webex (this file with `--fake-webex`): the Webex API the bot calls (`tests.fake_webex`)
  plus Webex's users: its contacts write to the bot and press its card buttons as signed
  webhook deliveries to `/api/webex`, and time the answers as they reach the fake;
- this process: a fake Bot Connector (`tests.fakes`) the bot's Teams replies go to, and the
  Teams contacts, whose activities are posted to `/api/messages` with that serviceUrl.

A report is the card flow a contact goes through: `report a fault`, the form (`GOOD_FORM`),
`skip_followups`, `confirm_report`; each step is sent as soon as the bot's card for it arrived
(no think time: the harshest case). Report k starts at k × window / reports; even k report
through Teams, odd k through Webex; contact k belongs to customer k mod customers. All report a
Webex Calling outage, so the bot should group them into possible-outage alerts.

Measured: tickets in the database, duplicates (a contact with more than one ticket), lost
reports (no confirmation within the step timeout), p50/p99 from sending `confirm_report` to the
confirmation card reaching the fake (and of the whole report), the posts in the engineers'
channel in each chat system (new threads = alerts, replies in threads, card updates), peak RSS
(VmHWM) and CPU time of the bot process, CPU time of PostgreSQL's processes.

Run: `.venv/bin/python bench/outage_storm.py` (2,000 reports, about 7 minutes on 2 cores, so not
part of `make bench`; `--reports 200` for a quick run, `--profile PATH` for the bot's cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/outage_storm.py`
    sys.path.insert(0, str(ROOT))

from tests.fake_webex import BOT_TOKEN, PREFIX, WEBHOOK_SECRET, FakeWebex, webex_id  # noqa: E402
from tests.fakes import ConnectorCall, FakeBotConnector  # noqa: E402
from tests.transcript import GOOD_FORM  # noqa: E402

Json = dict[str, Any]
ENGINEERS_TEAM = "19:storm-team@thread.tacv2"
ENGINEERS_CHANNEL = "19:storm-engineers@thread.tacv2"
MANAGERS_CHANNEL = "19:storm-managers@thread.tacv2"
ENGINEERS_ROOM = webex_id("ROOM", "storm-engineers")
MANAGERS_ROOM = webex_id("ROOM", "storm-managers")
FORM = {**GOOD_FORM, "since": ""}  # the bot runs on the real clock: no "today 09:30"
FORM_TITLE = "Report a fault"
SUMMARY_TITLE = "Please check your report"
TICKET_TITLE = re.compile(r"^[A-Z]+-\d{4}-\d{6}$")
AUTH = {"Authorization": f"Bearer {BOT_TOKEN}"}
NO_TIMEOUT = aiohttp.ClientTimeout(total=None)
ADMIN_DATABASE = "postgres"  # the maintenance database, to run CREATE/DROP DATABASE from


# --- who is who --------------------------------------------------------------------------------


def tenant_id(customer: int) -> str:
    return f"00000000-0000-4000-8000-{customer:012d}"


def org_id(customer: int) -> str:
    return webex_id("ORGANIZATION", f"storm-org-{customer:04d}")


def directory_toml(customers: int) -> str:
    """A directory like the example's, with `customers` customers on the CCSB contract."""
    example = (ROOT / "chatops.example.toml").read_text()
    service_times = example[example.index("[service_times.SNAZ]") : example.index("[contracts.")]
    contract = example[example.index("[contracts.CCSB]") : example.index("# Named channels")]
    lines = [
        "[provider]",
        'name = "Storm Benchmark Services"',
        'default_channels = { engineers = "engineers", managers = "managers" }',
        "",
        service_times,
        contract,
        "[channels.engineers]",
        f'teams = {{ team_id = "{ENGINEERS_TEAM}", channel_id = "{ENGINEERS_CHANNEL}" }}',
        f'webex = {{ room_id = "{ENGINEERS_ROOM}" }}',
        "",
        "[channels.managers]",
        f'teams = {{ team_id = "{ENGINEERS_TEAM}", channel_id = "{MANAGERS_CHANNEL}" }}',
        f'webex = {{ room_id = "{MANAGERS_ROOM}" }}',
        "",
    ]
    for customer in range(customers):
        lines += [
            "[[customers]]",
            f'key = "c{customer:04d}"',
            f'name = "Customer {customer:04d} GmbH"',
            'contract = "CCSB"',
            'language = "en"',
            f'teams_tenant_ids = ["{tenant_id(customer)}"]',
            f'webex_org_ids = ["{org_id(customer)}"]',
            "",
        ]
    lines += [
        "[[staff]]",
        'name = "Megan Bowen"',
        'email = "meganb@example.com"',
        'roles = ["engineer"]',
        "",
        "[[staff]]",
        'name = "Adele Vance"',
        'email = "adelev@example.com"',
        'roles = ["manager", "engineer"]',
        "",
    ]
    return "\n".join(lines)


# --- one report, whatever the chat system ------------------------------------------------------


@dataclass
class Outcome:
    """What happened to one report, timed on the clock of the process that saw it."""

    channel: str
    index: int
    ok: bool = False
    number: str = ""
    confirm_seconds: float | None = None  # confirm_report sent → confirmation at the fake
    done_after: float | None = None  # the confirmation's arrival after the storm began
    report_seconds: float | None = None  # first message sent → confirmation at the fake
    failed_at: str = ""
    unexpected: list[str] = field(default_factory=list)


class Chat:
    """One contact's 1:1 chat with the bot: send, and read the bot's messages in order."""

    index: int

    def __init__(self, inbox: asyncio.Queue[tuple[float, Json]]) -> None:
        self.inbox = inbox

    async def say(self, text: str) -> float:
        raise NotImplementedError

    async def press(self, card: Json, inputs: Json) -> float:
        raise NotImplementedError


def title(message: Json) -> str:
    """The title of the message's Adaptive Card ('' without a card); Teams and Webex alike."""
    attachments = message.get("attachments") or []
    try:
        return str(attachments[0]["content"]["body"][0]["text"])
    except (IndexError, KeyError, TypeError):
        return ""


def text_of(message: Json) -> str:
    return str(message.get("text") or message.get("markdown") or title(message))[:120]


async def report(
    chat: Chat, outcome: Outcome, start_at: float, patience: float, *, begin: float
) -> Outcome:
    """The card flow: report a fault, the form, skip follow-ups, confirm."""
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))

    async def card(step: str, wanted: Callable[[str], bool]) -> tuple[float, Json]:
        while True:
            try:
                arrived, message = await asyncio.wait_for(chat.inbox.get(), patience)
            except TimeoutError:
                outcome.failed_at = step
                raise
            if wanted(title(message)):
                return arrived, message
            outcome.unexpected.append(text_of(message))

    try:
        started = await chat.say("report a fault")
        _, form = await card("form", lambda t: t == FORM_TITLE)
        await chat.press(form, FORM)
        _, next_card = await card("follow-ups", bool)
        if title(next_card) != SUMMARY_TITLE:  # product follow-ups first
            await chat.press(next_card, {"action": "skip_followups"})
            _, next_card = await card("summary", lambda t: t == SUMMARY_TITLE)
        confirmed = await chat.press(next_card, {"action": "confirm_report"})
        arrived, confirmation = await card("confirmation", lambda t: bool(TICKET_TITLE.match(t)))
    except TimeoutError:
        return outcome
    except aiohttp.ClientError as exc:
        outcome.failed_at = f"send: {type(exc).__name__}"
        return outcome
    outcome.ok = True
    outcome.number = title(confirmation)
    outcome.confirm_seconds = arrived - confirmed
    outcome.report_seconds = arrived - started
    outcome.done_after = arrived - begin
    return outcome


def start_instants(reports: int, window: float, begin: float) -> list[float]:
    return [begin + k * window / reports for k in range(reports)]


# --- Teams: a fake Bot Connector here, contacts posting activities ----------------------------


@dataclass
class StormConnector(FakeBotConnector):
    """The fake Bot Connector, handing each reply straight to the waiting contact."""

    inboxes: dict[str, asyncio.Queue[tuple[float, Json]]] = field(default_factory=dict)
    thread_posts: int = 0

    def inbox(self, conversation_id: str) -> asyncio.Queue[tuple[float, Json]]:
        return self.inboxes.setdefault(conversation_id, asyncio.Queue())

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        arrived = time.perf_counter()
        conversation = request.match_info["conversation_id"]
        self.calls.append(
            ConnectorCall(
                path=request.path,
                conversation_id=conversation,
                reply_to_id=request.match_info.get("activity_id"),
                authorization=request.headers.get("Authorization"),
                body=body,
            )
        )
        activity_id = f"bot-activity-{next(self._ids)}"
        if body.get("type") == "message":
            if conversation.startswith(ENGINEERS_CHANNEL):
                self.thread_posts += 1
            else:
                self.inbox(conversation).put_nowait((arrived, {**body, "id": activity_id}))
        return web.json_response({"id": activity_id})

    async def _notify(self) -> None:
        return  # nobody waits on the condition here (and 1,000 waiters would each wake)

    def engineers_posts(self) -> Json:
        threads = [c for c in self.created if c.channel_id == ENGINEERS_CHANNEL]
        return {
            "alerts (new threads)": len(threads),
            "replies in threads": self.thread_posts,
            "card updates": len(self.updated),
        }


class TeamsChat(Chat):
    _ids = itertools.count(1)

    def __init__(
        self,
        session: aiohttp.ClientSession,
        bot_url: str,
        connector: StormConnector,
        index: int,
        customer: int,
    ) -> None:
        self.session, self.bot_url, self.index = session, bot_url, index
        self.conversation = f"a:storm-{index}"
        self.user = f"29:storm-{index}"
        self.tenant = tenant_id(customer)
        self.service_url = connector.url
        connector.members[self.user] = {
            "id": self.user,
            "name": f"Contact {index}",
            "aadObjectId": f"aad-storm-{index}",
            "email": f"contact{index}@c{customer:04d}.example",
            "userPrincipalName": f"contact{index}@c{customer:04d}.example",
            "tenantId": self.tenant,
        }
        super().__init__(connector.inbox(self.conversation))

    async def say(self, text: str) -> float:
        return await self._post({"text": text, "textFormat": "plain"})

    async def press(self, card: Json, inputs: Json) -> float:
        return await self._post({"value": inputs, "replyToId": card.get("id")})

    async def _post(self, fields: Json) -> float:
        activity = {
            "type": "message",
            "id": f"storm-activity-{next(self._ids)}",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {
                "id": self.user,
                "name": f"Contact {self.index}",
                "aadObjectId": f"aad-storm-{self.index}",
            },
            "conversation": {
                "id": self.conversation,
                "conversationType": "personal",
                "tenantId": self.tenant,
            },
            "recipient": {"id": "28:storm-bot", "name": "SLA Desk"},
            "locale": "en-US",
            "channelData": {"tenant": {"id": self.tenant}},
            **fields,
        }
        sent = time.perf_counter()
        async with self.session.post(self.bot_url, json=activity) as response:
            await response.read()
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        return sent


# --- Webex: the fake API and its contacts, in a process of their own -------------------------


@dataclass
class StormWebex(FakeWebex):
    """The fake Webex API, handing each bot message straight to the waiting contact."""

    inboxes: dict[str, asyncio.Queue[tuple[float, Json]]] = field(default_factory=dict)
    engineers: Counter[str] = field(default_factory=Counter)
    session: aiohttp.ClientSession | None = None
    bot_urls: list[str] = field(default_factory=list)
    storm: asyncio.Task[list[Outcome]] | None = None

    def inbox(self, room_id: str) -> asyncio.Queue[tuple[float, Json]]:
        return self.inboxes.setdefault(room_id, asyncio.Queue())

    def _notify(self) -> None:
        return  # nobody waits on the condition here

    def _store_message(self, fields: Json, *, author: Json) -> Json:
        message = super()._store_message(fields, author=author)
        if author is self.bot:
            if message["roomId"] == ENGINEERS_ROOM:
                self.engineers["replies in threads" if "parentId" in message else "alerts"] += 1
            else:
                self.inbox(message["roomId"]).put_nowait((time.perf_counter(), message))
        return message

    async def _edit_message(self, request: web.Request) -> web.Response:
        edited = self.messages.get(request.match_info["id"])
        if edited is not None and edited["roomId"] == ENGINEERS_ROOM:
            self.engineers["card updates"] += 1
        return await super()._edit_message(request)

    async def post(self, resource: str, data: Json, *, contact: int) -> float:
        """A signed webhook delivery, as Webex sends it (to the replica the load balancer
        picks for `contact`); the instant it was sent."""
        assert self.session is not None
        raw = json.dumps(self._envelope(resource, data)).encode()
        signature = hmac.new(self.secret.encode(), raw, hashlib.sha1).hexdigest()
        headers = {"Content-Type": "application/json", "X-Spark-Signature": signature}
        sent = time.perf_counter()
        bot_url = self.bot_urls[contact % len(self.bot_urls)]
        async with self.session.post(bot_url, data=raw, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise aiohttp.ClientResponseError(response.request_info, (), status=response.status)
        return sent


class WebexChat(Chat):
    def __init__(self, fake: StormWebex, index: int, customer: int) -> None:
        self.fake, self.index = fake, index
        self.person = fake.add_person(
            f"Contact {index}", f"contact{index}@c{customer:04d}.example", org_id=org_id(customer)
        )
        self.room = fake.add_room("direct", f"Contact {index} and SLA Desk")
        super().__init__(fake.inbox(self.room["id"]))

    async def say(self, text: str) -> float:
        message = self.fake.say(self.person, self.room, text)
        data = self.fake.message_data(message)
        return await self.fake.post("messages", data, contact=self.index)

    async def press(self, card: Json, inputs: Json) -> float:
        action = self.fake.submit(self.person, card, inputs)
        data = self.fake.action_data(action)
        return await self.fake.post("attachmentActions", data, contact=self.index)


def serve_fake_webex(port: int, reports: int, customers: int) -> None:
    """The `--fake-webex` process: the API plus `/bench/start`, `/bench/result`,
    `/bench/channel` for the benchmark to steer it."""
    fake = StormWebex()
    for room_id, name in ((ENGINEERS_ROOM, "Engineers"), (MANAGERS_ROOM, "Managers")):
        room = fake.add_room("group", name)
        del fake.rooms[room["id"]]
        fake.rooms[room_id] = {**room, "id": room_id}
    chats = [WebexChat(fake, k, k % customers) for k in range(1, reports, 2)]

    async def start(request: web.Request) -> web.Response:
        plan = await request.json()
        fake.bot_urls = plan["bot_urls"]
        fake.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=plan["connections"]), timeout=NO_TIMEOUT
        )
        begin = time.perf_counter() + plan["delay"]
        instants = start_instants(reports, plan["window"], begin)

        async def storm() -> list[Outcome]:
            return list(
                await asyncio.gather(
                    *(
                        report(
                            chat,
                            Outcome("webex", chat.index),
                            instants[chat.index],
                            plan["timeout"],
                            begin=begin,
                        )
                        for chat in chats
                    )
                )
            )

        fake.storm = asyncio.get_running_loop().create_task(storm())
        return web.json_response({"contacts": len(chats)})

    async def result(_request: web.Request) -> web.Response:
        assert fake.storm is not None
        outcomes = await fake.storm
        cpu = os.times()
        return web.json_response(
            {"outcomes": [asdict(o) for o in outcomes], "cpu": cpu.user + cpu.system}
        )

    async def channel(_request: web.Request) -> web.Response:
        return web.json_response(dict(fake.engineers))

    app = fake.app()
    app.router.add_post("/bench/start", start)
    app.router.add_get("/bench/result", result)
    app.router.add_get("/bench/channel", channel)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def code_version() -> str:
    """The commit the bot's code is at, and whether its sources differ from it."""
    git = shutil.which("git")
    if git is None:
        return "unknown"

    def ask(*args: str) -> str:
        done = subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    head = ask("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    changed = ask("status", "--porcelain", "--", "bot", "adapters", "dialogs", "storage")
    return head + (" with uncommitted changes" if changed else "")


# --- the benchmark ---------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together, so the OS cannot hand one out twice)."""
    import socket

    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


async def wait_ready(url: str, *, headers: dict[str, str] | None = None) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url, headers=headers) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


def bots_cpu(rig: Rig) -> float:
    """CPU time of all the bot's replicas."""
    return sum(cpu_seconds(bot.pid) for bot in rig.bots)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU time of every process named `postgres` on the machine (the server and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


def quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a" if not values else f"{values[0] * 1000:.0f} ms"
    cut = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cut[49] * 1000:7.0f} ms   p99 {cut[98] * 1000:7.0f} ms   "
        f"max {max(values) * 1000:7.0f} ms"
    )


async def database_figures(dsn: str) -> Json:
    connection = await asyncpg.connect(dsn)
    try:
        tickets = await connection.fetchval("SELECT count(*) FROM ticket")
        per_contact = await connection.fetch(
            "SELECT reporter_channel, reporter_user_id, count(*) AS n FROM ticket "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        )
        reporters = await connection.fetchval(
            "SELECT count(DISTINCT (reporter_channel, reporter_user_id)) FROM ticket"
        )
        incidents = await connection.fetch(
            "SELECT incident_key, count(*) AS n FROM ticket GROUP BY 1 ORDER BY 2 DESC"
        )
        inbound = await connection.fetch(
            "SELECT channel, status, count(*) AS n FROM inbound_event GROUP BY 1, 2 ORDER BY 1, 2"
        )
        outbox = await connection.fetch(
            "SELECT channel, kind, status, count(*) AS n FROM outbox GROUP BY 1, 2, 3 "
            "ORDER BY 1, 2, 3"
        )
    finally:
        await connection.close()
    return {
        "tickets": tickets,
        "reporters": reporters,
        "duplicate contacts": len(per_contact),
        "extra tickets": sum(row["n"] - 1 for row in per_contact),
        "incidents": [(row["incident_key"], row["n"]) for row in incidents],
        "inbound": [tuple(row) for row in inbound],
        "outbox": [tuple(row) for row in outbox],
    }


async def database_activity(dsn: str) -> dict[str, int]:
    """The database's counters from pg_stat_database (commits, rows read and written)."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, "
            "tup_updated FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await connection.close()
    return dict(row) if row is not None else {}


async def outbox_pending(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'")
        )
    finally:
        await connection.close()


async def admin(server_dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{server_dsn}/{ADMIN_DATABASE}")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class Rig:
    """The running processes and fakes of one run."""

    args: argparse.Namespace
    dsn: str
    bots: list[subprocess.Popen[bytes]]  # the replicas, behind a round-robin "load balancer"
    bot_urls: list[str]
    webex_url: str
    connector: StormConnector


async def run(args: argparse.Namespace) -> None:
    """Set up a database, the fakes and the bot; storm; clean up."""
    server = args.server.rstrip("/")
    database = f"bench_storm_{os.getpid()}"
    dsn = f"{server}/{database}"
    webex_port, connector_port, *bot_ports = free_ports(2 + args.replicas)
    python = Path(sys.executable)
    chatops = str(python.parent / "chatops")
    await admin(server, f'CREATE DATABASE "{database}"')
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(drop_database, args, server, database)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (tmp / "storm.toml").write_text(directory_toml(args.customers))
        env = {
            **os.environ,
            "CHATOPS_DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
            "CHATOPS_DIRECTORY": str(tmp / "storm.toml"),
            "CHATOPS_DATA_DIR": str(tmp / "data"),
            "CHATOPS_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "WEBEX_BOT_TOKEN": BOT_TOKEN,
            "WEBEX_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBEX_API_URL": f"http://127.0.0.1:{webex_port}{PREFIX}",
        }
        for key in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "CHATOPS_PUBLIC_URL"):
            env.pop(key, None)  # Teams authentication off, no webhook registration
        await asyncio.to_thread(subprocess.run, [chatops, "migrate"], env=env, cwd=ROOT, check=True)

        fake_webex = [str(python), __file__, "--fake-webex", str(webex_port)]
        fake_webex += ["--reports", str(args.reports), "--customers", str(args.customers)]
        stack.push_async_callback(stop, subprocess.Popen(fake_webex, cwd=ROOT))  # noqa: ASYNC220

        connector = StormConnector()
        runner = web.AppRunner(connector.app(), access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", connector_port).start()
        connector.server = _Served(f"http://127.0.0.1:{connector_port}/")  # type: ignore[assignment]

        bots = []
        for bot_port in bot_ports:
            serve = [chatops, "serve", "--port", str(bot_port)]
            if args.profile and not bots:
                serve = [
                    str(python),
                    "-c",
                    "import cProfile, sys; from bot.cli import main; "
                    f"sys.argv = {['chatops', 'serve', '--port', str(bot_port)]!r}; "
                    f"cProfile.run('main()', {args.profile!r})",
                ]
            bot = subprocess.Popen(serve, env=env, cwd=ROOT)  # noqa: ASYNC220 - one-off launches
            stack.push_async_callback(stop, bot)
            bots.append(bot)
        webex_url = f"http://127.0.0.1:{webex_port}"
        await wait_ready(f"{webex_url}{PREFIX}people/me", headers=AUTH)
        bot_urls = [f"http://127.0.0.1:{port}" for port in bot_ports]
        for url in bot_urls:
            await wait_ready(f"{url}/healthz")
        await storm(Rig(args, dsn, bots, bot_urls, webex_url, connector))


async def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(process.wait, 30)


async def drop_database(args: argparse.Namespace, server: str, database: str) -> None:
    if args.keep:
        print(f"database kept: {server}/{database}")
    else:
        await admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def storm(rig: Rig) -> None:
    """Run the storm and print what happened."""
    args, connector = rig.args, rig.connector
    idle = [proc_status(bot.pid) for bot in rig.bots]
    activity_before = await database_activity(rig.dsn)
    cpu_before = (bots_cpu(rig), postgres_cpu(), os.times())
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=args.connections), timeout=NO_TIMEOUT
    )
    async with session:
        replicas = len(rig.bot_urls)
        teams_chats = [
            TeamsChat(
                session,
                f"{rig.bot_urls[k % replicas]}/api/messages",
                connector,
                k,
                k % args.customers,
            )
            for k in range(0, args.reports, 2)
        ]
        plan = {
            "bot_urls": [f"{url}/api/webex" for url in rig.bot_urls],
            "delay": 1.0,
            "window": args.window,
            "timeout": args.step_timeout,
            "connections": args.connections,
        }
        async with session.post(f"{rig.webex_url}/bench/start", json=plan, headers=AUTH) as r:
            assert r.status == 200, await r.text()
        instants = start_instants(args.reports, args.window, time.perf_counter() + 1.0)
        print(
            f"outage storm: {args.reports} reports from {args.reports} contacts of "
            f"{args.customers} customers, started within {args.window:.0f} s "
            f"(half Teams, half Webex), PostgreSQL, {os.cpu_count()} cores, "
            f"code {code_version()}",
            flush=True,
        )

        async def webex_results() -> Json:
            async with session.get(f"{rig.webex_url}/bench/result", headers=AUTH) as r:
                result: Json = await r.json()
                return result

        teams_outcomes, webex_result = await asyncio.gather(
            asyncio.gather(
                *(
                    report(
                        chat,
                        Outcome("teams", chat.index),
                        instants[chat.index],
                        args.step_timeout,
                        begin=instants[0],
                    )
                    for chat in teams_chats
                )
            ),
            webex_results(),
        )
        finished = time.perf_counter()
        outcomes = [*teams_outcomes, *(Outcome(**o) for o in webex_result["outcomes"])]

        # The alerts go out through the outbox: wait until it is delivered.
        pending_left = await outbox_pending(rig.dsn)
        while pending_left and time.perf_counter() - finished < args.drain_timeout:
            await asyncio.sleep(0.5)  # polling another process's database
            pending_left = await outbox_pending(rig.dsn)
        drained = time.perf_counter()
        async with session.get(f"{rig.webex_url}/bench/channel", headers=AUTH) as r:
            webex_posts = await r.json()
        metrics = ""
        for url in rig.bot_urls:
            async with session.get(f"{url}/metrics") as r:
                metrics += await r.text()
    memory = [proc_status(bot.pid) for bot in rig.bots]
    await asyncio.sleep(1.5)  # PostgreSQL publishes its statistics at most once a second
    activity = await database_activity(rig.dsn)
    activity = {key: value - activity_before.get(key, 0) for key, value in activity.items()}
    own = os.times()
    cpu = {
        "bot" if len(rig.bots) == 1 else f"bots ({len(rig.bots)} replicas)": bots_cpu(rig)
        - cpu_before[0],
        "postgres": postgres_cpu() - cpu_before[1],
        "fake Webex + its contacts": webex_result["cpu"],
        "fake Bot Connector + Teams contacts": own.user
        + own.system
        - cpu_before[2].user
        - cpu_before[2].system,
    }
    print_report(
        args,
        outcomes=outcomes,
        elapsed=finished - instants[0],
        drain=drained - finished,
        pending_left=pending_left,
        figures=await database_figures(rig.dsn),
        posts={"teams": connector.engineers_posts(), "webex": webex_posts},
        memory={"idle": idle, "end": memory},
        cpu=cpu,
        metrics=metrics,
        activity=activity,
    )


class _Served:
    """What `FakeBotConnector.url` needs of a `TestServer`: make_url."""

    def __init__(self, base: str) -> None:
        self.base = base

    def make_url(self, path: str) -> str:
        return self.base.rstrip("/") + path


def turn_seconds(metrics: str) -> dict[str, tuple[float, float]]:
    """(count, sum) of `chatops_turn_seconds` per channel from the replicas' /metrics."""
    found: dict[str, list[float]] = {}
    for line in metrics.splitlines():
        match = re.match(r'chatops_turn_seconds_(count|sum)\{channel="(\w+)"\} (\S+)', line)
        if match:
            kind, channel, value = match.groups()
            found.setdefault(channel, [0.0, 0.0])[kind == "sum"] += float(value)
    return {channel: (pair[0], pair[1]) for channel, pair in found.items()}


def print_report(
    args: argparse.Namespace,
    *,
    outcomes: list[Outcome],
    elapsed: float,
    drain: float,
    pending_left: int,
    figures: Json,
    posts: Json,
    memory: Json,
    cpu: dict[str, float],
    metrics: str,
    activity: dict[str, int],
) -> None:
    done = [o for o in outcomes if o.ok]
    lost = [o for o in outcomes if not o.ok]
    numbers = Counter(o.number for o in done)
    print(f"all {len(done)} confirmations in {elapsed:.1f} s after the first report started "
          f"({len(done) / elapsed:.1f} reports/s; the window was {args.window:.0f} s)")  # fmt: skip
    print(f"tickets in the database: {figures['tickets']} from {figures['reporters']} contacts")
    print(
        f"duplicates: {figures['duplicate contacts']} contacts with more than one ticket "
        f"({figures['extra tickets']} extra tickets); numbers confirmed twice: "
        f"{sum(n > 1 for n in numbers.values())}"
    )
    print(f"lost (no confirmation within {args.step_timeout:.0f} s of a step): {len(lost)}")
    for where, count in Counter(o.failed_at for o in lost).most_common():
        print(f"  stuck at {where}: {count}")
    odd = Counter(text for o in outcomes for text in o.unexpected)
    for text, count in odd.most_common(5):
        print(f"  unexpected answer ×{count}: {text!r}")
    times = sorted(o.done_after for o in done if o.done_after is not None)
    if times:
        marks = [
            (share, times[max(0, round(len(times) * share / 100) - 1)])
            for share in (25, 50, 75, 100)
        ]
        print(
            "confirmations by time after the start: "
            + ", ".join(f"{share} % at {at:.0f} s" for share, at in marks)
        )
    for channel in ("teams", "webex", None):
        chosen = [o for o in done if channel in (None, o.channel)]
        name = channel or "both"
        print(
            f"{name:>6} confirm_report → confirmation: "
            f"{quantiles([o.confirm_seconds for o in chosen if o.confirm_seconds is not None])}"
        )
    print(
        "  both whole report (first message → confirmation): "
        f"{quantiles([o.report_seconds for o in done if o.report_seconds is not None])}"
    )
    for system, counts in posts.items():
        shown = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
        print(f"engineers' channel, {system}: {shown}")
    print(
        f"outbox delivered {drain:.1f} s after the last confirmation"
        + (f" ({pending_left} rows still pending)" if pending_left else "")
    )
    incidents = [(key, n) for key, n in figures["incidents"] if key]
    ungrouped = sum(n for key, n in figures["incidents"] if not key)
    print(f"possible-outage incidents: {incidents}; tickets not grouped: {ungrouped}")
    for replica, (idle, end) in enumerate(zip(memory["idle"], memory["end"], strict=True)):
        print(
            f"bot RSS{f' (replica {replica + 1})' if len(memory['end']) > 1 else ''}: "
            f"{idle['VmRSS'] / 1024:.0f} MiB idle before the storm, peak "
            f"{end['VmHWM'] / 1024:.0f} MiB (VmHWM), {end['VmRSS'] / 1024:.0f} MiB at the end"
        )
    print(
        "CPU seconds during the storm: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
    )
    for channel, (count, total) in turn_seconds(metrics).items():
        if count:
            print(
                f"bot turns ({channel}): {count:.0f}, mean {total / count * 1000:.0f} ms each "
                "once running (chatops_turn_seconds; the wait for one of the turn slots not "
                "included)"
            )
    if activity:
        print(
            f"PostgreSQL during the storm: {activity['xact_commit']} commits "
            f"({activity['xact_commit'] / max(1, len(done)):.0f} per report), "
            f"{activity['xact_rollback']} rollbacks, rows returned {activity['tup_returned']}, "
            f"fetched {activity['tup_fetched']}, inserted {activity['tup_inserted']}, "
            f"updated {activity['tup_updated']}"
        )
    failed = [row for row in figures["inbound"] if row[1] != "done"]
    if failed:
        print(f"inbound events not done: {failed}")
    print(f"outbox rows: {figures['outbox']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument(
        "--window", type=float, default=60.0, help="seconds over which the reports start"
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=600.0,
        help="a report is lost when the bot's next card does not come within this",
    )
    parser.add_argument("--connections", type=int, default=256, help="per sending process")
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server; a database is created for the run and dropped after",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="how long to wait for the outbox (the alerts) after the last confirmation",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--replicas", type=int, default=1, help="`chatops serve` processes, contacts spread evenly"
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="run the bot under cProfile and write its stats here"
    )
    parser.add_argument("--fake-webex", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_webex:
        serve_fake_webex(args.fake_webex, args.reports, args.customers)
        return
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
