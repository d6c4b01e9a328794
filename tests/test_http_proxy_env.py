"""The chat SDKs' HTTP clients ignore the proxy variables of the environment unless
`CHATOPS_HTTP_TRUST_ENV=true` asks for them (reading them, and ~/.netrc, again for every call
cost 2-3 % of the CPU under load). Tested over real HTTP: the environment names a proxy on
loopback, and the test looks at which server the bot's calls reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import WEBEX_API, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import Directory
from tests.activities import personal_message
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector
from tests.serving import running


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def proxy_webex() -> AsyncIterator[FakeWebex]:
    """Where the environment's proxy points: a second fake that records what reaches it."""
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def proxy_connector() -> AsyncIterator[FakeBotConnector]:
    fake = FakeBotConnector()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.server = server
    yield fake
    await server.close()


def settings_from_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, proxy: str, trust_env: str | None
) -> Settings:
    """Settings read from the environment, which names `proxy` for every plain-HTTP call."""
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    if trust_env is not None:
        monkeypatch.setenv("CHATOPS_HTTP_TRUST_ENV", trust_env)
    else:
        monkeypatch.delenv("CHATOPS_HTTP_TRUST_ENV", raising=False)
    return Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)


def origin(server: TestServer | None) -> str:
    assert server is not None
    return str(server.make_url("/")).rstrip("/")


@pytest.mark.parametrize(("trust_env", "through_proxy"), [(None, False), ("true", True)])
async def test_webex_calls_use_the_environments_proxy_only_when_configured(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    directory: Directory,
    webex: FakeWebex,
    proxy_webex: FakeWebex,
    trust_env: str | None,
    through_proxy: bool,
) -> None:
    settings = settings_from_environment(
        monkeypatch, tmp_path, origin(proxy_webex.server), trust_env
    )
    assert settings.http_trust_env is through_proxy

    async with running(create_app(bot_settings(settings, webex), directory=directory)) as bot:
        me = await bot.app[WEBEX_API].me()

    reached, passed_by = (proxy_webex, webex) if through_proxy else (webex, proxy_webex)
    assert me["id"] == reached.bot["id"]
    assert ("GET", "people/me") in reached.calls
    assert ("GET", "people/me") not in passed_by.calls


@pytest.mark.parametrize(("trust_env", "through_proxy"), [("false", False), ("true", True)])
async def test_teams_answers_use_the_environments_proxy_only_when_configured(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    directory: Directory,
    connector: FakeBotConnector,
    proxy_connector: FakeBotConnector,
    trust_env: str,
    through_proxy: bool,
) -> None:
    settings = settings_from_environment(
        monkeypatch, tmp_path, origin(proxy_connector.server), trust_env
    )
    activity = personal_message(directory, "help", service_url=connector.url)

    async with running(create_app(settings, directory=directory)) as bot:
        assert (await bot.post("/api/messages", json=activity)).status == 200
        reached, passed_by = (
            (proxy_connector, connector) if through_proxy else (connector, proxy_connector)
        )
        [reply] = await reached.wait_for_messages(1)

    assert reply.conversation_id == activity["conversation"]["id"]
    assert passed_by.calls == []
