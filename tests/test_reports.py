"""SLA reports for managers over tickets seeded through the real storage, on every backend.

January 2026 under CCSB (reaction 4h for every priority) in SNAZ: Mon–Fri 08:00–17:00
Europe/Vienna (UTC+01:00 all month); Thu 01.01. (New Year) and Tue 06.01. (Epiphany) closed.
The facts are taken as of Mon 02.02.2026 09:00. Worked out by hand (business time):

 #  ticket           created (local)   first reaction                           used  paused
 1  new year, P3     Thu 01.01. 00:30  holiday; Fri 02.01. 08:00–09:15           75m   0   met
 2  epiphany, P2     Mon 05.01. 15:30  Mon 15:30–17:00, Tue closed,             210m   0   met
                                       Wed 07.01. 08:00–10:00
 3  in time, P2      Wed 07.01. 09:00  09:00–10:30                               90m   0   met
 4  breach, P1       Thu 08.01. 13:00  Thu 13:00–17:00 + Fri 08:00–10:00        360m   0   breached
 5  night pause, P3  Mon 12.01. 15:00  Mon 15:00–16:00; paused Mon 16:00–17:00  150m 150m  met
                                       and Tue 08:00–09:30 (60m + 90m);
                                       Tue 09:30–11:00
 6  reopened, P2     Wed 14.01. 10:00  10:00–11:00; resolved 15:00; reopened     60m  30m  met
                                       Mon 02.02. 08:00, paused 08:15–08:45
                                       (second cycle: 30m used, running)
 7  change req., P4  Thu 15.01. 14:00  Thu 14:00–17:00 + Fri 08:00–09:00        240m   0   met
                                       (exactly the target: not a breach)
 8  acme, P2         Tue 20.01. 09:00  09:00–14:00 (the other customer)         300m   0   breached
 9  running, P2      Fri 30.01. 16:00  Fri 16:00–17:00 + Mon 08:00–09:00        120m   0   pending
10  February, P2     Sun 01.02. 00:30  Mon 08:00–09:00                           60m   0   pending

Ticket 1 was created on 31.12.2025 in UTC but belongs to January in Vienna; ticket 10 was
created in January in UTC but belongs to February.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw, ImageFont

from dialogs.report_text import report_text
from storage.charts import attainment_chart, drawable
from storage.directory import Directory, Priority
from storage.models import TicketStatus
from storage.reports import (
    Outcome,
    Report,
    TicketFacts,
    breaches,
    monthly_report,
    nearest_rank,
    parse_period,
    period_report,
    ticket_facts,
    to_csv,
)
from storage.repositories import Store
from storage.sla import SlaCatalog, sla_state
from storage.tickets import NewTicket, sla_events
from tests.samples import sample_ticket

VIENNA = ZoneInfo("Europe/Vienna")
M = timedelta(minutes=1)
AS_OF = datetime.fromisoformat("2026-02-02T09:00+01:00")
OPEN, WAITING, RESOLVED = (
    TicketStatus.OPEN,
    TicketStatus.WAITING_FOR_CUSTOMER,
    TicketStatus.RESOLVED,
)


def vienna(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+01:00")


@dataclass(frozen=True)
class Seed:
    """A ticket to create and what happens to it afterwards."""

    created: str
    priority: Priority
    product: str
    events: tuple[tuple[str, str, TicketStatus | None], ...] = ()
    kind: str = "fault"
    customer: str = "demo"


SEEDS = (
    Seed("2026-01-01T00:30", Priority.P3, "webex-calling",
         (("responded", "2026-01-02T09:15", None), ("resolved", "2026-01-02T11:00", RESOLVED))),
    Seed("2026-01-05T15:30", Priority.P2, "luware-recording",
         (("responded", "2026-01-07T10:00", None), ("resolved", "2026-01-07T12:00", RESOLVED))),
    Seed("2026-01-07T09:00", Priority.P2, "webex-calling",
         (("responded", "2026-01-07T10:30", None), ("resolved", "2026-01-07T16:00", RESOLVED))),
    Seed("2026-01-08T13:00", Priority.P1, "microsoft-calling",
         (("responded", "2026-01-09T10:00", None), ("resolved", "2026-01-09T15:00", RESOLVED))),
    Seed("2026-01-12T15:00", Priority.P3, "webex-calling",
         (("paused", "2026-01-12T16:00", WAITING), ("resumed", "2026-01-13T09:30", OPEN),
          ("responded", "2026-01-13T11:00", None), ("resolved", "2026-01-13T15:00", RESOLVED))),
    Seed("2026-01-14T10:00", Priority.P2, "webex-contact-center",
         (("responded", "2026-01-14T11:00", None), ("resolved", "2026-01-14T15:00", RESOLVED),
          ("reopened", "2026-02-02T08:00", OPEN), ("paused", "2026-02-02T08:15", WAITING),
          ("resumed", "2026-02-02T08:45", OPEN))),
    Seed("2026-01-15T14:00", Priority.P4, "microsoft-calling",
         (("responded", "2026-01-16T09:00", None), ("resolved", "2026-01-16T12:00", RESOLVED)),
         kind="change_request"),
    Seed("2026-01-20T09:00", Priority.P2, "luware-attendant-console",
         (("responded", "2026-01-20T14:00", None), ("resolved", "2026-01-20T16:00", RESOLVED)),
         customer="acme"),
    Seed("2026-01-30T16:00", Priority.P2, "webex-calling",
         (("sla_notice", "2026-02-02T09:00", None),)),  # not an SLA event: ignored
    Seed("2026-02-01T00:30", Priority.P2, "webex-calling"),
)  # fmt: skip
NUMBERS = [f"CCS-2026-{n:06d}" for n in range(1, len(SEEDS) + 1)]
JANUARY = NUMBERS[:9]


def new_ticket(seed: Seed) -> NewTicket:
    return sample_ticket(
        customer_key=seed.customer, kind=seed.kind, product=seed.product, priority=seed.priority
    )


async def seed_tickets(store: Store, directory: Directory) -> list[int]:
    """The customers (the example's `demo` and a second one) and the tickets of SEEDS."""
    acme = directory.customers[0].model_copy(update={"key": "acme", "name": "Acme AG"})
    await store.customers.sync(
        customers=[*directory.customers, acme], now=vienna("2025-12-01T00:00")
    )
    ids = []
    for seed in SEEDS:
        row, created = await store.tickets.create(
            new_ticket(seed), prefix="CCS", year=2026, now=vienna(seed.created)
        )
        assert created and row.id is not None
        for kind, when, status in seed.events:
            data = {"reason": "waiting for logfiles"} if kind == "paused" else {}
            await store.tickets.append(row.id, kind=kind, at=vienna(when), data=data, status=status)
        ids.append(row.id)
    return ids


async def load_facts(
    store: Store, directory: Directory, ids: list[int], as_of: datetime = AS_OF
) -> list[TicketFacts]:
    catalog = SlaCatalog(directory)
    facts = []
    for ticket_id in ids:
        ticket = await store.tickets.get(ticket_id)
        assert ticket is not None
        events = await store.tickets.events(ticket_id)
        facts.append(ticket_facts(ticket, events, catalog.terms_for(ticket.customer_key), as_of))
    return facts


@pytest.fixture
async def facts(store: Store, directory: Directory) -> list[TicketFacts]:
    return await load_facts(store, directory, await seed_tickets(store, directory))


@pytest.fixture
def january(facts: list[TicketFacts]) -> Report:
    return monthly_report(facts, month="2026-01", zone=VIENNA, customer=None)


def summary(f: TicketFacts) -> tuple[str, int, bool, bool, int, bool, str]:
    return (
        f.number[-2:],
        round(f.reaction_used / M),
        f.responded,
        f.breached,
        round(f.paused / M),
        f.reopened,
        f.outcome.value,
    )


# --- one ticket -----------------------------------------------------------------------------


async def test_each_ticket_reports_its_first_reaction_and_its_pauses(
    facts: list[TicketFacts],
) -> None:
    assert [summary(f) for f in facts] == [
        ("01", 75, True, False, 0, False, "met"),
        ("02", 210, True, False, 0, False, "met"),  # Epiphany closed
        ("03", 90, True, False, 0, False, "met"),
        ("04", 360, True, True, 0, False, "breached"),
        ("05", 150, True, False, 150, False, "met"),  # paused across the night
        ("06", 60, True, False, 30, True, "met"),  # the first cycle; pause of the second
        ("07", 240, True, False, 0, False, "met"),  # exactly the target
        ("08", 300, True, True, 0, False, "breached"),
        ("09", 120, False, False, 0, False, "pending"),
        ("10", 60, False, False, 0, False, "pending"),
    ]
    assert {f.reaction_target for f in facts} == {240 * M}
    assert [f.status for f in facts] == [
        *[RESOLVED] * 5, OPEN, RESOLVED, RESOLVED, OPEN, OPEN
    ]  # fmt: skip
    assert facts[0].created_at == vienna("2026-01-01T00:30")
    assert (facts[6].kind, facts[7].customer_key) == ("change_request", "acme")


async def test_a_reopened_ticket_keeps_its_original_reaction(
    store: Store, directory: Directory
) -> None:
    ids = await seed_tickets(store, directory)
    events = await store.tickets.events(ids[5])
    terms = SlaCatalog(directory).terms_for("demo")
    # sla_state reports the current (second) cycle: 08:00–08:15 + 08:45–09:00
    current = sla_state(sla_events(events), terms, AS_OF)
    assert (current.cycle, current.reaction.used, current.reaction.running) == (2, 30 * M, True)

    [reopened] = await load_facts(store, directory, [ids[5]])
    assert (reopened.reaction_used, reopened.outcome) == (60 * M, Outcome.MET)
    # as of the first cycle's end, the reopen (and its pause) has not happened yet
    [before] = await load_facts(store, directory, [ids[5]], as_of=vienna("2026-01-20T12:00"))
    assert (before.reopened, before.paused, before.reaction_used) == (False, 0 * M, 60 * M)


async def test_a_pending_ticket_becomes_a_breach_once_the_target_has_passed(
    store: Store, directory: Directory
) -> None:
    ids = await seed_tickets(store, directory)
    # Mon 12:00: Fri 16:00–17:00 + Mon 08:00–12:00 = 5h, unanswered
    [running] = await load_facts(store, directory, [ids[8]], as_of=vienna("2026-02-02T12:00"))
    assert (running.reaction_used, running.responded, running.outcome) == (
        300 * M, False, Outcome.BREACHED
    )  # fmt: skip
    # events after `as_of` are not known yet: ticket 4 before its response, Thu 16:00
    [breach] = await load_facts(store, directory, [ids[3]], as_of=vienna("2026-01-08T16:00"))
    assert (breach.reaction_used, breach.outcome) == (180 * M, Outcome.PENDING)


# --- the report -----------------------------------------------------------------------------


async def test_the_monthly_report_of_all_customers(january: Report) -> None:
    assert [f.number for f in january.rows] == JANUARY  # not ticket 10 (February in Vienna)
    assert (january.period.label, january.period.start, january.period.end) == (
        "2026-01", vienna("2026-01-01T00:00"), vienna("2026-02-01T00:00")
    )  # fmt: skip
    assert (january.tickets, january.faults, january.change_requests) == (9, 8, 1)
    assert (january.met, january.breached, january.pending) == (6, 2, 1)
    assert january.reaction_met_percent == pytest.approx(75.0)  # 6 of 8 known
    # answered: 60 75 90 150 | 210 240 300 360 → P50 rank ceil(4) = 4, P90 rank ceil(7.2) = 8
    assert january.responded == 8
    assert (january.median_reaction, january.p90_reaction) == (150 * M, 360 * M)
    assert january.by_product == {
        "webex-calling": 4,
        "microsoft-calling": 2,
        "luware-attendant-console": 1,
        "luware-recording": 1,
        "webex-contact-center": 1,
    }
    assert january.by_priority == {"P1": 1, "P2": 5, "P3": 2, "P4": 1}
    assert january.paused_total == 180 * M  # 150 (ticket 5) + 30 (ticket 6, second cycle)
    assert january.weekly == [
        ("2026-W01", 1, 0),  # ticket 1 (Thu 01.01.)
        ("2026-W02", 2, 1),  # tickets 2, 3 met; 4 breached
        ("2026-W03", 3, 0),  # tickets 5, 6, 7
        ("2026-W04", 0, 1),  # ticket 8
        ("2026-W05", 0, 0),  # ticket 9 is still pending
    ]


async def test_the_monthly_report_of_one_customer(facts: list[TicketFacts]) -> None:
    demo = monthly_report(facts, month="2026-01", zone=VIENNA, customer="demo")

    assert demo.customer == "demo"
    assert [f.number[-2:] for f in demo.rows] == ["01", "02", "03", "04", "05", "06", "07", "09"]
    assert (demo.met, demo.breached, demo.pending) == (6, 1, 1)
    assert demo.reaction_met_percent == pytest.approx(600 / 7)
    # 60 75 90 150 210 240 360 → P50 rank ceil(3.5) = 4, P90 rank ceil(6.3) = 7
    assert (demo.median_reaction, demo.p90_reaction) == (150 * M, 360 * M)
    assert demo.weekly[3] == ("2026-W04", 0, 0)


async def test_a_period_without_known_outcomes_has_no_percentage(
    facts: list[TicketFacts],
) -> None:
    start, end, label = parse_period("this week", now=AS_OF, zone=VIENNA)
    week = period_report(facts, start=start, end=end, label=label, customer=None)

    assert (week.period.label, week.tickets, week.pending) == ("2026-W06", 0, 0)
    assert week.reaction_met_percent is None
    assert (week.median_reaction, week.p90_reaction) == (None, None)
    assert week.weekly == [("2026-W06", 0, 0)]
    assert "Reaction met: **–**" in report_text(week, "en")

    last = period_report(facts, **_period("last week"), customer=None)
    assert [f.number[-2:] for f in last.rows] == ["09", "10"]  # Fri 30.01. and Sun 01.02.
    assert (last.pending, last.weekly) == (2, [("2026-W05", 0, 0)])


def _period(text: str) -> dict[str, Any]:
    start, end, label = parse_period(text, now=AS_OF, zone=VIENNA)
    return {"start": start, "end": end, "label": label}


async def test_breaches_lists_the_late_first_reactions(facts: list[TicketFacts]) -> None:
    found = breaches(facts, start=vienna("2026-01-01T00:00"), end=vienna("2026-02-01T00:00"))
    assert [(f.number, f.reaction_used) for f in found] == [
        ("CCS-2026-000004", 360 * M),
        ("CCS-2026-000008", 300 * M),
    ]
    assert breaches(facts, start=vienna("2026-01-09T00:00"), end=vienna("2026-01-20T09:00")) == []


async def test_the_csv_has_a_row_per_ticket(january: Report) -> None:
    rows = list(csv.reader(io.StringIO(to_csv(january))))

    assert rows[0] == [
        "number", "customer", "product", "priority", "kind", "created", "reaction_minutes",
        "target_minutes", "outcome", "paused_minutes", "reopened",
    ]  # fmt: skip
    assert len(rows) == 1 + 9
    assert rows[1] == [
        "CCS-2026-000001", "demo", "webex-calling", "P3", "fault", "2026-01-01T00:30:00+01:00",
        "75", "240", "met", "0", "no",
    ]  # fmt: skip
    assert rows[6][6:] == ["60", "240", "met", "30", "yes"]
    assert rows[7][4:9] == ["change_request", "2026-01-15T14:00:00+01:00", "240", "240", "met"]
    assert rows[8][:2] == ["CCS-2026-000008", "acme"]
    assert rows[9][6:9] == ["120", "240", "pending"]
    assert [row[8] for row in rows[1:]].count("breached") == 2


async def test_the_text_summary(january: Report) -> None:
    text = report_text(january, "en")

    assert text.splitlines() == [
        "**SLA report 2026-01** · all customers",
        "- Tickets: 9 (8 faults, 1 change request)",
        "- Reaction met: **75 %** (6 met, 2 breached, 1 pending)",
        "- Reaction time (business, 8 answered): median 2 hrs 30 mins, p90 6 hrs",
        "- Waiting for the customer: 3 hrs",
        "- By priority: P1 1 · P2 5 · P3 2 · P4 1",
        "- By product: webex-calling 4 · microsoft-calling 2 · luware-attendant-console 1 · "
        "luware-recording 1 · webex-contact-center 1",
        "- By week (met/known): 2026-W01 1/1 · 2026-W02 2/3 · 2026-W03 3/3 · 2026-W04 0/1 · "
        "2026-W05 0/0",
        "- Breaches: CCS-2026-000004 (P1, 6 hrs of 4 hrs), CCS-2026-000008 (P2, 5 hrs of 4 hrs)",
    ]


async def test_the_text_summary_in_german(january: Report) -> None:
    text = report_text(january, "de", product_names={"webex-calling": "Other / not sure"})

    assert text.splitlines()[:5] == [
        "**SLA-Bericht 2026-01** · alle Kunden",
        "- Tickets: 9 (8 Störungen, 1 Änderungsauftrag)",
        "- Reaktion eingehalten: **75 %** (6 eingehalten, 2 verletzt, 1 offen)",
        "- Reaktionszeit (Servicezeit, 8 beantwortet): Median 2 Std. 30 Min., p90 6 Std.",
        "- Wartezeit auf den Kunden: 3 Std.",
    ]
    assert "- Nach Produkt: Anderes / unklar 4 · microsoft-calling 2" in text
    assert text.endswith("CCS-2026-000008 (P2, 5 Std. von 4 Std.)")


# --- periods and percentiles (pure) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "now", "expected"),
    [
        ("this week", "2026-01-14T10:00+01:00", ("2026-01-12", "2026-01-19", "2026-W03")),
        ("last week", "2026-01-14T10:00+01:00", ("2026-01-05", "2026-01-12", "2026-W02")),
        ("this month", "2026-01-14T10:00+01:00", ("2026-01-01", "2026-02-01", "2026-01")),
        ("last month", "2026-01-14T10:00+01:00", ("2025-12-01", "2026-01-01", "2025-12")),
        (" Last  Week ", "2026-01-02T10:00+01:00", ("2025-12-22", "2025-12-29", "2025-W52")),
        # Sunday 23:30 UTC is already Monday in Vienna: the new week
        ("this week", "2026-01-11T23:30+00:00", ("2026-01-12", "2026-01-19", "2026-W03")),
        ("last month", "2026-03-31T23:30+00:00", ("2026-03-01", "2026-04-01", "2026-03")),
        ("2026-02", "2026-05-05T10:00+02:00", ("2026-02-01", "2026-03-01", "2026-02")),
    ],
)
def test_parse_period(text: str, now: str, expected: tuple[str, str, str]) -> None:
    start, end, label = parse_period(text, now=datetime.fromisoformat(now), zone=VIENNA)
    assert (f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}", label) == expected
    assert (start.hour, start.minute, end.hour, end.minute) == (0, 0, 0, 0)
    assert start.tzinfo is VIENNA


def test_a_month_across_the_clock_change_ends_at_local_midnight() -> None:
    start, end, _ = parse_period("2026-03", now=AS_OF, zone=VIENNA)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00"
    )  # fmt: skip


@pytest.mark.parametrize("text", ["next week", "2026-13", "2026-1", "january", ""])
def test_parse_period_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="2026-01"):
        parse_period(text, now=AS_OF, zone=VIENNA)


def test_nearest_rank_percentiles() -> None:
    minutes = [m * M for m in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    assert nearest_rank(minutes, 50) == 50 * M  # rank 5 of 10: the lower middle value
    assert nearest_rank(minutes, 90) == 90 * M  # rank 9 exactly (no float rounding to 10)
    assert nearest_rank(minutes[:1], 90) == 10 * M
    assert nearest_rank([], 50) is None


# --- the chart ------------------------------------------------------------------------------


def test_the_chart_is_a_png_of_the_expected_size(january: Report) -> None:
    png = attainment_chart(january.weekly, title="Reaction time met · 2026-01")

    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (640, 320))
        image.verify()
    assert attainment_chart(january.weekly, title="Reaction time met · 2026-01") == png


def test_different_weeks_give_different_charts() -> None:
    one = attainment_chart([("2026-W01", 3, 1), ("2026-W02", 2, 0)], title="January")
    other = attainment_chart([("2026-W01", 1, 3), ("2026-W02", 2, 0)], title="January")
    empty = attainment_chart([], title="January")

    assert len({one, other, empty}) == 3
    for png in (one, other, empty):
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == (640, 320)


def test_the_chart_draws_no_missing_glyph_boxes() -> None:
    weeks = [("2026-W01", 3, 1)]

    dashed = attainment_chart(weeks, title="Reaction SLA met – Müller Telefonie GmbH …")
    spelt = attainment_chart(weeks, title="Reaction SLA met - Mueller Telefonie GmbH ...")

    assert dashed == spelt  # drawn in ASCII, not as the font's box for a glyph it lacks
    # what is drawn is what the font has: the box it draws for a missing glyph is never there
    box = _glyph("\u25a1")
    assert all(_glyph(ch) != box for ch in drawable("– … · äöüß € é"))


def _glyph(character: str) -> bytes:
    image = Image.new("L", (24, 24))
    ImageDraw.Draw(image).text((2, 2), character, font=ImageFont.load_default(size=16), fill=255)
    return image.tobytes()
