"""A ticket's SLA state, derived from its append-only event log (pure functions).

The rules (also in the README):
- **Reaction** runs in business time from the report to the first qualified response by an
  engineer (`responded`); the bot's automatic replies are never such an event. A report
  outside the service time starts counting at the next opening.
- **Pause**: between `paused` and `resumed` (waiting for the customer) nothing is counted.
  Pause time is kept whatever changes later.
- **Priority or contract change**: the target (and, for a contract change, the service time)
  in force from that instant on applies; the business time already used, and every past pause,
  stays as it was. A lower target can make a deadline lie in the past: then it is breached.
- **Resolution** (if the contract has a target) runs from the report to `resolved`, paused like
  reaction. After a reopen it continues from the time already used; the time between
  resolution and reopening does not count.
- **Reopen** starts a new reaction cycle: the reaction clock restarts from zero at the reopen
  and needs a new first response. Earlier cycles keep their own outcome.
- **Warnings** fall at the configured percentages of the target (default 50/75/90 %).
- Events at the same instant apply in log order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from importlib.metadata import version

from storage.calendar import BusinessCalendar
from storage.directory import Directory, Priority


class SlaEventKind(StrEnum):
    """What can happen to a ticket, as far as its SLA is concerned."""

    CREATED = "created"
    RESPONDED = "responded"
    PAUSED = "paused"
    RESUMED = "resumed"
    PRIORITY_CHANGED = "priority_changed"
    CONTRACT_CHANGED = "contract_changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """One entry of a ticket's event log. `created` carries contract and priority."""

    kind: SlaEventKind
    at: datetime
    priority: Priority | None = None
    contract: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """What applies to a ticket at some moment: calendar, targets and warning thresholds."""

    contract: str
    service_time: str
    calendar: BusinessCalendar
    reaction: timedelta
    resolution: timedelta | None
    warnings: tuple[int, ...] = (50, 75, 90)


TermsFor = Callable[[str, Priority], SlaTerms]


@dataclass(frozen=True, slots=True)
class Milestone:
    """When a share of a clock's target is (or was, or would be) reached."""

    percent: int
    at: datetime | None


@dataclass(frozen=True, slots=True)
class ClockState:
    """One SLA clock (reaction or resolution) as of `now`."""

    target: timedelta
    used: timedelta
    paused: timedelta
    deadline: datetime | None
    stopped_at: datetime | None
    running: bool
    is_paused: bool
    milestones: tuple[Milestone, ...]

    @property
    def left(self) -> timedelta:
        """Business time left until the target (negative once it is exceeded)."""
        return self.target - self.used

    @property
    def breached(self) -> bool:
        """True once more business time was used than the target allows."""
        return self.used > self.target


@dataclass(frozen=True, slots=True)
class SlaState:
    """Everything the bot promises or warns about for one ticket."""

    cycle: int
    reaction: ClockState
    resolution: ClockState | None
    terms: SlaTerms

    def next_due(self, after: datetime | None = None) -> datetime | None:
        """The earliest warning or deadline of a running clock later than `after`: the instant
        the watcher has to look at this ticket again (None: nothing to watch)."""
        instants = [
            milestone.at
            for clock in (self.reaction, self.resolution)
            if clock is not None and clock.running and not clock.is_paused
            for milestone in clock.milestones
            if milestone.at is not None and (after is None or milestone.at > after)
        ]
        return min(instants, default=None)


@dataclass(slots=True)
class _Segment:
    """A stretch of time with one set of terms, counted or not."""

    start: datetime
    end: datetime | None
    terms: SlaTerms
    counting: bool
    paused: bool
    reason: str = ""


@dataclass(slots=True)
class _Clock:
    segments: list[_Segment] = field(default_factory=list)
    stopped_at: datetime | None = None


def sla_state(events: Sequence[SlaEvent], terms_for: TermsFor, now: datetime) -> SlaState:
    """The SLA state of a ticket with this event log, as of `now`."""
    replay = _Replay(events, terms_for)
    terms = replay.terms
    reaction = _clock_state(replay.reaction, terms.reaction, terms.warnings, now)
    resolution = (
        _clock_state(replay.resolution, terms.resolution, terms.warnings, now)
        if terms.resolution is not None
        else None
    )
    return SlaState(cycle=replay.cycle, reaction=reaction, resolution=resolution, terms=terms)


class _Replay:
    """Replays the log into segments for the current reaction cycle and for resolution."""

    def __init__(self, events: Sequence[SlaEvent], terms_for: TermsFor) -> None:
        if not events or events[0].kind is not SlaEventKind.CREATED:
            raise ValueError("an SLA event log starts with a `created` event")
        first = events[0]
        if first.contract is None or first.priority is None:
            raise ValueError("the `created` event names the contract and the priority")
        self._terms_for = terms_for
        self.contract, self.priority = first.contract, first.priority
        self.terms = terms_for(self.contract, self.priority)
        self.paused, self.reason, self.cycle = False, "", 1
        self.reaction, self.resolution = _Clock(), _Clock()
        self._open(self.reaction, first.at)
        self._open(self.resolution, first.at)
        for event in events[1:]:
            self._apply(event)

    def _apply(self, event: SlaEvent) -> None:
        match event.kind:
            case SlaEventKind.RESPONDED:
                self._stop(self.reaction, event.at)
            case SlaEventKind.RESOLVED:
                self._stop(self.reaction, event.at)
                self._stop(self.resolution, event.at)
            case SlaEventKind.PAUSED | SlaEventKind.RESUMED:
                self.paused = event.kind is SlaEventKind.PAUSED
                self.reason = event.reason if self.paused else ""
                self._split(event.at)
            case SlaEventKind.PRIORITY_CHANGED | SlaEventKind.CONTRACT_CHANGED:
                self.priority = event.priority or self.priority
                self.contract = event.contract or self.contract
                self.terms = self._terms_for(self.contract, self.priority)
                self._split(event.at)
            case SlaEventKind.REOPENED:
                self.cycle += 1
                self.paused, self.reason = False, ""
                self.reaction = _Clock()
                self._open(self.reaction, event.at)
                if self.resolution.stopped_at is not None:
                    self.resolution.stopped_at = None
                    self._open(self.resolution, event.at)
            case SlaEventKind.CREATED:
                raise ValueError("a ticket is created once")

    def _open(self, clock: _Clock, at: datetime) -> None:
        clock.segments.append(
            _Segment(at, None, self.terms, counting=True, paused=self.paused, reason=self.reason)
        )

    def _split(self, at: datetime) -> None:
        for clock in (self.reaction, self.resolution):
            if clock.stopped_at is None:
                clock.segments[-1].end = at
                self._open(clock, at)

    @staticmethod
    def _stop(clock: _Clock, at: datetime) -> None:
        if clock.stopped_at is None:
            clock.segments[-1].end = at
            clock.stopped_at = at


def _clock_state(
    clock: _Clock, target: timedelta, warnings: Sequence[int], now: datetime
) -> ClockState:
    used = paused = timedelta(0)
    for segment, business in _measured(clock, now):
        if segment.paused:
            paused += business
        else:
            used += business
    last = clock.segments[-1]
    running = clock.stopped_at is None
    milestones = tuple(
        Milestone(percent, _crossing(clock, target * percent / 100))
        for percent in (*sorted(warnings), 100)
    )
    return ClockState(
        target=target,
        used=used,
        paused=paused,
        deadline=milestones[-1].at,
        stopped_at=clock.stopped_at,
        running=running,
        is_paused=running and last.paused,
        milestones=milestones,
    )


def _measured(clock: _Clock, now: datetime) -> Iterator[tuple[_Segment, timedelta]]:
    """Each segment with the business time it holds up to `now` (or its end)."""
    for segment in clock.segments:
        end = now if segment.end is None else min(segment.end, now)
        if end > segment.start:
            yield segment, segment.terms.calendar.between(segment.start, end)


def _crossing(clock: _Clock, amount: timedelta) -> datetime | None:
    """The instant counted business time reaches `amount`, or None if it never does
    (the clock stopped first, or is paused now and has not reached it)."""
    used = timedelta(0)
    for segment in clock.segments:
        if segment.paused:
            continue
        calendar = segment.terms.calendar
        if segment.end is None:
            return calendar.add(segment.start, max(amount - used, timedelta(0)))
        business = calendar.between(segment.start, segment.end)
        if used + business >= amount:
            return calendar.add(segment.start, max(amount - used, timedelta(0)))
        used += business
    return None


class SlaCatalog:
    """Terms for every customer of a directory, sharing one calendar per service time (a
    calendar caches its years, so building it once per process matters)."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._calendars: dict[str, BusinessCalendar] = {}

    def calendar(self, service_time: str) -> BusinessCalendar:
        """The calendar of a service-time class of the directory."""
        if service_time not in self._calendars:
            self._calendars[service_time] = BusinessCalendar.from_service_time(
                self._directory.service_times[service_time]
            )
        return self._calendars[service_time]

    def terms_for(self, customer_key: str | None = None) -> TermsFor:
        """Resolve (contract, priority) to terms, applying the customer's overrides."""
        customer = self._directory.customer(customer_key) if customer_key else None
        overrides = customer.overrides if customer is not None else None

        def terms(contract_key: str, priority: Priority) -> SlaTerms:
            contract = self._directory.contracts[contract_key]
            service_time = (overrides and overrides.service_time) or contract.service_time
            reaction = (overrides and overrides.reaction_time) or contract.reaction_time(priority)
            resolution = (overrides and overrides.resolution_time) or contract.resolution_time
            return SlaTerms(
                contract=contract_key,
                service_time=service_time,
                calendar=self.calendar(service_time),
                reaction=reaction,
                resolution=resolution,
                warnings=contract.warnings,
            )

        return terms


def terms_from_directory(directory: Directory, customer_key: str | None = None) -> TermsFor:
    """Terms for one customer of `directory` (a catalog of its own; see `SlaCatalog`)."""
    return SlaCatalog(directory).terms_for(customer_key)


def terms_fingerprint(directory: Directory) -> str:
    """A digest of everything the SLA instants of open tickets depend on: service times
    (windows, holidays, closed days), contracts, customers' contracts and overrides, the
    reminder delays, and the version of the `holidays` package (its data changes too)."""
    provider = directory.provider
    relevant = {
        "service_times": {k: v.model_dump(mode="json") for k, v in directory.service_times.items()},
        "contracts": {k: v.model_dump(mode="json") for k, v in directory.contracts.items()},
        "customers": {
            c.key: [c.contract, c.overrides.model_dump(mode="json")] for c in directory.customers
        },
        "reminders": [
            provider.logs_reminder_after,
            provider.vendor_chase_after,
            provider.notify_outside_service_time,
        ],
        "holidays": version("holidays"),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()
