"""Schemathesis against the served OpenAPI document: generated requests, valid and invalid, to
every operation of a running bot (on 127.0.0.1, port 0) find no 5xx and no answer the document
does not describe. A bounded number of examples, derandomized: every run sends the same ones.

Schema-valid requests may still be refused with 422: the document cannot say which customer
keys exist or what a phone number looks like to the intake, so "valid data is accepted" is the
one check left out."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from adapters.api import new_token, token_hash
from bot.app import STORE, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import load_directory
from tests.api_client import REPORT, with_second_customer

EXAMPLES = 150


@dataclass
class Served:
    """A bot serving in a thread of its own (schemathesis speaks blocking HTTP)."""

    base_url: str
    token: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("api-fuzz")
    ready, stop = threading.Event(), threading.Event()
    found: dict[str, object] = {}

    async def serve() -> None:
        settings = Settings(
            data_dir=Path(data) / "var",
            directory=EXAMPLE_DIRECTORY,
            api_rate=10_000,
            api_burst=10_000,
        )
        app = create_app(
            settings, directory=with_second_customer(load_directory(EXAMPLE_DIRECTORY))
        )
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        found["port"] = runner.addresses[0][1]
        found["token"] = await _seeded(app)
        ready.set()
        await asyncio.to_thread(stop.wait)
        await runner.cleanup()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(120), "the bot did not start"
    served = Served(f"http://127.0.0.1:{found['port']}/api/v1", str(found["token"]))
    # A ticket for the operations that read one (the document's example names no real one).
    opened = requests.post(
        f"{served.base_url}/tickets",
        json=REPORT,
        headers={"Authorization": f"Bearer {served.token}"},
        timeout=30,
    )
    assert opened.status_code == 201, opened.text
    yield served
    stop.set()
    thread.join(30)


async def _seeded(app: web.Application) -> str:
    """A token with every scope."""
    token = new_token()
    await app[STORE].api_tokens.add(
        name="fuzz",
        token_hash=token_hash(token),
        scopes=["tickets:read", "tickets:write", "customers:read", "reports:read"],
        customer_key=None,
        now=datetime.now(UTC),
    )
    return token


def _run(served: Served, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{served.base_url}/openapi.json")
    headers = {"Authorization": f"Bearer {served.token}"}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=schema.as_strategy(generation_mode=mode))
    def check(case: Case[Any]) -> None:
        response = case.call(base_url=served.base_url, headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:500])
        case.validate_response(
            response, headers=headers, excluded_checks=[positive_data_acceptance]
        )

    check()


def test_valid_requests_get_answers_the_document_describes(served: Served) -> None:
    _run(served, GenerationMode.POSITIVE)


def test_invalid_requests_are_refused_as_described(served: Served) -> None:
    _run(served, GenerationMode.NEGATIVE)
