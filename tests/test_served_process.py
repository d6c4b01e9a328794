"""What `chatops serve` itself adds around the app, checked on a real process: the access log
keeps the signatures of report and logfile links out, and `/metrics` can be restricted to a
bearer token."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.settings import EXAMPLE_DIRECTORY
from tests.test_replicas import Replica

METRICS_TOKEN = "metrics-token-for-the-scraper"
LINK_SIGNATURE = "5f1c" * 16


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Replica]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHATOPS_DATA_DIR": str(tmp_path / "var"),
        # trained once for the whole run (conftest), not once per process
        "CHATOPS_UNDERSTANDING_CACHE": os.environ["CHATOPS_UNDERSTANDING_CACHE"],
        "CHATOPS_DIRECTORY": str(EXAMPLE_DIRECTORY),
        "CHATOPS_LOG_LEVEL": "INFO",
        "CHATOPS_METRICS_TOKEN": METRICS_TOKEN,
    }
    process = Replica("bot", env, tmp_path)
    await process.start()
    yield process
    await process.stop()


async def test_the_access_log_never_shows_a_links_signature(served: Replica) -> None:
    report = f"/files/reports/{'ab' * 32}.csv?expires=4102444800&sig={LINK_SIGNATURE}"
    logfile = f"/files/logfiles/7?ticket=3&expires=4102444800&SIG={LINK_SIGNATURE}"
    referred = {"Referer": f"https://teams.example/chat?x=1&sig={LINK_SIGNATURE}"}
    async with aiohttp.ClientSession() as session:
        for link in (report, logfile):
            async with session.get(served.base + link, headers=referred) as response:
                assert response.status == 403

    await served.stop()  # the log is complete once the process has ended
    log = served.log.read_text(encoding="utf-8")
    assert "GET /files/reports/" in log  # the requests are logged …
    assert "GET /files/logfiles/7?ticket=3&expires=4102444800&SIG=[redacted]" in log
    assert LINK_SIGNATURE not in log  # … without what would let a reader fetch the file


async def test_metrics_need_the_configured_bearer_token(served: Replica) -> None:
    refused_headers: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {METRICS_TOKEN}x"},
    ]
    async with aiohttp.ClientSession() as session:
        for headers in refused_headers:
            async with session.get(f"{served.base}/metrics", headers=headers) as refused:
                assert refused.status == 401, headers
                assert await refused.json() == {"error": "unauthorized"}
        granted = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with session.get(f"{served.base}/metrics", headers=granted) as response:
            assert response.status == 200
            assert "chatops_http_requests_total" in await response.text()


async def test_a_service_stopped_while_it_trains_stops_at_once(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHATOPS_DATA_DIR": str(tmp_path / "var"),
        "CHATOPS_UNDERSTANDING_CACHE": "off",  # trains at this start, for seconds
        "CHATOPS_DIRECTORY": str(EXAMPLE_DIRECTORY),
        "CHATOPS_LOG_LEVEL": "INFO",
    }
    process = Replica("bot", env, tmp_path)
    await process.start()  # answers /healthz while the understanding still trains
    await process.stop()

    log = process.log.read_text(encoding="utf-8")
    assert "understanding ready" not in log  # it did not wait for a model nobody will use
