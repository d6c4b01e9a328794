"""The `chatops` command line, run as a user would run it."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

CHATOPS = str(Path(sys.executable).parent / "chatops")
APP_ID = "8f0c6a3e-2d4b-4c1a-9e7f-5b6d3c2a1f00"


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATOPS, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: nothing but PATH, working in an empty folder."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHATOPS_DATA_DIR": str(tmp_path / "var"),
        # trained once for the whole run (conftest), not once per process
        "CHATOPS_UNDERSTANDING_CACHE": os.environ["CHATOPS_UNDERSTANDING_CACHE"],
    }


def test_check_accepts_the_shipped_example(env: dict[str, str]) -> None:
    result = run("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "chatops.example.toml: ok" in result.stdout


def test_check_lists_every_problem_with_its_path(env: dict[str, str], tmp_path: Path) -> None:
    directory = tmp_path / "chatops.toml"
    example = (Path(__file__).parent.parent / "chatops.example.toml").read_text(encoding="utf-8")
    directory.write_text(
        example.replace('reaction = "4h"', 'reaction = "soon"').replace(
            'timezone = "Europe/Vienna"', 'timezone = "Mars/Olympus"', 1
        ),
        encoding="utf-8",
    )
    env |= {"CHATOPS_DIRECTORY": str(directory), "MICROSOFT_APP_TYPE": "Nope"}

    result = run("check", env=env)

    assert result.returncode == 1
    assert "environment: MICROSOFT_APP_TYPE" in result.stderr
    assert "service_times.SNAZ.timezone" in result.stderr
    assert "contracts.CCSB.reaction" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_embedded_database(env: dict[str, str], tmp_path: Path) -> None:
    result = run("migrate", env=env)

    assert result.returncode == 0, result.stderr
    database = tmp_path / "var" / "chatops.sqlite3"
    tables = {
        name
        for (name,) in sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"inbound_event", "dialog_state", "conversation_reference", "contact"} <= tables
    assert run("migrate", env=env).returncode == 0  # idempotent


def test_serve_refuses_unauthenticated_teams_on_a_public_interface(env: dict[str, str]) -> None:
    result = run("serve", "--host", "0.0.0.0", "--port", "0", env=env)  # noqa: S104
    assert result.returncode == 1
    assert "only allowed on a loopback address" in result.stderr


def test_serve_answers_health_checks_and_stops_cleanly(env: dict[str, str]) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [CHATOPS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "authentication is OFF" in output


def test_manifest_writes_the_teams_app_package(env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "out" / "sla-desk.zip"
    result = run(
        "manifest", "--app-id", APP_ID, "--domain", "bot.example.com", "-o", str(output), env=env
    )

    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(output) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_manifest_explains_a_bad_app_id(env: dict[str, str]) -> None:
    result = run("manifest", "--app-id", "not-a-guid", "--domain", "bot.example.com", env=env)
    assert result.returncode == 1
    assert "GUID" in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"chatops serve exited early: {process.stdout and process.stdout.read()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
                status: int = response.status
                return status
        except OSError:
            time.sleep(0.2)
    raise AssertionError("chatops serve did not become healthy in 30 s")
