"""Shared fixtures: databases on every backend, the example directory, a fake connector."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from bot.settings import EXAMPLE_DIRECTORY, Settings
from dialogs.catalog import build_understander, default_commands
from storage.db import Database
from storage.directory import Directory, load_directory
from storage.migrate import upgrade_database
from storage.repositories import Store
from tests.fakes import FakeBotConnector

POSTGRES_URL = os.environ.get("CHATOPS_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session", autouse=True)
def trained_understanding(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The understanding trained once for the whole run, before any test's timeouts start:
    apps built in this process find it in memory, served processes (`chatops serve`) in the
    cache directory, whatever another checkout left in the user's cache."""
    cache = tmp_path_factory.mktemp("understanding")
    os.environ["CHATOPS_UNDERSTANDING_CACHE"] = str(cache)
    build_understander(default_commands(), load_directory(EXAMPLE_DIRECTORY), cache)


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="set CHATOPS_TEST_POSTGRES_URL to run on PostgreSQL"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend: SQLite always, PostgreSQL where configured."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    async with _fresh_postgres_database() as url:
        yield url


class _FreshPostgres:
    def __init__(self) -> None:
        base = make_url(POSTGRES_URL)
        self.name = f"chatops_test_{uuid.uuid4().hex[:12]}"
        self.admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
        self.url = base.set(database=self.name).render_as_string(hide_password=False)

    async def __aenter__(self) -> str:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            await connection.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await connection.close()
        return self.url

    async def __aexit__(self, *_exc: object) -> None:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await connection.close()


def _fresh_postgres_database() -> _FreshPostgres:
    return _FreshPostgres()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """Repositories over a migrated database."""
    database = Database(database_url)
    await upgrade_database(database)
    yield Store(database)
    await database.dispose()


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The shipped example directory (CCSB 3.0, SNAZ, the demo customer and staff)."""
    return load_directory(EXAMPLE_DIRECTORY)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a local bot: SQLite in a temporary folder, Teams authentication off."""
    return Settings(data_dir=tmp_path / "var", directory=EXAMPLE_DIRECTORY)


@pytest.fixture
async def connector() -> AsyncIterator[FakeBotConnector]:
    """A fake Bot Connector on a free port."""
    fake = FakeBotConnector()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.server = server
    yield fake
    await server.close()
