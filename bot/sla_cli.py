"""`chatops sla …`: business-time deadlines and calendars from the command line.

A stable interface that scripts use:
- `chatops sla deadline --contract CCSB --start 2026-01-07T15:30:00+01:00` prints the reaction
  deadline as ISO 8601 with the service time's UTC offset. `--duration` overrides the target,
  `--service-time` may replace `--contract`, `--start -` reads one start per line from standard
  input and prints one deadline per line in the same order. Bad input: a message naming the
  line on standard error, nothing on standard output, exit 2.
- `chatops sla calendar --service-time SNAZ --year 2026` lists the closed days with their names.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from typing import Any, TextIO

from storage.calendar import BusinessCalendar
from storage.directory import WEEKDAYS, Directory, Priority, parse_duration
from storage.errors import ConfigurationError

BAD_INPUT = 2


class BadInput(Exception):
    """A start time or option the command cannot use; the message says which and why."""


def add_sla_commands(commands: Any) -> None:
    """Register `sla deadline` and `sla calendar` on the CLI's subparsers."""
    sla = commands.add_parser("sla", help="business-time deadlines and calendars")
    sla_commands = sla.add_subparsers(required=True, metavar="COMMAND")

    deadline = sla_commands.add_parser("deadline", help="print the reaction deadline")
    target = deadline.add_mutually_exclusive_group(required=True)
    target.add_argument("--contract", help="contract key, e.g. CCSB")
    target.add_argument("--service-time", help="service-time key, e.g. SNAZ (needs --duration)")
    deadline.add_argument(
        "--start", required=True, help="ISO 8601 with UTC offset, or - for one per stdin line"
    )
    deadline.add_argument("--duration", help="business time, e.g. 4h, 90m, 1h30m")
    deadline.add_argument("--priority", choices=[p.value for p in Priority], default=None)
    deadline.add_argument("--customer", help="customer key whose overrides apply")
    deadline.set_defaults(run=run_deadline)

    calendar = sla_commands.add_parser("calendar", help="list the closed days of a year")
    calendar.add_argument("--service-time", required=True, help="service-time key, e.g. SNAZ")
    calendar.add_argument("--year", type=int, required=True)
    calendar.set_defaults(run=run_calendar)


def run_deadline(args: argparse.Namespace) -> int:
    """`chatops sla deadline`."""
    directory = _directory()
    try:
        calendar, duration = _target(directory, args)
        if args.start == "-":
            output = _deadlines(calendar, duration, sys.stdin)
        else:
            output = _deadline(calendar, duration, _parse_start(args.start, "--start")) + "\n"
    except BadInput as problem:
        print(f"chatops sla deadline: {problem}", file=sys.stderr)
        return BAD_INPUT
    sys.stdout.write(output)
    return 0


def run_calendar(args: argparse.Namespace) -> int:
    """`chatops sla calendar`."""
    directory = _directory()
    try:
        calendar = _calendar(directory, args.service_time)
    except BadInput as problem:
        print(f"chatops sla calendar: {problem}", file=sys.stderr)
        return BAD_INPUT
    service_days = directory.service_times[args.service_time].windows
    for day, name in sorted(calendar.closed_days(args.year).items()):
        note = "" if WEEKDAYS[day.weekday()] in service_days else " (not a service day anyway)"
        print(f"{day.isoformat()} {day:%a} {name}{note}")
    return 0


def _target(directory: Directory, args: argparse.Namespace) -> tuple[BusinessCalendar, timedelta]:
    if args.service_time:
        if not args.duration:
            raise BadInput("--service-time needs --duration (a contract knows its target)")
        return _calendar(directory, args.service_time), _duration(args.duration)
    contract = directory.contracts.get(args.contract)
    if contract is None:
        raise BadInput(f"unknown contract {args.contract!r}; known: {_keys(directory.contracts)}")
    service_time = contract.service_time
    target = contract.reaction_time(Priority(args.priority) if args.priority else None)
    if args.customer:
        customer = directory.customer(args.customer)
        if customer is None:
            raise BadInput(f"unknown customer {args.customer!r}")
        service_time = customer.overrides.service_time or service_time
        target = customer.overrides.reaction_time or target
    duration = _duration(args.duration) if args.duration else target
    return _calendar(directory, service_time), duration


def _calendar(directory: Directory, key: str) -> BusinessCalendar:
    service_time = directory.service_times.get(key)
    if service_time is None:
        raise BadInput(f"unknown service time {key!r}; known: {_keys(directory.service_times)}")
    return BusinessCalendar.from_service_time(service_time)


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise BadInput(f"--duration: {exc}") from None


def _deadlines(calendar: BusinessCalendar, duration: timedelta, lines: TextIO) -> str:
    """Every line's deadline, or BadInput naming the first bad line (nothing is printed)."""
    results = [
        _deadline(calendar, duration, _parse_start(line.strip(), f"line {number}"))
        for number, line in enumerate(lines, start=1)
    ]
    return "".join(f"{result}\n" for result in results)


def _deadline(calendar: BusinessCalendar, duration: timedelta, start: datetime) -> str:
    return calendar.add(start, duration).astimezone(calendar.zone).isoformat()


def _parse_start(text: str, where: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{where}: {text[:60]!r} is not an ISO 8601 time like 2026-01-07T15:30:00+01:00"
        ) from None
    if start.tzinfo is None:
        raise BadInput(f"{where}: {text[:60]!r} has no UTC offset (add e.g. +01:00 or Z)")
    return start


def _directory() -> Directory:
    from pydantic import ValidationError

    from bot.settings import Settings, describe_validation_error
    from storage.directory import load_directory

    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc, source="environment")) from None
    return load_directory(settings.directory_path)


def _keys(mapping: dict[str, Any]) -> str:
    return ", ".join(sorted(mapping))
