"""Why a deadline is where it is: the reaction clock's timeline in words.

Every stretch from the report (or the last reopen) to the deadline, the response or now is
one line: counted (with the running total), paused (with the reason), outside the service
time, or closed (naming the holidays and closed days). Changes of priority or contract are
lines of their own, and the last line says how the deadline follows. A stretch shorter than a
minute (an acknowledge seconds after the report) is left out: shown to the minute it would
read "09:00 – 09:00: counted 0h00"; its seconds still count in the totals.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.calendar import BusinessCalendar
from storage.directory import Priority
from storage.sla import SlaEvent, SlaEventKind, SlaState, SlaTerms, TermsFor, sla_state


class LineKind(StrEnum):
    """What happened in a stretch of time."""

    START = "start"
    COUNTED = "counted"
    PAUSED = "paused"
    OUT_OF_HOURS = "out of hours"
    CLOSED = "closed"
    CHANGE = "change"
    END = "end"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an explanation."""

    kind: LineKind
    start: datetime
    end: datetime | None
    business: timedelta
    total: timedelta
    note: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """The lines, the state they explain, and the timezone to show them in."""

    lines: tuple[Line, ...]
    state: SlaState
    zone: ZoneInfo

    def render(self) -> str:
        """The explanation as plain text, one line per stretch, times in local time."""
        return "\n".join(self._render(line) for line in self.lines)

    def _render(self, line: Line) -> str:
        start = _when(line.start, self.zone)
        span = f"{start} – {_when(line.end, self.zone)}" if line.end is not None else start
        if line.kind is LineKind.COUNTED:
            return f"{span}: counted {_hm(line.business)} (total {_hm(line.total)})"
        return f"{span}: {line.note}" if line.note else span


def explain(events: Sequence[SlaEvent], terms_for: TermsFor, now: datetime) -> Explanation:
    """Explain the reaction deadline of the ticket with this event log, as of `now`."""
    state = sla_state(events, terms_for, now)
    cycle = _current_cycle(events)
    horizon = _horizon(state, now)
    lines = [line for line in _lines(cycle, terms_for, horizon, state) if _shown(line)]
    return Explanation(tuple(lines), state, state.terms.calendar.zone)


# The lines that cover a stretch of time (the others mark an instant).
_STRETCHES = frozenset({LineKind.COUNTED, LineKind.PAUSED, LineKind.OUT_OF_HOURS, LineKind.CLOSED})


def _shown(line: Line) -> bool:
    """False for a stretch too short to show at the resolution of a minute."""
    if line.kind not in _STRETCHES or line.end is None:
        return True
    return line.end - line.start >= timedelta(minutes=1)


def _current_cycle(events: Sequence[SlaEvent]) -> list[SlaEvent]:
    """The report, then the events from the last reopen on (all of them if never reopened)."""
    last = max(i for i, e in enumerate(events) if e.kind is SlaEventKind.REOPENED or i == 0)
    return list(events) if last == 0 else [events[0], *events[last:]]


def _horizon(state: SlaState, now: datetime) -> datetime:
    reaction = state.reaction
    if reaction.stopped_at is not None:
        return reaction.stopped_at
    if reaction.deadline is not None:
        return max(reaction.deadline, now) if reaction.breached else reaction.deadline
    return now


@dataclass(slots=True)
class _Walk:
    """Where the walk along the timeline is, and what applies there."""

    terms_for: TermsFor
    contract: str
    priority: Priority
    at: datetime
    paused: bool = False
    reason: str = ""
    total: timedelta = timedelta(0)

    @property
    def terms(self) -> SlaTerms:
        return self.terms_for(self.contract, self.priority)


def _lines(
    events: list[SlaEvent], terms_for: TermsFor, horizon: datetime, state: SlaState
) -> Iterator[Line]:
    created, later = events[0], events[1:]
    if created.contract is None or created.priority is None:
        raise ValueError("the `created` event names the contract and the priority")
    reopened = bool(later) and later[0].kind is SlaEventKind.REOPENED
    walk = _Walk(
        terms_for, created.contract, created.priority, later[0].at if reopened else created.at
    )
    yield Line(
        LineKind.START,
        walk.at,
        None,
        timedelta(0),
        timedelta(0),
        _start_note(created, reopened, walk.terms),
    )
    for change in later[1:] if reopened else later:
        if change.at > horizon:
            break
        yield from _stretch(walk, change.at)
        note = _apply(walk, change)
        if note:
            yield Line(LineKind.CHANGE, change.at, None, timedelta(0), walk.total, note)
    yield from _stretch(walk, horizon)
    yield Line(LineKind.END, horizon, None, timedelta(0), walk.total, _end_note(state))


def _apply(walk: _Walk, change: SlaEvent) -> str:
    """Move the walk past an event; the words for it (empty: nothing worth a line)."""
    match change.kind:
        case SlaEventKind.PAUSED:
            walk.paused, walk.reason = True, change.reason
            return f"paused: {change.reason or 'waiting for the customer'}"
        case SlaEventKind.RESUMED:
            walk.paused, walk.reason = False, ""
            return "resumed"
        case SlaEventKind.PRIORITY_CHANGED | SlaEventKind.CONTRACT_CHANGED:
            walk.priority = change.priority or walk.priority
            walk.contract = change.contract or walk.contract
            terms = walk.terms
            return (
                f"now {walk.contract} {walk.priority}: reaction target {_hm(terms.reaction)} "
                f"in {terms.service_time}; time already used and past pauses are kept"
            )
        case _:
            return ""


def _stretch(walk: _Walk, until: datetime) -> Iterator[Line]:
    """The lines from where the walk is to `until`, under the terms in force there."""
    start, walk.at = walk.at, max(walk.at, until)
    if until <= start:
        return
    calendar = walk.terms.calendar
    if walk.paused:
        business = calendar.between(start, until)
        reason = walk.reason or "waiting for the customer"
        yield Line(
            LineKind.PAUSED,
            start,
            until,
            business,
            walk.total,
            f"paused ({reason}), {_hm(business)} of service time not counted",
        )
        return
    cursor = start
    for open_start, open_end in calendar.open_intervals(start, until):
        if open_start > cursor:
            yield _gap(calendar, cursor, open_start, walk.total)
        walk.total += open_end - open_start
        yield Line(LineKind.COUNTED, open_start, open_end, open_end - open_start, walk.total, "")
        cursor = open_end
    if until > cursor:
        yield _gap(calendar, cursor, until, walk.total)


def _gap(calendar: BusinessCalendar, start: datetime, end: datetime, total: timedelta) -> Line:
    closed = calendar.closed_days_between(start, end)
    if closed:
        names = ", ".join(f"{day:%a %d.%m.} {name}" for day, name in closed)
        return Line(LineKind.CLOSED, start, end, timedelta(0), total, f"closed: {names}")
    return Line(LineKind.OUT_OF_HOURS, start, end, timedelta(0), total, "outside the service time")


def _start_note(created: SlaEvent, reopened: bool, terms: SlaTerms) -> str:
    what = "reopened: a new reaction cycle" if reopened else "reported"
    return (
        f"{what} ({created.contract} {created.priority}): reaction target "
        f"{_hm(terms.reaction)} of service time ({terms.service_time})"
    )


def _end_note(state: SlaState) -> str:
    reaction = state.reaction
    zone = state.terms.calendar.zone
    if reaction.stopped_at is not None:
        verdict = "in time" if not reaction.breached else "too late"
        return f"first response after {_hm(reaction.used)}: {verdict}"
    if reaction.deadline is None:
        return f"paused with {_hm(reaction.left)} left: no deadline until the clock resumes"
    if reaction.breached:
        return f"deadline {_when(reaction.deadline, zone)} passed: breached"
    return f"deadline {_when(reaction.deadline, zone)}: {_hm(reaction.target)} used up"


def _when(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%a %d.%m.%Y %H:%M}"


def _hm(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    sign, minutes = ("-", -minutes) if minutes < 0 else ("", minutes)
    return f"{sign}{minutes // 60}h{minutes % 60:02d}"
