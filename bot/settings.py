"""Settings from the environment, validated once at start-up.

Secrets (the Teams app password, the Webex token and webhook secret) are `SecretStr`, so they
never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.file_fetch import TEAMS_FILE_HOSTS
from storage.directory import Duration
from storage.errors import ConfigurationError
from storage.leases import DEFAULT_LEASE

log = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("chatops.toml")
DEFAULT_PORT = 3978  # the Bot Framework's convention
EXAMPLE_DIRECTORY = Path(__file__).resolve().parent.parent / "chatops.example.toml"
WEBEX_PUBLIC_API = "https://webexapis.com/v1/"
# A host name with at least two labels, optionally below a `*.` wildcard (never `*` alone).
_HOST_PATTERN = re.compile(r"(\*\.)?([a-z0-9-]+\.)+[a-z0-9-]+")


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/chatops`, by default `~/.cache/chatops`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "chatops"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    database_url: str = Field(default="", validation_alias=_env("CHATOPS_DATABASE_URL"))
    directory: Path = Field(default=DEFAULT_DIRECTORY, validation_alias=_env("CHATOPS_DIRECTORY"))
    data_dir: Path = Field(default=Path("var"), validation_alias=_env("CHATOPS_DATA_DIR"))
    public_url: str = Field(default="", validation_alias=_env("CHATOPS_PUBLIC_URL"))
    # The port `chatops serve` listens on (`--port` overrides it); without a public URL, the
    # links the bot hands out (report charts, CSV) point at this port on localhost.
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, validation_alias=_env("CHATOPS_PORT"))
    log_level: str = Field(default="INFO", validation_alias=_env("CHATOPS_LOG_LEVEL"))
    # Where the trained understanding is kept between starts ("" = the user's cache
    # directory, "off" = train at every start).
    understanding_cache: str = Field(
        default="", validation_alias=_env("CHATOPS_UNDERSTANDING_CACHE")
    )
    max_body_bytes: int = Field(
        default=256 * 1024, gt=0, validation_alias=_env("CHATOPS_MAX_BODY_BYTES")
    )
    max_logfile_bytes: int = Field(
        default=100 * 1024 * 1024, gt=0, validation_alias=_env("CHATOPS_MAX_LOGFILE_BYTES")
    )
    # A file download is abandoned after this many seconds in all, or this many without a byte.
    download_timeout: float = Field(
        default=120.0, gt=0, validation_alias=_env("CHATOPS_DOWNLOAD_TIMEOUT")
    )
    download_idle_timeout: float = Field(
        default=30.0, gt=0, validation_alias=_env("CHATOPS_DOWNLOAD_IDLE_TIMEOUT")
    )
    # Downloads run in a pool of their own, never in the turns' slots.
    max_concurrent_downloads: int = Field(
        default=4, gt=0, le=64, validation_alias=_env("CHATOPS_MAX_CONCURRENT_DOWNLOADS")
    )
    draft_remind_after: Duration = Field(
        default="30m", validation_alias=_env("CHATOPS_DRAFT_REMIND_AFTER")
    )
    draft_expire_after: Duration = Field(
        default="24h", validation_alias=_env("CHATOPS_DRAFT_EXPIRE_AFTER")
    )
    # How long a replica holds an inbound event or outbox row without renewing it: a dead
    # replica's work is taken over after about this long. Renewed every third of it.
    lease_seconds: float = Field(
        default=DEFAULT_LEASE.total_seconds(), ge=3, le=600,
        validation_alias=_env("CHATOPS_LEASE_SECONDS"),
    )  # fmt: skip
    # The integration API's rate limit per token and replica: requests a second on average,
    # and how many may come at once (a token bucket).
    api_rate: float = Field(
        default=10.0, gt=0, le=10_000, validation_alias=_env("CHATOPS_API_RATE")
    )
    api_burst: int = Field(default=20, ge=1, le=10_000, validation_alias=_env("CHATOPS_API_BURST"))

    # Outbound webhooks: a receiver that has not answered after this many seconds has failed
    # this attempt; plain http and private or loopback receivers only when explicitly allowed
    # (trying the bot against a receiver on one's own machine).
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, validation_alias=_env("CHATOPS_WEBHOOK_TIMEOUT")
    )
    webhooks_allow_insecure: bool = Field(
        default=False, validation_alias=_env("CHATOPS_WEBHOOKS_ALLOW_INSECURE")
    )

    microsoft_app_id: str = Field(default="", validation_alias=_env("MICROSOFT_APP_ID"))
    microsoft_app_password: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("MICROSOFT_APP_PASSWORD")
    )
    microsoft_app_type: Literal["SingleTenant", "MultiTenant", "UserAssignedMSI"] = Field(
        default="SingleTenant", validation_alias=_env("MICROSOFT_APP_TYPE")
    )
    microsoft_app_tenant_id: str = Field(
        default="", validation_alias=_env("MICROSOFT_APP_TENANT_ID")
    )

    webex_bot_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("WEBEX_BOT_TOKEN")
    )
    webex_webhook_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("WEBEX_WEBHOOK_SECRET")
    )
    webex_api_url: str = Field(default=WEBEX_PUBLIC_API, validation_alias=_env("WEBEX_API_URL"))
    teams_file_hosts: str = Field(
        default=",".join(TEAMS_FILE_HOSTS), validation_alias=_env("CHATOPS_TEAMS_FILE_HOSTS")
    )
    link_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("CHATOPS_LINK_SECRET")
    )
    metrics_token: SecretStr = Field(
        default=SecretStr(""), validation_alias=_env("CHATOPS_METRICS_TOKEN")
    )
    # Off: the chat SDKs' HTTP clients ignore HTTP(S)_PROXY, NO_PROXY and ~/.netrc (reading
    # them again for every call cost 2-3 % of the CPU); on: they use them, for a proxy.
    http_trust_env: bool = Field(default=False, validation_alias=_env("CHATOPS_HTTP_TRUST_ENV"))

    @property
    def understanding_cache_dir(self) -> Path | None:
        if self.understanding_cache.strip().lower() == "off":
            return None
        if self.understanding_cache.strip():
            return Path(self.understanding_cache).expanduser()
        return user_cache_dir()

    @field_validator("database_url", "public_url", "microsoft_app_id", "microsoft_app_tenant_id")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(the service talks to its database asynchronously)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("webex_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # The Webex SDK joins relative paths onto base_url and needs the trailing slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("teams_file_hosts")
    @classmethod
    def _host_patterns(cls, value: str) -> str:
        patterns = [part.strip().lower() for part in value.split(",") if part.strip()]
        if not patterns:
            raise ValueError("name at least one host (e.g. *.sharepoint.com)")
        for pattern in patterns:
            if not _HOST_PATTERN.fullmatch(pattern):
                raise ValueError(
                    f"{pattern!r} is not a host name or *.domain (e.g. *.sharepoint.us)"
                )
        return ",".join(patterns)

    @property
    def teams_file_host_patterns(self) -> tuple[str, ...]:
        """Where Teams file attachments may be downloaded from (https only)."""
        return tuple(self.teams_file_hosts.split(","))

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'chatops.sqlite3').resolve()}"

    @property
    def directory_path(self) -> Path:
        """The directory file to load: the configured one, else the shipped example."""
        if self.directory == DEFAULT_DIRECTORY and not DEFAULT_DIRECTORY.exists():
            return EXAMPLE_DIRECTORY
        return self.directory

    @property
    def teams_auth_enabled(self) -> bool:
        """An empty app id turns Bot Framework authentication off (local development only)."""
        return bool(self.microsoft_app_id)

    @property
    def lease(self) -> timedelta:
        """`lease_seconds` as a duration."""
        return timedelta(seconds=self.lease_seconds)

    @property
    def base_url(self) -> str:
        """Where people reach the bot's links: the public URL, else this machine."""
        return self.public_url or f"http://localhost:{self.port}"

    @property
    def files_dir(self) -> Path:
        """Where logfiles are stored, content-addressed."""
        return self.data_dir / "files"


def load_settings() -> Settings:
    """Read and validate the environment; raise `ConfigurationError` listing every problem."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc, source="environment")) from None
    problems = consistency_problems(settings)
    if problems:
        raise ConfigurationError(problems)
    return settings


def consistency_problems(settings: Settings) -> list[str]:
    """Settings that are each valid but do not make sense together."""
    problems = []
    password = settings.microsoft_app_password.get_secret_value()
    if settings.microsoft_app_id and settings.microsoft_app_type != "UserAssignedMSI":
        if not password:
            problems.append(
                "environment: MICROSOFT_APP_PASSWORD: required when MICROSOFT_APP_ID is set"
            )
        if settings.microsoft_app_type == "SingleTenant" and not settings.microsoft_app_tenant_id:
            problems.append("environment: MICROSOFT_APP_TENANT_ID: required for a SingleTenant app")
    if password and not settings.microsoft_app_id:
        problems.append("environment: MICROSOFT_APP_ID: required when a password is set")
    if (
        settings.webex_bot_token.get_secret_value()
        and not settings.webex_webhook_secret.get_secret_value()
    ):
        problems.append(
            "environment: WEBEX_WEBHOOK_SECRET: required when WEBEX_BOT_TOKEN is set "
            "(every webhook's signature is checked)"
        )
    return problems


def describe_validation_error(exc: ValidationError, *, source: str) -> list[str]:
    """One line per problem, with the field path and the message, never the offending value."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        path = ".".join(str(part) for part in error["loc"]) or "(root)"
        problems.append(f"{source}: {path}: {error['msg']}")
    return problems


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind_address(settings: Settings, host: str) -> None:
    """Refuse to serve unauthenticated Teams traffic on a reachable interface."""
    if settings.teams_auth_enabled:
        return
    if not is_loopback(host):
        raise ConfigurationError(
            [
                f"MICROSOFT_APP_ID is empty, which turns Teams authentication off; "
                f"that is only allowed on a loopback address, not on {host!r}. "
                "Set MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD) or bind to 127.0.0.1."
            ]
        )
    log.warning(
        "Teams authentication is OFF (MICROSOFT_APP_ID is empty): accepting unsigned requests "
        "on %s for local development only",
        host,
    )
