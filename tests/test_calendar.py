"""Business-time arithmetic on the SNAZ service time (Mon–Fri 08:00–17:00 Europe/Vienna,
Austrian public holidays, 24.12. and 31.12. closed) and on 24x7.

Every expected value below was worked out by hand from a 2026 calendar: Epiphany Tue 06.01.,
Easter Monday 06.04., Labour Day Fri 01.05., Ascension Thu 14.05., Whit Monday 25.05.,
Corpus Christi Thu 04.06., National Day Mon 26.10., Immaculate Conception Tue 08.12.,
Christmas Fri 25.12.; summer time from Sun 29.03. to Sun 25.10.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.calendar import BusinessCalendar
from storage.directory import ClosedDay, Directory, ServiceTime, Window

H = timedelta(hours=1)


@pytest.fixture(scope="module")
def snaz(directory: Directory) -> BusinessCalendar:
    return BusinessCalendar.from_service_time(directory.service_times["SNAZ"])


@pytest.fixture(scope="module")
def snaz_open_on_24_and_31(directory: Directory) -> BusinessCalendar:
    service_time = directory.service_times["SNAZ"].model_copy(update={"closed_days": ()})
    return BusinessCalendar.from_service_time(service_time)


@pytest.fixture(scope="module")
def always(directory: Directory) -> BusinessCalendar:
    return BusinessCalendar.from_service_time(directory.service_times["24x7"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def local(calendar: BusinessCalendar, instant: datetime) -> str:
    return instant.astimezone(calendar.zone).isoformat()


@pytest.mark.parametrize(
    ("start", "duration", "deadline"),
    [
        # the issue's own example: 1h30 on Wednesday, 2h30 on Thursday
        ("2026-01-07T15:30:00+01:00", 4 * H, "2026-01-08T10:30:00+01:00"),
        # before opening: the clock starts at 08:00
        ("2026-03-02T06:00:00+01:00", 4 * H, "2026-03-02T12:00:00+01:00"),
        # after closing: nothing counts until Tuesday 08:00
        ("2026-03-02T18:00:00+01:00", 4 * H, "2026-03-03T12:00:00+01:00"),
        # on a Saturday: Monday 08:00 + 4h
        ("2026-03-07T10:00:00+01:00", 4 * H, "2026-03-09T12:00:00+01:00"),
        # exactly at closing time counts as after closing
        ("2026-03-02T17:00:00+01:00", 4 * H, "2026-03-03T12:00:00+01:00"),
        # Epiphany: 2h Monday, Tuesday closed, 2h Wednesday
        ("2026-01-05T15:00:00+01:00", 4 * H, "2026-01-07T10:00:00+01:00"),
        # Good Friday is no holiday in Austria: 1h Thursday, 3h Friday
        ("2026-04-02T16:00:00+02:00", 4 * H, "2026-04-03T11:00:00+02:00"),
        # Easter Monday: 2h Friday, Monday closed, 2h Tuesday
        ("2026-04-03T15:00:00+02:00", 4 * H, "2026-04-07T10:00:00+02:00"),
        # Labour Day on a Friday: Thursday 1h, then Monday 3h
        ("2026-04-30T16:00:00+02:00", 4 * H, "2026-05-04T11:00:00+02:00"),
        # Ascension: 1h Wednesday, Thursday closed, 3h Friday
        ("2026-05-13T16:00:00+02:00", 4 * H, "2026-05-15T11:00:00+02:00"),
        # Whit Monday: 3h Friday, Monday closed, 1h Tuesday
        ("2026-05-22T14:00:00+02:00", 4 * H, "2026-05-26T09:00:00+02:00"),
        # Corpus Christi: reported at Wednesday's closing, Thursday closed, Friday 08–12
        ("2026-06-03T17:00:00+02:00", 4 * H, "2026-06-05T12:00:00+02:00"),
        # a deadline that uses up the window exactly is 17:00, not Monday 08:00
        ("2026-10-23T13:00:00+02:00", 4 * H, "2026-10-23T17:00:00+02:00"),
        # National Day after the autumn DST change: 3h Friday (CEST), Tuesday 1h (CET)
        ("2026-10-23T14:00:00+02:00", 4 * H, "2026-10-27T09:00:00+01:00"),
        # spring DST change over the weekend: 2h Friday (CET), 2h Monday (CEST)
        ("2026-03-27T15:00:00+01:00", 4 * H, "2026-03-30T10:00:00+02:00"),
        # Christmas with 24.12. closed: 2h Wednesday, then Monday 28.12.
        ("2026-12-23T15:00:00+01:00", 4 * H, "2026-12-28T10:00:00+01:00"),
        # New Year with 31.12. closed: 1h Wednesday 30.12., then Monday 04.01.2027
        ("2026-12-30T16:00:00+01:00", 4 * H, "2027-01-04T11:00:00+01:00"),
        # carried over several days: 9h Monday, 9h Tuesday, 2h Wednesday
        ("2026-03-02T08:00:00+01:00", 20 * H, "2026-03-04T10:00:00+01:00"),
        # across Immaculate Conception (Tue 08.12.): 5h Mon, Tue closed, 9h Wed, 6h Thu
        ("2026-12-07T12:00:00+01:00", 20 * H, "2026-12-10T14:00:00+01:00"),
        # minutes: 90m from Friday 16:00 → 1h Friday, 30m Monday
        ("2026-03-06T16:00:00+01:00", timedelta(minutes=90), "2026-03-09T08:30:00+01:00"),
        # given in UTC, shown in Vienna time
        ("2026-01-07T14:30:00+00:00", 4 * H, "2026-01-08T10:30:00+01:00"),
    ],
)
def test_snaz_deadlines(
    snaz: BusinessCalendar, start: str, duration: timedelta, deadline: str
) -> None:
    result = snaz.add(at(start), duration)
    assert local(snaz, result) == deadline
    assert snaz.between(at(start), result) == duration


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        ("2026-12-23T15:00:00+01:00", "2026-12-24T10:00:00+01:00"),
        ("2026-12-30T16:00:00+01:00", "2026-12-31T11:00:00+01:00"),
    ],
)
def test_24_and_31_december_as_service_days(
    snaz_open_on_24_and_31: BusinessCalendar, start: str, deadline: str
) -> None:
    result = snaz_open_on_24_and_31.add(at(start), 4 * H)
    assert local(snaz_open_on_24_and_31, result) == deadline


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        # 4h of wall time across the spring change: 22:00 CET + 4h = 03:00 CEST
        ("2026-03-28T22:00:00+01:00", "2026-03-29T03:00:00+02:00"),
        # across the autumn change: 23:00 CEST + 4h = 02:00 CET (the second 02:00)
        ("2026-10-24T23:00:00+02:00", "2026-10-25T02:00:00+01:00"),
    ],
)
def test_24x7_counts_real_hours_across_dst(
    always: BusinessCalendar, start: str, deadline: str
) -> None:
    assert local(always, always.add(at(start), 4 * H)) == deadline


def test_adding_nothing_leaves_the_start_alone(snaz: BusinessCalendar) -> None:
    sunday = at("2026-03-08T12:00:00+01:00")
    assert snaz.add(sunday, timedelta(0)) == sunday


def test_next_opening(snaz: BusinessCalendar) -> None:
    assert local(snaz, snaz.next_opening(at("2026-01-05T17:00:00+01:00"))) == (
        "2026-01-07T08:00:00+01:00"  # Tuesday is Epiphany
    )
    inside = at("2026-01-07T09:15:00+01:00")
    assert snaz.next_opening(inside) == inside
    assert snaz.is_open(inside)
    assert not snaz.is_open(at("2026-01-07T17:00:00+01:00"))


def test_business_time_between_is_signed(snaz: BusinessCalendar) -> None:
    monday, friday = at("2026-03-02T08:00:00+01:00"), at("2026-03-06T17:00:00+01:00")
    assert snaz.between(monday, friday) == 45 * H
    assert snaz.between(friday, monday) == -45 * H


def test_a_whole_year_of_snaz(snaz: BusinessCalendar) -> None:
    # 2026 has 261 weekdays; 10 holidays and both 24.12. and 31.12. fall on weekdays.
    start, end = at("2026-01-01T00:00:00+01:00"), at("2027-01-01T00:00:00+01:00")
    assert snaz.between(start, end) == (261 - 12) * 9 * H


def test_closed_days_have_names(snaz: BusinessCalendar) -> None:
    closed = snaz.closed_days(2026)
    assert closed[date(2026, 10, 26)] == "National Day"
    assert closed[date(2026, 12, 24)] == "Christmas Eve"
    assert date(2026, 4, 3) not in closed  # Good Friday
    assert len([d for d in closed if d.weekday() < 5]) == 12


def vienna(windows: dict[str, list[str]], **extra: object) -> BusinessCalendar:
    service_time = ServiceTime.model_validate(
        {"timezone": "Europe/Vienna", "windows": windows, **extra}
    )
    return BusinessCalendar.from_service_time(service_time)


def test_a_window_starting_in_the_spring_gap_opens_when_the_clock_jumps() -> None:
    # 02:30 does not exist on 29.03.2026: the clock jumps from 02:00 to 03:00 (01:00 UTC).
    night = vienna({"sun": ["02:30-04:00"]})
    opening = night.next_opening(at("2026-03-29T00:00:00+01:00"))
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert night.between(opening, at("2026-03-29T06:00:00+02:00")) == H  # 03:00–04:00


def test_a_window_across_the_repeated_autumn_hour_counts_all_of_it() -> None:
    # 25.10.2026: 02:00–03:00 happens twice; 01:00–04:00 local is 4 real hours.
    night = vienna({"sun": ["01:00-04:00"]})
    day = (at("2026-10-25T00:00:00+02:00"), at("2026-10-25T12:00:00+01:00"))
    assert night.between(*day) == 4 * H


def test_midnight_windows_and_several_windows_a_day() -> None:
    split = vienna({"mon": ["08:00-12:00", "13:00-17:00"], "tue": ["20:00-24:00"]})
    monday = at("2026-03-02T11:00:00+01:00")
    assert local(split, split.add(monday, 2 * H)) == "2026-03-02T14:00:00+01:00"
    # 1h + 4h on Monday, 4h on Tuesday night: the window ends at midnight
    assert local(split, split.add(monday, 9 * H)) == "2026-03-04T00:00:00+01:00"


def test_one_off_closed_days() -> None:
    calendar = vienna(
        {"mon": ["08:00-17:00"]},
        closed_days=[ClosedDay(month=3, day=2, year=2026, name="Company event")],
    )
    assert local(calendar, calendar.add(at("2026-03-02T09:00:00+01:00"), H)) == (
        "2026-03-09T09:00:00+01:00"
    )
    assert calendar.closed_days(2026)[date(2026, 3, 2)] == "Company event"
    assert date(2027, 3, 1) not in calendar.closed_days(2027)


def test_a_calendar_that_never_opens_is_reported() -> None:
    calendar = vienna(
        {"mon": ["08:00-17:00"]},
        closed_days=[
            ClosedDay(month=m, day=d) for m in range(1, 13) for d in range(1, 32) if _valid(m, d)
        ],
    )
    with pytest.raises(ValueError, match="never open"):
        calendar.add(at("2026-03-02T09:00:00+01:00"), H)


def test_naive_datetimes_are_refused(snaz: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        snaz.add(datetime(2026, 1, 7, 15, 30), H)  # noqa: DTZ001


def _valid(month: int, day: int) -> bool:
    try:
        date(2024, month, day)
    except ValueError:
        return False
    return True


instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=400))


@settings(max_examples=300, deadline=None)
@given(start=instants, first=durations, second=durations)
def test_adding_is_additive_and_monotonic(
    snaz: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    once = snaz.add(start, first + second)
    assert snaz.add(snaz.add(start, first), second) == once
    assert snaz.add(start, first) <= once
    assert snaz.add(start, first) >= start


@settings(max_examples=300, deadline=None)
@given(start=instants, duration=durations)
def test_the_business_time_to_a_deadline_is_the_duration(
    snaz: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert snaz.between(start, snaz.add(start, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations)
def test_24x7_is_plain_utc_arithmetic(
    always: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert always.add(start, duration) == start + duration
    assert always.between(start, start + duration) == duration


def test_windows_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Window(start_minute=600, end_minute=540)


def test_holiday_names_in_german_when_asked(directory: Directory) -> None:
    snaz = directory.service_times["SNAZ"]
    assert snaz.holidays is not None
    german = snaz.model_copy(
        update={"holidays": snaz.holidays.model_copy(update={"language": "de"})}
    )
    closed = BusinessCalendar.from_service_time(german).closed_days(2026)
    assert closed[date(2026, 10, 26)] == "Nationalfeiertag"
