"""The SLA watcher on an injected clock: each warning and the breach exactly once and on time,
across a night, a weekend and a holiday; a pause moves them; an acknowledge stops them.

The watcher queues into the outbox; these tests read the outbox (what would be sent where)
and step the clock minute by minute, as a watcher running every minute would see it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.model import Sender
from bot.watcher import SlaWatcher
from storage.directory import ClosedDay, Directory
from storage.models import OutboxRow
from storage.repositories import Store
from tests.transcript import Transcript, customer_contact, report_by_card, staff_member

MINUTE = timedelta(minutes=1)


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@pytest.fixture
async def bot(directory: Directory, store: Store, tmp_path: Path) -> Transcript:
    await store.customers.sync(customers=directory.customers, now=vienna("2026-01-01T00:00"))
    return Transcript(directory, store, blob_root=tmp_path / "files")


@pytest.fixture
def clara(directory: Directory) -> Sender:
    return customer_contact(directory)


async def run_until(bot: Transcript, watcher: SlaWatcher, end: datetime) -> list[str]:
    """Step the clock a minute at a time up to `end` (skipping quiet minutes: nothing is due
    before the earliest stored instant); when each announcement was queued."""
    fired: list[str] = []
    while bot.now < end:
        bot.now = min(max(bot.now + MINUTE, await _next_due_minute(bot)), end)
        if await watcher.check():
            fired.append(f"{bot.now.astimezone(vienna('2026-01-01T00:00').tzinfo):%a %H:%M}")
    return fired


async def _next_due_minute(bot: Transcript) -> datetime:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import TicketRow

    async with bot.services.store.database.session() as session:
        due = (await session.execute(select(func.min(TicketRow.sla_next_due)))).scalar()
    if due is None:
        return datetime.max.replace(tzinfo=bot.now.tzinfo)
    # the first whole minute at or after it, as a once-a-minute watcher would meet it
    return due + (-due.timestamp() % 60) * timedelta(seconds=1)


async def messages(store: Store) -> list[OutboxRow]:
    async with store.database.session() as session:
        from sqlmodel import col, select

        rows = await session.scalars(select(OutboxRow).order_by(col(OutboxRow.id)))
        return list(rows.all())


def thread_texts(rows: list[OutboxRow]) -> list[str]:
    return [row.payload["answers"][0]["text"] for row in rows if row.kind == "thread"]


async def test_warnings_and_breach_fire_once_each_on_time_across_the_night(
    bot: Transcript, clara: Sender, world_store: Store
) -> None:
    bot.now = vienna("2026-01-07T15:30")  # Wednesday; P2: 4h, due Thursday 10:30
    await report_by_card(bot, clara)
    watcher = SlaWatcher(bot.services)

    fired = await run_until(bot, watcher, vienna("2026-01-08T12:00"))

    assert fired == ["Thu 08:30", "Thu 09:30", "Thu 10:06", "Thu 10:30"]
    texts = thread_texts(await messages(world_store))
    assert [text.split(":")[1].strip().split(" ")[0] for text in texts[:3]] == ["50", "75", "90"]
    assert "breached its reaction time" in texts[3]
    managers = [row for row in await messages(world_store) if ":managers:" in row.dedupe_key]
    assert len(managers) == 1
    assert (
        "Breach: CCS-2026-000001 (Demo Customer GmbH, P2)"
        in (managers[0].payload["answers"][0]["text"])
    )


async def test_one_pass_announces_every_due_ticket_not_just_one_batch(
    bot: Transcript, clara: Sender, world_store: Store
) -> None:
    bot.now = vienna("2026-01-07T15:30")  # Wednesday; P2: 4h, 50 % on Thursday 08:30
    for _ in range(5):
        await report_by_card(bot, clara)
    watcher = SlaWatcher(bot.services, batch=2)

    bot.now = vienna("2026-01-08T08:30")
    assert await watcher.check() == 5
    warned = [text for text in thread_texts(await messages(world_store)) if "50 %" in text]
    assert len({text.split(":")[0] for text in warned}) == 5  # one per ticket
    assert await watcher.check() == 0  # and each only once


async def test_a_weekend_and_a_holiday_push_the_warnings_on(bot: Transcript, clara: Sender) -> None:
    # Friday 02.01. 16:00: 1h on Friday, then Monday 05.01.; Tuesday 06.01. is Epiphany.
    bot.now = vienna("2026-01-02T16:00")
    await report_by_card(bot, clara)
    bot.now = vienna("2026-01-05T15:30")  # Monday 15:30: 1h30 today, then Wednesday
    await report_by_card(bot, clara)
    watcher = SlaWatcher(bot.services)
    bot.now = vienna("2026-01-02T16:00")

    fired = await run_until(bot, watcher, vienna("2026-01-07T11:00"))

    assert fired == [
        "Mon 09:00", "Mon 10:00", "Mon 10:36", "Mon 11:00",  # the Friday ticket
        "Wed 08:30", "Wed 09:30", "Wed 10:06", "Wed 10:30",  # Monday's, after the holiday
    ]  # fmt: skip


async def test_a_pause_moves_the_warnings(
    bot: Transcript, clara: Sender, directory: Directory
) -> None:
    bot.now = vienna("2026-01-07T15:30")
    await report_by_card(bot, clara)
    watcher = SlaWatcher(bot.services)
    bot.now = vienna("2026-01-07T16:00")
    await bot.say(
        "ask-logs CCS-2026-000001 the Webex logs", sender=staff_member(directory, "engineer")
    )
    assert await run_until(bot, watcher, vienna("2026-01-08T10:00")) == []

    await bot.say("Here is what you asked for: tracking id ABC-123", sender=clara)
    # 30 min used before the pause; 50 % (2h) needs 1h30 more from Thursday 10:00
    fired = await run_until(bot, watcher, vienna("2026-01-08T11:45"))

    assert fired == ["Thu 11:30"]


async def test_an_acknowledge_stops_the_warnings(
    bot: Transcript, clara: Sender, directory: Directory, world_store: Store
) -> None:
    bot.now = vienna("2026-01-07T15:30")
    await report_by_card(bot, clara)
    watcher = SlaWatcher(bot.services)
    assert await run_until(bot, watcher, vienna("2026-01-08T08:45")) == ["Thu 08:30"]

    await bot.say("ack CCS-2026-000001", sender=staff_member(directory, "engineer"))

    assert await run_until(bot, watcher, vienna("2026-01-08T12:00")) == []
    ticket = await world_store.tickets.by_number("CCS-2026-000001")
    assert ticket is not None
    assert ticket.sla_next_due is None or ticket.sla_next_due > bot.now  # resolution only


async def test_a_crashed_watcher_does_not_repeat_announcements(
    bot: Transcript, clara: Sender, world_store: Store
) -> None:
    bot.now = vienna("2026-01-07T15:30")
    await report_by_card(bot, clara)
    bot.now = vienna("2026-01-08T09:45")  # 50 % and 75 % have passed while nobody watched

    assert await SlaWatcher(bot.services).check() == 2
    # another replica (or a restart) looks at the same ticket again after the lease
    bot.now += timedelta(minutes=3)
    ticket = await world_store.tickets.by_number("CCS-2026-000001")
    assert ticket is not None and ticket.id is not None
    await world_store.tickets.set_next_due(ticket.id, bot.now)
    assert await SlaWatcher(bot.services).check() == 0
    assert len(thread_texts(await messages(world_store))) == 2


@pytest.fixture
def world_store(bot: Transcript) -> Store:
    return bot.services.store


async def test_one_ticket_the_watcher_cannot_read_does_not_silence_the_others(
    bot: Transcript, clara: Sender, directory: Directory, world_store: Store
) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from storage.models import TicketEventRow

    bot.now = vienna("2026-01-07T15:30")
    await report_by_card(bot, clara)
    await report_by_card(bot, clara, product="microsoft-calling")
    async with world_store.database.session() as session:  # its contract left the directory
        await session.execute(
            update(TicketEventRow)
            .where(col(TicketEventRow.ticket_id) == 1, col(TicketEventRow.kind) == "created")
            .values(data={"contract": "OLD", "priority": "P2"})
        )
    bot.now = vienna("2026-01-08T08:31")

    assert await SlaWatcher(bot.services).check() == 1
    texts = thread_texts(await messages(world_store))
    assert [text.split(":")[0] for text in texts] == ["⚠️ CCS-2026-000002"]


def with_closed_day(directory: Directory, day: date) -> Directory:
    """The directory with `day` closed in every service time (the provider's offsite)."""
    closed = ClosedDay(month=day.month, day=day.day, year=day.year, name="Provider offsite")
    service_times = {
        key: service_time.model_copy(update={"closed_days": (*service_time.closed_days, closed)})
        for key, service_time in directory.service_times.items()
    }
    return directory.model_copy(update={"service_times": service_times})


async def test_after_a_calendar_change_the_next_start_brings_every_ticket_up_to_date(
    directory: Directory, store: Store, clara: Sender, tmp_path: Path
) -> None:
    # Reported Wednesday 15:30 while Thursday 08.01. was to be closed: 50 % on Friday 08:30.
    offsite = with_closed_day(directory, date(2026, 1, 8))
    await store.customers.sync(customers=offsite.customers, now=vienna("2026-01-01T00:00"))
    before = Transcript(offsite, store, blob_root=tmp_path / "files")
    before.now = vienna("2026-01-07T15:30")
    await report_by_card(before, clara)
    assert await SlaWatcher(before.services).follow_terms() == 0  # first start: terms noted

    # The offsite is called off and the bot restarted with the directory as it was: the
    # warnings are due on Thursday again, and go out then, not a day late.
    after = Transcript(directory, store, blob_root=tmp_path / "files")
    after.now = vienna("2026-01-07T16:00")
    watcher = SlaWatcher(after.services)
    assert await watcher.follow_terms() == 1
    assert await watcher.follow_terms() is None  # once

    fired = await run_until(after, watcher, vienna("2026-01-09T12:00"))
    assert fired == ["Thu 08:30", "Thu 09:30", "Thu 10:06", "Thu 10:30"]


async def test_recomputing_keeps_an_instant_a_live_turn_changed_meanwhile(
    bot: Transcript, clara: Sender, world_store: Store
) -> None:
    bot.now = vienna("2026-01-07T15:30")
    await report_by_card(bot, clara)
    await report_by_card(bot, clara)
    tickets = [await world_store.tickets.by_number(f"CCS-2026-00000{n}") for n in (1, 2)]
    read = [(t.id, t.sla_next_due) for t in tickets if t is not None and t.id is not None]
    assert len(read) == 2 and all(due is not None for _id, due in read)
    (live, live_read), (quiet, quiet_read) = read
    assert live_read is not None and quiet_read is not None
    fresher = live_read + timedelta(hours=1)
    await world_store.tickets.set_next_due(live, fresher)  # e.g. an ack in between

    await world_store.tickets.replace_next_due(
        [(live, live_read, live_read + MINUTE), (quiet, quiet_read, quiet_read + MINUTE)]
    )

    stored = [await world_store.tickets.get(ticket_id) for ticket_id in (live, quiet)]
    assert [row.sla_next_due for row in stored if row] == [fresher, quiet_read + MINUTE]


async def test_a_ticket_that_cannot_be_recomputed_does_not_hold_up_the_others(
    directory: Directory, store: Store, clara: Sender, tmp_path: Path
) -> None:
    from sqlalchemy import update
    from sqlmodel import col

    from storage.models import TicketEventRow

    offsite = with_closed_day(directory, date(2026, 1, 8))
    await store.customers.sync(customers=offsite.customers, now=vienna("2026-01-01T00:00"))
    before = Transcript(offsite, store, blob_root=tmp_path / "files")
    before.now = vienna("2026-01-07T15:30")
    await report_by_card(before, clara)
    await report_by_card(before, clara)
    await SlaWatcher(before.services).follow_terms()
    broken = await store.tickets.by_number("CCS-2026-000001")
    assert broken is not None
    async with store.database.session() as session:  # its contract is gone from the directory
        await session.execute(
            update(TicketEventRow)
            .where(col(TicketEventRow.ticket_id) == broken.id)
            .values(data={"contract": "retired", "priority": "P2"})
        )

    after = Transcript(directory, store, blob_root=tmp_path / "files")
    after.now = vienna("2026-01-07T16:00")
    assert await SlaWatcher(after.services).follow_terms() == 1  # the other one moved
