"""Benchmark: the SLA watcher over 1,000,000 open tickets in PostgreSQL.

A database is created for the run (`chatops migrate`, dropped at the end) and filled with COPY:
200 customers on the CCSB contract (SNAZ: Mon–Fri 08:00–17:00 Vienna, Austrian holidays),
N open tickets (priorities P1–P4, created in the year before NOW) with their `created` events,
and `sla_next_due` spread uniformly from shortly before NOW to a year after it, so that about
`--due` tickets are due at NOW (the instants are synthetic: drawn, not replayed from the logs).

Measured:
(a) the due-scan: `Tickets.claim_due(now=NOW, lease=LEASE)` as `SlaWatcher.check` calls it
    (50 per pass), repeated until nothing is due; its time per call, and EXPLAIN (ANALYZE,
    BUFFERS) of its SELECT to show whether `ix_ticket_sla_next_due` is used;
(b) recomputing every ticket's `sla_next_due` after a calendar change (a new closed day in
    SNAZ): from each ticket's event log with the SLA engine under the new calendar,
    - one ticket at a time, `dialogs.ticket_state.refresh_next_due` (what the bot runs after
      a change to one ticket; three transactions each) on a sample, extrapolated;
    - as the bot does it at its first start after the change: `SlaWatcher.follow_terms`;
    - the floor, raw asyncpg: the events of `--batch` tickets per query, the engine in Python, one
      `UPDATE … FROM unnest(…)` per batch, over all tickets (or `--recompute` of them,
      extrapolated, which the output says).

Run: `.venv/bin/python bench/watcher_scale.py` (1,000,000 tickets; `--tickets 100000` for a
quick run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/watcher_scale.py`
    sys.path.insert(0, str(ROOT))

from bot.watcher import SlaWatcher  # noqa: E402
from dialogs.services import Services  # noqa: E402
from dialogs.ticket_state import RECOMPUTE_BATCH, refresh_next_due  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.directory import ClosedDay, Directory, Priority, load_directory  # noqa: E402
from storage.files import BlobStore  # noqa: E402
from storage.leases import DEFAULT_LEASE as LEASE  # noqa: E402
from storage.models import TicketRow  # noqa: E402
from storage.repositories import Store  # noqa: E402
from storage.sla import SlaCatalog, SlaEvent, SlaEventKind, sla_state  # noqa: E402

NOW = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)  # Tuesday 10:00 in Vienna
NEW_CLOSED_DAY = ClosedDay(year=2026, month=6, day=17, name="Company event")  # tomorrow
CUSTOMERS = 200
PRIORITIES = ("P1", "P2", "P2", "P3", "P3", "P3", "P4")
PRODUCTS = (
    "webex-calling",
    "webex-contact-center",
    "microsoft-calling",
    "luware-attendant-console",
    "luware-recording",
    "luware-contact-center",
)
ADMIN_DATABASE = "postgres"  # the maintenance database, to run CREATE/DROP DATABASE from
SLA_KINDS = tuple(kind.value for kind in SlaEventKind)


def directory_with_customers(customers: int) -> Directory:
    example = load_directory(ROOT / "chatops.example.toml")
    demo = example.customers[0]
    made = tuple(
        demo.model_copy(
            update={
                "key": f"c{n:04d}",
                "name": f"Customer {n:04d} GmbH",
                "teams_tenant_ids": (f"tenant-{n}",),
                "webex_org_ids": (),
                "email_domains": (),
                "onboarded": None,
            }
        )
        for n in range(customers)
    )
    return example.model_copy(update={"customers": made})


def with_closed_day(directory: Directory, day: ClosedDay) -> Directory:
    snaz = directory.service_times["SNAZ"]
    changed = snaz.model_copy(update={"closed_days": (*snaz.closed_days, day)})
    return directory.model_copy(
        update={"service_times": {**directory.service_times, "SNAZ": changed}}
    )


# --- filling the database ---------------------------------------------------------------------


async def fill(dsn: str, tickets: int, due: int, seed: int) -> float:
    """COPY the customers, tickets and `created` events; the seconds it took."""
    rng = random.Random(seed)
    year = timedelta(days=365)
    # Uniform over [NOW - before, NOW + year): about `due` of them fall at or before NOW.
    before = year * due / max(1, tickets - due)
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "customer",
            records=[(f"c{n:04d}", f"Customer {n:04d} GmbH", NOW, NOW) for n in range(CUSTOMERS)],
            columns=["key", "name", "first_seen", "updated_at"],
        )
        batch = 100_000
        for first in range(1, tickets + 1, batch):
            ticket_rows, event_rows = [], []
            for ticket_id in range(first, min(first + batch, tickets + 1)):
                created = NOW - year * rng.random()
                priority = rng.choice(PRIORITIES)
                customer = f"c{rng.randrange(CUSTOMERS):04d}"
                user = f"29:contact-{ticket_id % 5000}"
                ticket_rows.append(
                    (
                        ticket_id,
                        f"CCS-{created.year}-{ticket_id:07d}",
                        customer,
                        "fault",
                        "open",
                        "CCSB",
                        rng.choice(PRODUCTS),
                        priority,
                        "Calls drop after 30 seconds on all phones",
                        "All users at the Vienna office",
                        "Restarted the phones",
                        "+43 1 234 5678",
                        "{}",
                        "en",
                        "teams",
                        user,
                        "Clara Contact",
                        f"a:{user}",
                        created,
                        created,
                        NOW - before + (year + before) * rng.random(),
                        "",
                    )
                )
                event_rows.append(
                    (
                        ticket_id,
                        "created",
                        created,
                        user,
                        json.dumps({"priority": priority, "contract": "CCSB"}),
                    )
                )
            await connection.copy_records_to_table(
                "ticket",
                records=ticket_rows,
                columns=[
                    "id",
                    "number",
                    "customer_key",
                    "kind",
                    "status",
                    "contract",
                    "product",
                    "priority",
                    "description",
                    "affected",
                    "tested",
                    "phone",
                    "details",
                    "language",
                    "reporter_channel",
                    "reporter_user_id",
                    "reporter_name",
                    "conversation_id",
                    "created_at",
                    "updated_at",
                    "sla_next_due",
                    "owner_name",
                ],
            )
            await connection.copy_records_to_table(
                "ticket_event",
                records=event_rows,
                columns=["ticket_id", "kind", "at", "actor", "data"],
            )
        await connection.execute("SELECT setval('ticket_id_seq', $1)", tickets)
        await connection.execute("ANALYZE ticket")
        await connection.execute("ANALYZE ticket_event")
    finally:
        await connection.close()
    return time.perf_counter() - started


# --- (a) the due-scan -------------------------------------------------------------------------


async def due_scan(url: str, dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        due = await connection.fetchval(
            "SELECT count(*) FROM ticket WHERE sla_next_due <= $1 AND status != 'resolved'", NOW
        )
        print(f"(a) due at NOW ({NOW.isoformat()}): {due} tickets")
        print("    EXPLAIN (ANALYZE, BUFFERS) of claim_due's SELECT:")
        sql, params = claim_due_select()
        # In a transaction that is rolled back: FOR UPDATE locks the rows it returns.
        transaction = connection.transaction()
        await transaction.start()
        plan = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *params)
        await transaction.rollback()
        for row in plan:
            print(f"      {row[0]}")
    finally:
        await connection.close()

    database = Database(url)
    try:
        store = Store(database)
        times: list[float] = []
        claimed = 0
        while True:
            started = time.perf_counter()
            rows = await store.tickets.claim_due(now=NOW, lease=LEASE)
            times.append(time.perf_counter() - started)
            if not rows:
                break
            claimed += len(rows)
    finally:
        await database.dispose()
    calls = len(times)
    print(
        f"    claim_due (limit 50, as SlaWatcher.check): {calls} calls claimed {claimed} tickets; "
        f"first {times[0] * 1000:.1f} ms, median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms, the empty last call {times[-1] * 1000:.1f} ms"
    )


def claim_due_select() -> tuple[str, list[Any]]:
    """The SELECT `Tickets.claim_due` sends (compiled by SQLAlchemy for asyncpg)."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect
    from sqlmodel import col, select

    from storage.models import TicketStatus

    query = (
        select(TicketRow)
        .where(col(TicketRow.sla_next_due) <= NOW, col(TicketRow.status) != TicketStatus.RESOLVED)
        .order_by(col(TicketRow.sla_next_due))
        .limit(50)
        .with_for_update(skip_locked=True)
    )
    compiled = query.compile(dialect=dialect())
    positions = compiled.positiontup or []
    return str(compiled), [compiled.params[name] for name in positions]


# --- (b) recomputing every deadline after a calendar change -----------------------------------


@dataclass
class Timing:
    fetch: float = 0.0
    engine: float = 0.0
    write: float = 0.0
    tickets: int = 0


async def recompute_per_ticket(url: str, directory: Directory, sample: Sequence[int]) -> float:
    """`refresh_next_due` (what the bot runs after any change) for each ticket of `sample`;
    the seconds per ticket."""
    database = Database(url)
    try:
        store = Store(database)
        services = Services(
            store=store,
            directory=directory,
            blobs=BlobStore(Path(tempfile.gettempdir()) / "watcher-scale", max_bytes=1),
            sla=SlaCatalog(directory),
            clock=lambda: NOW,
        )
        rows = [await store.tickets.get(ticket_id) for ticket_id in sample[:50]]  # warm-up
        for row in rows:
            assert row is not None
            await refresh_next_due(services, row)
        started = time.perf_counter()
        for ticket_id in sample:
            ticket = TicketRow(id=ticket_id)  # refresh_next_due reads the ticket itself
            await refresh_next_due(services, ticket)
        return (time.perf_counter() - started) / len(sample)
    finally:
        await database.dispose()


async def recompute_at_start(url: str, directory: Directory) -> tuple[float, int]:
    """What a replica does at its first start after the change: `SlaWatcher.follow_terms`
    (`refresh_all_next_due` over every open ticket); (seconds, instants moved)."""
    database = Database(url)
    try:
        services = Services(
            store=Store(database),
            directory=directory,
            blobs=BlobStore(Path(tempfile.gettempdir()) / "watcher-scale", max_bytes=1),
            sla=SlaCatalog(directory),
            clock=lambda: NOW,
        )
        started = time.perf_counter()
        moved = await SlaWatcher(services).follow_terms()
        return time.perf_counter() - started, moved or 0
    finally:
        await database.dispose()


async def recompute_batched(dsn: str, directory: Directory, limit: int, batch: int) -> Timing:
    """The events of `batch` tickets per query, the engine, one UPDATE per batch."""
    catalog = SlaCatalog(directory)
    terms: dict[str, Any] = {}
    timing = Timing()
    connection = await asyncpg.connect(dsn)
    try:
        last, top = 0, int(await connection.fetchval("SELECT coalesce(max(id), 0) FROM ticket"))
        while timing.tickets < limit and last < top:
            started = time.perf_counter()
            upper = last + min(batch, limit - timing.tickets)
            rows = await connection.fetch(
                "SELECT t.id, t.customer_key, t.sla_next_due, e.kind, e.at, e.data "
                "FROM ticket t JOIN ticket_event e ON e.ticket_id = t.id "
                "WHERE t.id > $1 AND t.id <= $2 AND t.status != 'resolved' "
                "AND e.kind = ANY($3::text[]) ORDER BY t.id, e.id",
                last,
                upper,
                list(SLA_KINDS),
            )
            fetched = time.perf_counter()
            last = upper
            ids: list[int] = []
            dues: list[datetime | None] = []
            for ticket_id, customer, _stored, events in per_ticket(rows):
                if customer not in terms:
                    terms[customer] = catalog.terms_for(customer)
                due = sla_state(events, terms[customer], NOW).next_due()
                ids.append(ticket_id)
                dues.append(due)
            computed = time.perf_counter()
            await connection.execute(
                "UPDATE ticket SET sla_next_due = v.due FROM unnest($1::int[], "
                "$2::timestamptz[]) AS v(id, due) WHERE ticket.id = v.id",
                ids,
                dues,
            )
            written = time.perf_counter()
            timing.fetch += fetched - started
            timing.engine += computed - fetched
            timing.write += written - computed
            timing.tickets += len(ids)
    finally:
        await connection.close()
    return timing


def per_ticket(
    rows: Sequence[asyncpg.Record],
) -> list[tuple[int, str, datetime | None, list[SlaEvent]]]:
    """Rows of (ticket, event) ordered by ticket → (ticket id, customer, stored due, events)."""
    found: list[tuple[int, str, datetime | None, list[SlaEvent]]] = []
    for row in rows:
        if not found or found[-1][0] != row["id"]:
            found.append((row["id"], row["customer_key"], row["sla_next_due"], []))
        data = json.loads(row["data"])
        priority = data.get("priority")
        found[-1][3].append(
            SlaEvent(
                kind=SlaEventKind(row["kind"]),
                at=row["at"],
                priority=Priority(priority) if priority else None,
                contract=data.get("contract"),
                reason=str(data.get("reason", "")),
            )
        )
    return found


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


# --- the run ----------------------------------------------------------------------------------


async def admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{server}/{ADMIN_DATABASE}")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> None:
    server = args.server.rstrip("/")
    database = f"bench_watcher_{os.getpid()}"
    dsn = f"{server}/{database}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await admin(server, f'CREATE DATABASE "{database}"')
    except OSError as exc:  # `make bench` on a machine without the server
        print(f"watcher scale: skipped, no PostgreSQL at {server} ({exc})")
        return
    try:
        env = {**os.environ, "CHATOPS_DATABASE_URL": url, "CHATOPS_LOG_LEVEL": "WARNING"}
        chatops = str(Path(sys.executable).parent / "chatops")
        migrated = await asyncio.to_thread(
            subprocess.run, [chatops, "migrate"], env=env, capture_output=True, text=True
        )
        if migrated.returncode:
            raise SystemExit(f"chatops migrate failed:\n{migrated.stdout}{migrated.stderr}")
        print(
            f"watcher scale: {args.tickets:,} open tickets, PostgreSQL, {os.cpu_count()} cores, "
            f"code {code_version()}",
            flush=True,
        )
        seconds = await fill(dsn, args.tickets, args.due, args.seed)
        print(
            f"filled with COPY in {seconds:.1f} s ({args.tickets:,} tickets + "
            f"{args.tickets:,} created events)",
            flush=True,
        )
        await due_scan(url, dsn)

        changed = with_closed_day(directory_with_customers(CUSTOMERS), NEW_CLOSED_DAY)
        print(
            f"(b) calendar change: SNAZ closed on {NEW_CLOSED_DAY.year}-{NEW_CLOSED_DAY.month:02d}-"
            f"{NEW_CLOSED_DAY.day:02d} ({NEW_CLOSED_DAY.name}); every sla_next_due recomputed "
            "from its event log",
            flush=True,
        )
        sample = random.Random(args.seed).sample(
            range(1, args.tickets + 1), min(args.sample, args.tickets)
        )
        per_ticket = await recompute_per_ticket(url, changed, sample)
        print(
            f"    per ticket with refresh_next_due (3 transactions each), sample of "
            f"{len(sample):,}: {per_ticket * 1000:.2f} ms per ticket → "
            f"{per_ticket * args.tickets / 60:.1f} min for {args.tickets:,} (extrapolated)",
            flush=True,
        )
        seconds, moved = await recompute_at_start(url, changed)
        print(
            f"    at the next start (SlaWatcher.follow_terms, {RECOMPUTE_BATCH} tickets per "
            f"batch): {seconds:.1f} s, {seconds / args.tickets * 1e6:.0f} µs per ticket, "
            f"{moved:,} instants moved",
            flush=True,
        )
        limit = min(args.recompute or args.tickets, args.tickets)
        started = time.perf_counter()
        timing = await recompute_batched(dsn, changed, limit, args.batch)
        total = time.perf_counter() - started
        scope = (
            "all tickets"
            if timing.tickets >= args.tickets
            else f"{timing.tickets:,} of {args.tickets:,} tickets, extrapolated below"
        )
        per = total / max(1, timing.tickets)
        print(
            f"    batched ({args.batch:,} tickets per query), {scope}: {total:.1f} s, "
            f"{per * 1e6:.0f} µs per ticket (fetch {timing.fetch / timing.tickets * 1e6:.0f}, "
            f"engine {timing.engine / timing.tickets * 1e6:.0f}, "
            f"write {timing.write / timing.tickets * 1e6:.0f})"
        )
        if timing.tickets < args.tickets:
            print(f"    → {per * args.tickets:.0f} s for {args.tickets:,} (extrapolated)")
    finally:
        if args.keep:
            print(f"database kept: {dsn}")
        else:
            await admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=300, help="about this many due at NOW")
    parser.add_argument(
        "--sample", type=int, default=2000, help="tickets recomputed one by one (extrapolated)"
    )
    parser.add_argument(
        "--recompute", type=int, default=0, help="recompute only this many batched (0: all)"
    )
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20260616)
    parser.add_argument(
        "--server",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server; a database is created for the run and dropped after",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
