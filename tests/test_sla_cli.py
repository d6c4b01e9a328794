"""`chatops sla`: the command line others script against."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHATOPS = str(Path(sys.executable).parent / "chatops")


def sla(*args: str, stdin: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATOPS, "sla", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env={"PATH": os.environ["PATH"]},
    )


def test_the_reaction_deadline_of_a_contract(tmp_path: Path) -> None:
    result = sla(
        "deadline", "--contract", "CCSB", "--start", "2026-01-07T15:30:00+01:00", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2026-01-08T10:30:00+01:00\n"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--contract", "CCSB", "--duration", "9h"], "2026-01-08T15:30:00+01:00"),
        (["--contract", "CCSB", "--duration", "90m"], "2026-01-07T17:00:00+01:00"),
        (["--service-time", "SNAZ", "--duration", "1h30m"], "2026-01-07T17:00:00+01:00"),
        (["--service-time", "24x7", "--duration", "9h"], "2026-01-08T00:30:00+01:00"),
    ],
)
def test_duration_and_service_time_options(
    tmp_path: Path, options: list[str], expected: str
) -> None:
    result = sla("deadline", *options, "--start", "2026-01-07T15:30:00+01:00", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_batch_mode_keeps_the_order(tmp_path: Path) -> None:
    starts = "2026-10-23T13:00:00+02:00\n2026-01-07T14:30:00Z\n2026-12-23T15:00:00+01:00\n"
    result = sla("deadline", "--contract", "CCSB", "--start", "-", stdin=starts, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2026-10-23T17:00:00+02:00",
        "2026-01-08T10:30:00+01:00",
        "2026-12-28T10:00:00+01:00",
    ]


@pytest.mark.parametrize(
    ("stdin", "complaint"),
    [
        ("2026-01-07T15:30:00+01:00\nnot a time\n", "line 2: 'not a time' is not an ISO 8601"),
        ("2026-01-07T15:30:00\n", "line 1: '2026-01-07T15:30:00' has no UTC offset"),
        ("2026-01-07T15:30:00+01:00\n\n", "line 2: '' is not an ISO 8601"),
    ],
)
def test_bad_input_names_the_line_and_prints_no_deadlines(
    tmp_path: Path, stdin: str, complaint: str
) -> None:
    result = sla("deadline", "--contract", "CCSB", "--start", "-", stdin=stdin, cwd=tmp_path)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--contract", "GOLD"], "unknown contract 'GOLD'; known: CCSB"),
        (["--service-time", "SNAZ"], "--service-time needs --duration"),
        (["--contract", "CCSB", "--duration", "soon"], "--duration: 'soon' is not a duration"),
    ],
)
def test_bad_options_are_explained(tmp_path: Path, options: list[str], complaint: str) -> None:
    result = sla("deadline", *options, "--start", "2026-01-07T15:30:00+01:00", cwd=tmp_path)
    assert result.returncode == 2
    assert complaint in result.stderr


def test_the_calendar_lists_closed_days_with_names(tmp_path: Path) -> None:
    result = sla("calendar", "--service-time", "SNAZ", "--year", "2026", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "2026-01-06 Tue Epiphany" in lines
    assert "2026-10-26 Mon National Day" in lines
    assert "2026-12-24 Thu Christmas Eve" in lines
    assert "2026-08-15 Sat Assumption Day (not a service day anyway)" in lines
    assert len(lines) == 15
