"""Business calendars: when a service time is open, and business-time arithmetic on it.

How it works. For each local calendar year the calendar lays out the opening windows of every
open day in local time, converts their ends to UTC once, and keeps them as sorted integer
microseconds with the cumulative business time before each window. Adding a duration or
measuring business time between two instants is then a binary search, whatever the span:
no minute-by-minute or day-by-day loops. Years are built on first use and cached.

Rules:
- Windows are laid out in local time; all durations are counted in UTC, so a DST change never
  adds or removes an hour of business time.
- A window boundary at a local time that does not exist (the spring gap) is the instant the
  clock jumps. One that exists twice (the autumn repeat) starts at its first occurrence and
  ends at its last, so every wall-clock minute inside a window counts.
- A deadline that uses up a window exactly is that window's end (17:00), not the next opening.
- Adding zero returns the start unchanged, even outside the service time.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.directory import WEEKDAYS, ServiceTime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A calendar without a single open minute in this many years is a configuration error.
MAX_EMPTY_YEARS = 10

ClosedDaysOf = Callable[[int], Mapping[date, str]]


def to_micros(instant: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    if instant.tzinfo is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return (instant - EPOCH) // MICROSECOND


def from_micros(micros: int) -> datetime:
    """The aware UTC datetime `micros` microseconds after the Unix epoch."""
    return EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True, slots=True)
class _Year:
    """The open intervals of one local year, in UTC microseconds, with running totals."""

    starts: list[int]
    ends: list[int]
    cum_before: list[int]
    cum_end: list[int]

    @property
    def total(self) -> int:
        return self.cum_end[-1] if self.cum_end else 0

    def business_until(self, instant: int) -> int:
        """Business microseconds of this year before `instant`."""
        i = bisect.bisect_right(self.starts, instant) - 1
        if i < 0:
            return 0
        return self.cum_before[i] + min(instant, self.ends[i]) - self.starts[i]

    def instant_at(self, business: int) -> int:
        """The instant at which this year's business time reaches `business` (> 0)."""
        i = bisect.bisect_left(self.cum_end, business)
        return self.starts[i] + business - self.cum_before[i]


class BusinessCalendar:
    """Opening windows per weekday in a timezone, minus closed days; or always open (24x7)."""

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        windows: Mapping[int, Sequence[tuple[int, int]]],
        closed_days_of: ClosedDaysOf,
        always_open: bool = False,
    ) -> None:
        self.zone = zone
        self.always_open = always_open
        self._windows = {day: sorted(spans) for day, spans in windows.items()}
        self._closed_days_of = closed_days_of
        self._years: dict[int, _Year] = {}
        self._closed: dict[int, Mapping[date, str]] = {}

    @classmethod
    def from_service_time(cls, service_time: ServiceTime) -> BusinessCalendar:
        """The calendar a directory's service-time class describes."""
        windows = {
            WEEKDAYS.index(day): [(w.start_minute, w.end_minute) for w in spans]
            for day, spans in service_time.windows.items()
        }
        return cls(
            zone=service_time.zone,
            windows=windows,
            closed_days_of=_closed_days_reader(service_time),
            always_open=service_time.always_open,
        )

    def closed_days(self, year: int) -> Mapping[date, str]:
        """Holidays and closed days of `year`, with their names (cached per year)."""
        if year not in self._closed:
            self._closed[year] = self._closed_days_of(year)
        return self._closed[year]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of business time has passed since `start` (UTC)."""
        if duration < timedelta(0):
            raise ValueError("cannot add a negative business duration")
        if self.always_open or not duration:
            return (start + duration).astimezone(UTC)
        remaining = duration // MICROSECOND
        year = self._local_year(start)
        used = self._year(year).business_until(to_micros(start))
        for _ in self._bounded_years(year):
            current = self._year(year)
            if used + remaining <= current.total:
                return from_micros(current.instant_at(used + remaining))
            remaining -= current.total - used
            year, used = year + 1, 0
        raise AssertionError("unreachable")  # pragma: no cover - _bounded_years raises

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` comes first)."""
        if end < start:
            return -self.between(end, start)
        if self.always_open:
            return end - start
        first, last = self._local_year(start), self._local_year(end)
        begin, finish = to_micros(start), to_micros(end)
        if first == last:
            year = self._year(first)
            return timedelta(microseconds=year.business_until(finish) - year.business_until(begin))
        total = self._year(first).total - self._year(first).business_until(begin)
        total += sum(self._year(year).total for year in range(first + 1, last))
        total += self._year(last).business_until(finish)
        return timedelta(microseconds=total)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when the service is open then, else the next instant it opens (UTC)."""
        if self.always_open:
            return at.astimezone(UTC)
        instant, year = to_micros(at), self._local_year(at)
        for _ in self._bounded_years(year):
            current = self._year(year)
            i = bisect.bisect_right(current.ends, instant)
            if i < len(current.starts):
                return from_micros(max(instant, current.starts[i]))
            year += 1
        raise AssertionError("unreachable")  # pragma: no cover

    def is_open(self, at: datetime) -> bool:
        """True when the service is open at `at` (window ends are exclusive)."""
        return self.next_opening(at) == at

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans inside [start, end), in order, as UTC datetimes."""
        if end <= start:
            return
        if self.always_open:
            yield start.astimezone(UTC), end.astimezone(UTC)
            return
        begin, finish = to_micros(start), to_micros(end)
        for year in range(self._local_year(start), self._local_year(end) + 1):
            current = self._year(year)
            i = max(bisect.bisect_right(current.ends, begin), 0)
            while i < len(current.starts) and current.starts[i] < finish:
                yield (
                    from_micros(max(begin, current.starts[i])),
                    from_micros(min(finish, current.ends[i])),
                )
                i += 1

    def closed_days_between(self, start: datetime, end: datetime) -> list[tuple[date, str]]:
        """Closed days (holidays and extra closed days) whose local date lies in [start, end)."""
        first = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        found = []
        for year in range(first.year, last.year + 1):
            found += [
                (day, name)
                for day, name in sorted(self.closed_days(year).items())
                if first <= day <= last and self._is_service_day(day)
            ]
        return found

    def _is_service_day(self, day: date) -> bool:
        return bool(self._windows.get(day.weekday()))

    def _bounded_years(self, first: int) -> Iterator[int]:
        """Years from `first` on, failing clearly if the calendar never opens."""
        empty = 0
        for year in range(first, first + 10_000):
            yield year
            empty = empty + 1 if not self._year(year).total else 0
            if empty >= MAX_EMPTY_YEARS:
                break
        raise ValueError(f"the service time is never open in {MAX_EMPTY_YEARS} years")

    def _local_year(self, instant: datetime) -> int:
        return instant.astimezone(self.zone).year

    def _year(self, year: int) -> _Year:
        if year not in self._years:
            self._years[year] = self._build_year(year)
        return self._years[year]

    def _build_year(self, year: int) -> _Year:
        closed = self.closed_days(year)
        starts: list[int] = []
        ends: list[int] = []
        day = date(year, 1, 1)
        while day.year == year:
            if day not in closed:
                for start_minute, end_minute in self._windows.get(day.weekday(), ()):
                    start = self._wall_to_utc(day, start_minute, first=True)
                    end = self._wall_to_utc(day, end_minute, first=False)
                    if end > start:
                        starts.append(start)
                        ends.append(end)
            day += timedelta(days=1)
        cum_before, cum_end, running = [], [], 0
        for start, end in zip(starts, ends, strict=True):
            cum_before.append(running)
            running += end - start
            cum_end.append(running)
        return _Year(starts=starts, ends=ends, cum_before=cum_before, cum_end=cum_end)

    def _wall_to_utc(self, day: date, minute: int, *, first: bool) -> int:
        """UTC microseconds of a local wall time (see the module rules for gaps and repeats)."""
        wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)  # noqa: DTZ001
        early = to_micros(wall.replace(tzinfo=self.zone, fold=0))
        late = to_micros(wall.replace(tzinfo=self.zone, fold=1))
        if early == late:
            return early
        if early < late:  # repeated hour: fold=0 is the first occurrence
            return early if first else late
        return self._transition(late, early)  # non-existent: the instant the clock jumps

    def _transition(self, low: int, high: int) -> int:
        """The first instant in (low, high] whose UTC offset differs from `low`'s."""
        offset = from_micros(low).astimezone(self.zone).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if from_micros(middle).astimezone(self.zone).utcoffset() == offset:
                low = middle
            else:
                high = middle
        return high


def _closed_days_reader(service_time: ServiceTime) -> ClosedDaysOf:
    """Reads public holidays from the `holidays` package plus the extra closed days."""

    def closed_days_of(year: int) -> Mapping[date, str]:
        closed: dict[date, str] = {}
        source = service_time.holidays
        if source is not None:
            import holidays

            found = holidays.country_holidays(
                source.country,
                subdiv=source.subdivision,
                years=year,
                categories=source.categories,
                language=source.language,
            )
            closed.update({day: str(name) for day, name in found.items()})
        for extra in service_time.closed_days:
            if extra.year in (None, year):
                try:
                    day = date(year, extra.month, extra.day)
                except ValueError:  # 02-29 in a common year
                    continue
                closed[day] = "; ".join(filter(None, [closed.get(day), extra.name or "closed"]))
        return closed

    return closed_days_of
