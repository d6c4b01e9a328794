"""The bot's Webex webhooks: registered idempotently, kept active, never touching others';
through the real SDK against the fake Webex, from the app at start and from the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.retry import RetryPolicy
from adapters.webex.sdk import WebexApi
from adapters.webex.webhooks import ensure_webhooks, keep_webhooks
from bot.app import create_app
from bot.settings import Settings
from storage.directory import Directory
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex

TARGET = "https://bot.example/api/webex"
CHATOPS = str(Path(sys.executable).parent / "chatops")


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex(FakeWebex(page_size=1)) as fake:  # every list is paged
        yield fake


@pytest.fixture
async def api(webex: FakeWebex) -> AsyncIterator[WebexApi]:
    client = WebexApi(
        token=webex.token, base_url=webex.base_url, retry=RetryPolicy(base_delay=0.01)
    )
    yield client
    await client.close()


def ours(webex: FakeWebex) -> list[Json]:
    return [hook for hook in webex.webhooks.values() if hook["targetUrl"] == TARGET]


def someone_elses(webex: FakeWebex) -> list[Json]:
    """Webhooks of the same token that are not the bot's own: each must stay as it is."""
    return [
        webex.add_webhook(
            name="chatops messages",
            targetUrl="https://staging.example/api/webex",
            resource="messages",
            event="created",
            secret="staging",
        ),
        webex.add_webhook(
            name="audit firehose",
            targetUrl=TARGET,
            resource="all",
            event="all",
            status="inactive",
        ),
    ]


async def test_registration_creates_each_webhook_once_and_leaves_others_alone(
    api: WebexApi, webex: FakeWebex
) -> None:
    others = [dict(hook) for hook in someone_elses(webex)]

    first = await ensure_webhooks(api, target_url=TARGET, secret=webex.secret)
    second = await ensure_webhooks(api, target_url=TARGET, secret=webex.secret)

    assert [c.outcome for c in first] == ["created", "created", "created"]
    assert [c.outcome for c in second] == ["unchanged", "unchanged", "unchanged"]
    mine = [hook for hook in ours(webex) if hook["name"].startswith("chatops")]
    assert sorted((h["resource"], h["event"]) for h in mine) == [
        ("attachmentActions", "created"),
        ("memberships", "created"),  # the bot added to a space: its welcome
        ("messages", "created"),
    ]
    assert all(h["secret"] == webex.secret and h["status"] == "active" for h in mine)
    assert [webex.webhooks[hook["id"]] for hook in others] == others
    assert not any(method == "DELETE" for method, _ in webex.calls)
    assert webex.calls.count(("POST", "webhooks")) == 3
    assert ("PUT", "webhooks") not in {(m, r.split("/")[0]) for m, r in webex.calls}


async def test_an_inactive_webhook_is_reactivated_and_a_changed_secret_restored(
    api: WebexApi, webex: FakeWebex
) -> None:
    await ensure_webhooks(api, target_url=TARGET, secret=webex.secret)
    by_resource = {hook["resource"]: hook for hook in ours(webex)}
    messages, actions = by_resource["messages"], by_resource["attachmentActions"]
    messages["status"] = "inactive"  # Webex gave up delivering while the bot was down
    actions["secret"] = "an old secret"
    others = [dict(hook) for hook in someone_elses(webex)]

    changes = await ensure_webhooks(api, target_url=TARGET, secret=webex.secret)

    assert [c.outcome for c in changes] == ["reactivated", "updated", "unchanged"]
    assert messages["status"] == "active"
    assert actions["secret"] == webex.secret
    assert [webex.webhooks[hook["id"]] for hook in others] == others


async def test_the_periodic_check_reactivates_a_webhook_webex_disabled(
    api: WebexApi, webex: FakeWebex
) -> None:
    keeper = asyncio.create_task(
        keep_webhooks(api, target_url=TARGET, secret=webex.secret, every=0.05)
    )
    try:
        await webex.wait_until(lambda: len(ours(webex)) == 3)
        hook = ours(webex)[0]
        hook["status"] = "inactive"
        await webex.wait_until(lambda: hook["status"] == "active")
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    assert len(ours(webex)) == 3


async def test_the_periodic_check_survives_a_failing_webex(
    api: WebexApi, webex: FakeWebex, caplog: pytest.LogCaptureFixture
) -> None:
    webex.fail_next(401, method="GET", path="webhooks")
    keeper = asyncio.create_task(
        keep_webhooks(api, target_url=TARGET, secret=webex.secret, every=0.05)
    )
    try:
        await webex.wait_until(lambda: len(ours(webex)) == 3)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    assert "could not check the Webex webhooks" in caplog.text


async def test_serve_registers_in_the_background_without_delaying_start_up(
    settings: Settings, directory: Directory, webex: FakeWebex
) -> None:
    webex.slow("GET", "webhooks", 4.0)
    configured = bot_settings(settings, webex, public_url="https://bot.example/")
    client = TestClient(TestServer(create_app(configured, directory=directory)))

    started = time.perf_counter()
    await client.start_server()
    health = await client.get("/healthz")
    start_up = time.perf_counter() - started
    try:
        assert health.status == 200
        assert start_up < 2.5, f"start-up waited {start_up:.2f}s for Webex"
        await webex.wait_until(lambda: len(ours(webex)) == 3)
    finally:
        await client.close()


async def _chatops(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CHATOPS,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
def env(tmp_path: Path, webex: FakeWebex) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHATOPS_DATA_DIR": str(tmp_path / "var"),
        "CHATOPS_PUBLIC_URL": "https://bot.example",
        "WEBEX_BOT_TOKEN": webex.token,
        "WEBEX_WEBHOOK_SECRET": webex.secret,
        "WEBEX_API_URL": webex.base_url,
    }


async def test_the_webhooks_command_registers_idempotently(
    env: dict[str, str], webex: FakeWebex
) -> None:
    others = [dict(hook) for hook in someone_elses(webex)]

    first = await _chatops("webex", "webhooks", env=env)
    second = await _chatops("webex", "webhooks", env=env)

    assert first[0] == 0, first[2]
    assert "chatops messages: created" in first[1]
    assert "chatops card actions: created" in first[1]
    assert "chatops memberships: created" in first[1]
    assert second[0] == 0, second[2]
    assert second[1].count("unchanged") == 3
    assert len(ours(webex)) == 4  # our three, and the other audit hook on the same URL
    assert [webex.webhooks[hook["id"]] for hook in others] == others
    for output in (*first[1:], *second[1:]):
        assert webex.token not in output
        assert webex.secret not in output


async def test_the_webhooks_command_needs_the_public_url(env: dict[str, str]) -> None:
    del env["CHATOPS_PUBLIC_URL"]

    code, _out, err = await _chatops("webex", "webhooks", env=env)

    assert code == 1
    assert "CHATOPS_PUBLIC_URL: required" in err
    assert "Traceback" not in err


async def test_the_webhooks_command_reports_a_refusal_without_a_stack_trace(
    env: dict[str, str], webex: FakeWebex
) -> None:
    env["WEBEX_BOT_TOKEN"] = "a-revoked-token"

    code, _out, err = await _chatops("webex", "webhooks", env=env)

    assert code == 1
    assert "HTTP 401" in err
    assert "Traceback" not in err
    assert "a-revoked-token" not in err
