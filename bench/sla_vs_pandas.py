"""Benchmark: the SLA engine against pandas' CustomBusinessHour on 100,000 random deadlines.

Both get the same service time (SNAZ: Mon–Fri 08:00–17:00 Europe/Vienna, Austrian public
holidays, 24.12. and 31.12. closed), the same random starts in 2026 and the same whole-hour
durations. The report gives the agreement and the time per deadline of each.

Known convention difference: when a deadline uses up a window exactly, the engine answers the
window's end (Friday 17:00) and pandas the next opening (Monday 08:00). Those are counted apart.

Run: `make bench` (installs pandas from bench/requirements.txt into .venv first).
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pandas as pd

from storage.calendar import BusinessCalendar
from storage.directory import load_directory

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    directory = load_directory(ROOT / "chatops.example.toml")
    calendar = BusinessCalendar.from_service_time(directory.service_times["SNAZ"])
    starts, hours = _random_cases(args.count, args.seed)

    engine_seconds, ours = _timed(
        lambda: [calendar.add(s, timedelta(hours=h)) for s, h in zip(starts, hours, strict=True)]
    )
    offsets = _pandas_offsets(calendar, max(hours))
    local_starts = [pd.Timestamp(s.astimezone(calendar.zone).replace(tzinfo=None)) for s in starts]
    pandas_seconds, theirs = _timed(
        lambda: [start + offsets[h] for start, h in zip(local_starts, hours, strict=True)]
    )

    same = convention = 0
    differences: list[str] = []
    for start, h, mine, other in zip(starts, hours, ours, theirs, strict=True):
        local = mine.astimezone(calendar.zone).replace(tzinfo=None)
        if pd.Timestamp(local) == other:
            same += 1
        elif _is_window_end(calendar, mine) and other == pd.Timestamp(
            calendar.next_opening(mine + timedelta(microseconds=1))
            .astimezone(calendar.zone)
            .replace(tzinfo=None)
        ):
            convention += 1
        elif len(differences) < 5:
            differences.append(f"{start.isoformat()} + {h}h: engine {local}, pandas {other}")

    count = len(starts)
    print(f"deadlines: {count:,} (random starts in 2026, durations 1–40 whole hours)")
    print(
        f"identical: {same:,}; end-of-window convention: {convention:,}; "
        f"other differences: {count - same - convention:,}"
    )
    for line in differences:
        print(f"  difference: {line}")
    print(f"engine: {engine_seconds / count * 1e6:.2f} µs per deadline ({engine_seconds:.2f} s)")
    print(f"pandas: {pandas_seconds / count * 1e6:.2f} µs per deadline ({pandas_seconds:.2f} s)")
    print(f"speed ratio: the engine is {pandas_seconds / engine_seconds:.1f}× faster")


def _random_cases(count: int, seed: int) -> tuple[list[datetime], list[int]]:
    rng = random.Random(seed)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    minutes_in_year = 365 * 24 * 60
    starts = [year_start + timedelta(minutes=rng.randrange(minutes_in_year)) for _ in range(count)]
    hours = [rng.randint(1, 40) for _ in range(count)]
    return starts, hours


def _pandas_offsets(
    calendar: BusinessCalendar, most: int
) -> dict[int, pd.offsets.CustomBusinessHour]:
    closed = [day for year in (2026, 2027) for day in calendar.closed_days(year)]
    return {
        hours: pd.offsets.CustomBusinessHour(
            n=hours, start="08:00", end="17:00", weekmask="Mon Tue Wed Thu Fri", holidays=closed
        )
        for hours in range(1, most + 1)
    }


def _is_window_end(calendar: BusinessCalendar, instant: datetime) -> bool:
    return not calendar.is_open(instant) and calendar.is_open(instant - timedelta(microseconds=1))


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


if __name__ == "__main__":
    main()
