"""Why a deadline is where it is: the reaction clock's timeline, line by line.

Every stretch from the report (or the last reopen) to the deadline, the response or now is
one line: counted (with the running total), paused (with the reason), outside the service
time, or closed (naming the holidays and closed days). Changes of priority or contract are
lines of their own, and the last line says how the deadline follows. A stretch shorter than a
minute (an acknowledge seconds after the report) is left out: shown to the minute it would
read "09:00 – 09:00: counted 0 mins"; its seconds still count in the totals. Each line
carries what happened (`Note`) and its values; `dialogs.why_text` puts it in a reader's words.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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


class Note(StrEnum):
    """What a line says; its values are in `Line.values`."""

    NONE = "none"
    REPORTED = "reported"  # contract, priority, target, service_time
    REOPENED = "reopened"  # contract, priority, target, service_time
    PAUSED = "paused"  # reason
    RESUMED = "resumed"
    TERMS_CHANGED = "terms changed"  # contract, priority, target, service_time
    NOT_COUNTED = "not counted"  # reason (the stretch's business time is `Line.business`)
    CLOSED = "closed"  # days: ((day, name), …)
    OUT_OF_HOURS = "out of hours"
    RESPONDED_IN_TIME = "responded in time"  # used
    RESPONDED_LATE = "responded late"  # used
    PAUSED_WITH_TIME_LEFT = "paused with time left"  # left
    BREACHED = "breached"  # deadline
    DEADLINE = "deadline"  # deadline, target


ClosedDays = tuple[tuple[date, str], ...]
NoteValue = str | timedelta | datetime | ClosedDays


@dataclass(frozen=True, slots=True)
class Line:
    """One line of an explanation."""

    kind: LineKind
    start: datetime
    end: datetime | None
    business: timedelta
    total: timedelta
    note: Note = Note.NONE
    values: Mapping[str, NoteValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Explanation:
    """The lines, the state they explain, and the timezone to show them in."""

    lines: tuple[Line, ...]
    state: SlaState
    zone: ZoneInfo


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
    note = Note.REOPENED if reopened else Note.REPORTED
    values = _terms(created.contract, created.priority, walk.terms)
    yield Line(LineKind.START, walk.at, None, timedelta(0), timedelta(0), note, values)
    for change in later[1:] if reopened else later:
        if change.at > horizon:
            break
        yield from _stretch(walk, change.at)
        said = _apply(walk, change)
        if said is not None:
            yield Line(LineKind.CHANGE, change.at, None, timedelta(0), walk.total, *said)
    yield from _stretch(walk, horizon)
    yield Line(LineKind.END, horizon, None, timedelta(0), walk.total, *_end_note(state))


def _terms(contract: str, priority: str, terms: SlaTerms) -> dict[str, NoteValue]:
    return {
        "contract": contract,
        "priority": priority,
        "target": terms.reaction,
        "service_time": terms.service_time,
    }


def _apply(walk: _Walk, change: SlaEvent) -> tuple[Note, dict[str, NoteValue]] | None:
    """Move the walk past an event; what it says (None: nothing worth a line)."""
    match change.kind:
        case SlaEventKind.PAUSED:
            walk.paused, walk.reason = True, change.reason
            return Note.PAUSED, {"reason": change.reason}
        case SlaEventKind.RESUMED:
            walk.paused, walk.reason = False, ""
            return Note.RESUMED, {}
        case SlaEventKind.PRIORITY_CHANGED | SlaEventKind.CONTRACT_CHANGED:
            walk.priority = change.priority or walk.priority
            walk.contract = change.contract or walk.contract
            return Note.TERMS_CHANGED, _terms(walk.contract, walk.priority, walk.terms)
        case _:
            return None


def _stretch(walk: _Walk, until: datetime) -> Iterator[Line]:
    """The lines from where the walk is to `until`, under the terms in force there."""
    start, walk.at = walk.at, max(walk.at, until)
    if until <= start:
        return
    calendar = walk.terms.calendar
    if walk.paused:
        business = calendar.between(start, until)
        reason = {"reason": walk.reason}
        yield Line(LineKind.PAUSED, start, until, business, walk.total, Note.NOT_COUNTED, reason)
        return
    cursor = start
    for open_start, open_end in calendar.open_intervals(start, until):
        if open_start > cursor:
            yield _gap(calendar, cursor, open_start, walk.total)
        walk.total += open_end - open_start
        yield Line(LineKind.COUNTED, open_start, open_end, open_end - open_start, walk.total)
        cursor = open_end
    if until > cursor:
        yield _gap(calendar, cursor, until, walk.total)


def _gap(calendar: BusinessCalendar, start: datetime, end: datetime, total: timedelta) -> Line:
    closed = tuple(calendar.closed_days_between(start, end))
    if closed:
        days = {"days": closed}
        return Line(LineKind.CLOSED, start, end, timedelta(0), total, Note.CLOSED, days)
    return Line(LineKind.OUT_OF_HOURS, start, end, timedelta(0), total, Note.OUT_OF_HOURS)


def _end_note(state: SlaState) -> tuple[Note, dict[str, NoteValue]]:
    reaction = state.reaction
    if reaction.stopped_at is not None:
        verdict = Note.RESPONDED_LATE if reaction.breached else Note.RESPONDED_IN_TIME
        return verdict, {"used": reaction.used}
    if reaction.deadline is None:
        return Note.PAUSED_WITH_TIME_LEFT, {"left": reaction.left}
    if reaction.breached:
        return Note.BREACHED, {"deadline": reaction.deadline}
    return Note.DEADLINE, {"deadline": reaction.deadline, "target": reaction.target}
