"""Settings from the environment: fail fast, clearly, and never leak a secret."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import EXAMPLE_DIRECTORY, Settings, check_bind_address, load_settings
from storage.errors import ConfigurationError

SECRET = "s3cr3t-Password-that-must-not-leak"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CHATOPS_DATABASE_URL",
        "CHATOPS_DIRECTORY",
        "CHATOPS_DATA_DIR",
        "CHATOPS_PUBLIC_URL",
        "MICROSOFT_APP_ID",
        "MICROSOFT_APP_PASSWORD",
        "MICROSOFT_APP_TYPE",
        "MICROSOFT_APP_TENANT_ID",
        "WEBEX_BOT_TOKEN",
        "WEBEX_WEBHOOK_SECRET",
        "WEBEX_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(Path(__file__).parent)  # no chatops.toml here


def test_defaults_use_embedded_sqlite_and_the_example_directory() -> None:
    settings = load_settings()
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("var/chatops.sqlite3")
    assert settings.directory_path == EXAMPLE_DIRECTORY
    assert not settings.teams_auth_enabled


def test_every_bad_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATOPS_DATABASE_URL", "mysql://db/chatops")
    monkeypatch.setenv("MICROSOFT_APP_TYPE", "SomethingElse")
    monkeypatch.setenv("CHATOPS_MAX_BODY_BYTES", "-5")

    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    report = "\n".join(caught.value.problems)

    assert "CHATOPS_DATABASE_URL" in report and "postgresql+asyncpg" in report
    assert "MICROSOFT_APP_TYPE" in report
    assert "CHATOPS_MAX_BODY_BYTES" in report


def test_an_app_id_needs_its_password_and_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000001")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert any("MICROSOFT_APP_PASSWORD" in p for p in caught.value.problems)
    assert any("MICROSOFT_APP_TENANT_ID" in p for p in caught.value.problems)


def test_a_webex_token_needs_a_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBEX_BOT_TOKEN", SECRET)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert any("WEBEX_WEBHOOK_SECRET" in p for p in caught.value.problems)
    assert SECRET not in str(caught.value)


def test_secrets_never_show_in_reprs_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", SECRET)
    monkeypatch.setenv("MICROSOFT_APP_TYPE", "bogus")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert SECRET not in str(caught.value)
    monkeypatch.delenv("MICROSOFT_APP_TYPE")
    settings = Settings(microsoft_app_password=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_unauthenticated_teams_is_refused_on_a_public_interface() -> None:
    settings = load_settings()
    with pytest.raises(ConfigurationError, match="only allowed on a loopback address"):
        check_bind_address(settings, "0.0.0.0")  # noqa: S104


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_unauthenticated_teams_is_allowed_on_loopback_with_a_warning(
    host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        check_bind_address(load_settings(), host)
    assert "authentication is OFF" in caplog.text


def test_authenticated_teams_may_listen_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", SECRET)
    monkeypatch.setenv("MICROSOFT_APP_TENANT_ID", "tenant")
    check_bind_address(load_settings(), "0.0.0.0")  # noqa: S104
