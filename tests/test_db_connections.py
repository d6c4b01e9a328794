"""Pooled PostgreSQL connections that the server dropped (a restart, a failover, an idle
timeout in a proxy): the app must carry on without a restart of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

import storage.db
from storage.db import Database
from storage.errors import DatabaseUnavailable
from tests.conftest import POSTGRES_URL, _fresh_postgres_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set CHATOPS_TEST_POSTGRES_URL to run on PostgreSQL"
)


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    async with _fresh_postgres_database() as url:
        database = Database(url)
        yield database
        await database.dispose()


async def drop_all_connections(database: Database) -> int:
    """What a server restart does to the app's pooled connections; returns how many."""
    dsn = make_url(database.url).set(drivername="postgresql")
    admin = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    return int(dropped)


def pooled_connections(database: Database) -> list[Any]:
    """The driver connections given back to the pool from now on (to look at, not to use)."""
    returned: list[Any] = []

    def given_back(connection: Any, _record: Any) -> None:
        returned.append(connection)

    event.listen(database.engine.sync_engine, "checkin", given_back)
    return returned


async def goodbye_arrived(connections: list[Any]) -> None:
    """Wait until the driver has read the server's goodbye on `connections`: the backend sends
    it a moment after `pg_terminate_backend` returns, later on a busy machine."""
    for _ in range(1000):
        if all(storage.db._closed_by_server(connection) for connection in connections):
            return
        await asyncio.sleep(0.01)


async def select_one(database: Database) -> int:
    async with database.session() as session:
        return int((await session.execute(text("SELECT 1"))).scalar_one())


async def test_a_connection_dropped_while_idle_is_replaced_unnoticed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every reuse counts as idle
    assert await select_one(database) == 1
    assert await drop_all_connections(database) == 1

    assert await select_one(database) == 1  # pinged, found dead, reconnected: no error


async def test_connections_the_server_dropped_while_in_steady_use_are_replaced_unnoticed(
    database: Database,
) -> None:
    # Not idle, so not pinged: the driver already knows the server closed them (no round trip).
    pooled = pooled_connections(database)
    assert await select_one(database) == 1
    assert await drop_all_connections(database) == 1
    await goodbye_arrived(pooled)

    assert await select_one(database) == 1
    assert await database.ping()


async def test_a_dead_connection_the_driver_has_not_noticed_yet_fails_one_statement_only(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A network path that died silently: nothing tells the driver before it is used.
    monkeypatch.setattr(storage.db, "_closed_by_server", lambda _connection: False)
    assert await select_one(database) == 1
    assert await drop_all_connections(database) == 1

    with pytest.raises(DatabaseUnavailable) as failed:
        await select_one(database)
    assert failed.value.stale_connection  # the pool has dropped it: worth a second try
    assert await select_one(database) == 1


async def test_the_health_probe_retries_once_on_a_dead_connection(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage.db, "_closed_by_server", lambda _connection: False)
    assert await database.ping()
    assert await drop_all_connections(database) == 1

    assert await database.ping()  # 200 at once, not a 503 for the dead connection
