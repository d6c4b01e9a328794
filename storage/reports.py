"""SLA reports for managers: how the tickets of a period fared (pure functions).

The rules:
- A ticket belongs to the period in which it was **created**, in the report's local zone.
- **Reaction** is the ticket's FIRST reaction cycle: from the report to the first response
  (or to the resolution, if that came first: `storage.sla` stops the reaction clock there too).
  A reopened ticket keeps its original reaction; later cycles do not enter the report.
  Change requests count like faults: the bot promises them a reaction deadline as well.
- **Outcome** of that first reaction, as of the moment the facts were taken (`as_of`):
  *met* (stopped within the target), *breached* (more business time used than the target,
  answered late or not yet answered) or *pending* (still running within the target).
  Attainment is met / (met + breached): pending tickets are left out until their outcome is
  known, so a report taken mid-month is not flattered by tickets that may still breach.
- **Paused** is the business time the ticket spent waiting for the customer while it was
  open, in every cycle: the resolution clock's paused time (that clock spans the ticket's whole
  open life, continues after a reopen and does not count the time the ticket was resolved).
  Pauses after the first response count too: they show how long customers kept tickets waiting.
- **Median and p90** are nearest-rank percentiles over the tickets whose first reaction has
  stopped: the value at rank ceil(p/100 x n) of the sorted times. The median is P50, i.e. the
  lower of the two middle values for an even count; both are always times that really occurred.
- **Priority** is the ticket's current priority; the **target** is the reaction target in force
  at the end of the first cycle.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.directory import Priority
from storage.models import TicketEventRow, TicketRow
from storage.sla import SlaEvent, SlaEventKind, SlaTerms, TermsFor, sla_state
from storage.tickets import sla_events

MINUTE = timedelta(minutes=1)
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
PERIOD_HELP = "'this week', 'last week', 'this month', 'last month' or a month like 2026-01"
# The same periods as German speakers write them (`verletzungen diese woche`).
_PERIOD_WORDS = {
    "diese woche": "this week",
    "letzte woche": "last week",
    "vorige woche": "last week",
    "dieser monat": "this month",
    "diesen monat": "this month",
    "letzter monat": "last month",
    "letzten monat": "last month",
    "voriger monat": "last month",
    "vorigen monat": "last month",
}
CSV_HEADER = (
    "number",
    "customer",
    "product",
    "priority",
    "kind",
    "created",
    "reaction_minutes",
    "target_minutes",
    "outcome",
    "paused_minutes",
    "reopened",
)


class Outcome(StrEnum):
    """How a ticket's first reaction turned out (so far)."""

    MET = "met"
    BREACHED = "breached"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What a report needs to know about one ticket, as of one moment."""

    number: str
    customer_key: str
    product: str
    priority: str
    kind: str
    created_at: datetime
    reaction_used: timedelta
    reaction_target: timedelta
    responded: bool
    breached: bool
    paused: timedelta
    reopened: bool
    status: str

    @property
    def outcome(self) -> Outcome:
        """Met, breached, or pending (still running within the target)."""
        if self.breached:
            return Outcome.BREACHED
        return Outcome.MET if self.responded else Outcome.PENDING


@dataclass(frozen=True, slots=True)
class Period:
    """The span a report covers: [start, end), with a label for people."""

    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WeekBucket:
    """Outcomes known for the tickets created in one ISO week."""

    week: str
    met: int
    breached: int


@dataclass(frozen=True, slots=True)
class Report:
    """The SLA report of one period, for all customers or one."""

    period: Period
    zone: tzinfo
    customer: str | None
    tickets: int
    faults: int
    change_requests: int
    met: int
    breached: int
    pending: int
    reaction_met_percent: float | None
    responded: int
    median_reaction: timedelta | None
    p90_reaction: timedelta | None
    by_product: dict[str, int]
    by_priority: dict[str, int]
    paused_total: timedelta
    weekly: list[tuple[str, int, int]]
    rows: list[TicketFacts]


# --- one ticket -------------------------------------------------------------------------------


def ticket_facts(
    ticket: TicketRow, events: Sequence[TicketEventRow], terms_for: TermsFor, as_of: datetime
) -> TicketFacts:
    """The report facts of `ticket` with this event log, as of `as_of` (later events ignored)."""
    log = _until(sla_events(events), as_of)
    reaction = sla_state(_first_cycle(log), terms_for, as_of).reaction
    return TicketFacts(
        number=ticket.number,
        customer_key=ticket.customer_key,
        product=ticket.product,
        priority=ticket.priority,
        kind=ticket.kind,
        created_at=ticket.created_at,
        reaction_used=reaction.used,
        reaction_target=reaction.target,
        responded=reaction.stopped_at is not None,
        breached=reaction.breached,
        paused=_paused(log, terms_for, as_of),
        reopened=any(event.kind is SlaEventKind.REOPENED for event in log),
        status=ticket.status,
    )


def _until(events: list[SlaEvent], as_of: datetime) -> list[SlaEvent]:
    """The `created` event and everything that happened up to `as_of`."""
    return events[:1] + [event for event in events[1:] if event.at <= as_of]


def _first_cycle(events: list[SlaEvent]) -> list[SlaEvent]:
    """The log up to (not including) the first reopen: `sla_state` reports the last cycle."""
    for index, event in enumerate(events):
        if event.kind is SlaEventKind.REOPENED:
            return events[:index]
    return events


def _paused(events: list[SlaEvent], terms_for: TermsFor, as_of: datetime) -> timedelta:
    """Paused business time of the resolution clock, which spans every cycle."""
    resolution = sla_state(events, _with_resolution(terms_for), as_of).resolution
    return resolution.paused if resolution is not None else timedelta(0)


def _with_resolution(terms_for: TermsFor) -> TermsFor:
    """`terms_for` with a resolution target everywhere, so the resolution clock is always
    measured; the placeholder target (the reaction's) only affects milestones, unused here."""

    def terms(contract: str, priority: Priority) -> SlaTerms:
        found = terms_for(contract, priority)
        return found if found.resolution is not None else replace(found, resolution=found.reaction)

    return terms


# --- periods ----------------------------------------------------------------------------------


def parse_period(text: str, *, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, str]:
    """`this week` (Monday 00:00 local to the next Monday), `last week`, `this month`,
    `last month` or `YYYY-MM` → (start, end, label) in local time; ValueError otherwise."""
    typed = " ".join(text.lower().split())
    words = _PERIOD_WORDS.get(typed, typed)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    match words:
        case "this week":
            return _week(monday, zone)
        case "last week":
            return _week(monday - timedelta(days=7), zone)
        case "this month":
            return month_period(f"{today:%Y-%m}", zone)
        case "last month":
            return month_period(f"{today.replace(day=1) - timedelta(days=1):%Y-%m}", zone)
    if _MONTH.match(words):
        return month_period(words, zone)
    raise ValueError(f"unknown period {text!r}: use {PERIOD_HELP}")


def month_period(month: str, zone: ZoneInfo) -> tuple[datetime, datetime, str]:
    """`YYYY-MM` → (first day 00:00 local, first day of the next month 00:00 local, label)."""
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match["month"]) <= 12:
        raise ValueError(f"{month!r} is not a month like 2026-01")
    first = date(int(match["year"]), int(match["month"]), 1)
    after = (first + timedelta(days=31)).replace(day=1)
    return _midnight(first, zone), _midnight(after, zone), f"{first:%Y-%m}"


def _week(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime, str]:
    return _midnight(monday, zone), _midnight(monday + timedelta(days=7), zone), week_label(monday)


def _midnight(day: date, zone: tzinfo) -> datetime:
    """Local midnight (where midnight does not exist, the instant the day begins)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def week_label(day: date) -> str:
    """The ISO week of `day`, like `2026-W02`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- reports ----------------------------------------------------------------------------------


def monthly_report(
    facts: Sequence[TicketFacts], *, month: str, zone: ZoneInfo, customer: str | None = None
) -> Report:
    """The report of the tickets created in the local month `YYYY-MM` (of one customer)."""
    start, end, label = month_period(month, zone)
    return period_report(facts, start=start, end=end, label=label, customer=customer, zone=zone)


def period_report(
    facts: Sequence[TicketFacts],
    *,
    start: datetime,
    end: datetime,
    label: str,
    customer: str | None = None,
    zone: tzinfo | None = None,
    now: datetime | None = None,
) -> Report:
    """The report of the tickets created in [start, end) (of one customer). Weeks and CSV
    times are in `zone`, by default the zone of `start`; weeks that begin after `now` (of a
    period still running) are left out."""
    local = zone or start.tzinfo or UTC
    rows = sorted(
        (
            f
            for f in _created_in(facts, start, end)
            if customer is None or f.customer_key == customer
        ),
        key=lambda f: (f.created_at, f.number),
    )
    outcomes = Counter(f.outcome for f in rows)
    reactions = sorted(f.reaction_used for f in rows if f.responded)
    return Report(
        period=Period(label, start, end),
        zone=local,
        customer=customer,
        tickets=len(rows),
        faults=sum(f.kind == "fault" for f in rows),
        change_requests=sum(f.kind == "change_request" for f in rows),
        met=outcomes[Outcome.MET],
        breached=outcomes[Outcome.BREACHED],
        pending=outcomes[Outcome.PENDING],
        reaction_met_percent=_percent(outcomes[Outcome.MET], outcomes[Outcome.BREACHED]),
        responded=len(reactions),
        median_reaction=nearest_rank(reactions, 50),
        p90_reaction=nearest_rank(reactions, 90),
        by_product=_by_product(rows),
        by_priority=_by_priority(rows),
        paused_total=sum((f.paused for f in rows), timedelta(0)),
        weekly=_weekly(rows, start, end if now is None else min(end, now), local),
        rows=rows,
    )


def breaches(facts: Sequence[TicketFacts], *, start: datetime, end: datetime) -> list[TicketFacts]:
    """Tickets created in [start, end) whose first reaction breached, oldest first."""
    found = [f for f in _created_in(facts, start, end) if f.breached]
    return sorted(found, key=lambda f: (f.created_at, f.number))


def nearest_rank(values: Sequence[timedelta], percent: int) -> timedelta | None:
    """The nearest-rank percentile of sorted `values`: the one at rank ceil(p/100 x n)."""
    if not values:
        return None
    rank = max(-(-percent * len(values) // 100), 1)  # integer ceil: no float rounding
    return values[rank - 1]


def _created_in(facts: Iterable[TicketFacts], start: datetime, end: datetime) -> list[TicketFacts]:
    return [f for f in facts if start <= f.created_at < end]


def _percent(met: int, breached: int) -> float | None:
    known = met + breached
    return 100 * met / known if known else None


def _by_product(rows: Sequence[TicketFacts]) -> dict[str, int]:
    """Tickets per product, most first (ties by name)."""
    counts = Counter(f.product for f in rows)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _by_priority(rows: Sequence[TicketFacts]) -> dict[str, int]:
    """Tickets per priority, P1 to P4, zeros included."""
    counts = Counter(f.priority for f in rows)
    return {priority.value: counts[priority.value] for priority in Priority}


def _weekly(
    rows: Sequence[TicketFacts], start: datetime, end: datetime, zone: tzinfo
) -> list[tuple[str, int, int]]:
    """(ISO week, met, breached) for every week the period touches, in order."""
    buckets = {week: [0, 0] for week in _weeks(start, end, zone)}
    for f in rows:
        week = week_label(f.created_at.astimezone(zone).date())
        if f.outcome is not Outcome.PENDING and week in buckets:
            buckets[week][1 if f.outcome is Outcome.BREACHED else 0] += 1
    return [(week, met, breached) for week, (met, breached) in buckets.items()]


def _weeks(start: datetime, end: datetime, zone: tzinfo) -> list[str]:
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(week_label(monday))
        monday += timedelta(days=7)
    return weeks


# --- output -----------------------------------------------------------------------------------


def to_csv(report: Report) -> str:
    """One row per ticket (header first); times in the report's zone, durations in business
    minutes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_row(f, report.zone) for f in report.rows)
    return out.getvalue()


def _csv_row(f: TicketFacts, zone: tzinfo) -> tuple[str, ...]:
    return (
        f.number,
        f.customer_key,
        f.product,
        f.priority,
        f.kind,
        f.created_at.astimezone(zone).isoformat(timespec="seconds"),
        minutes(f.reaction_used),
        minutes(f.reaction_target),
        f.outcome.value,
        minutes(f.paused),
        "yes" if f.reopened else "no",
    )


def minutes(duration: timedelta) -> str:
    """Whole minutes as `90`, fractions to one decimal as `90.5`."""
    return f"{round(duration / MINUTE, 1):.1f}".removesuffix(".0")
