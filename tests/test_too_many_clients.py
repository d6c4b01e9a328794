"""A PostgreSQL server that refuses new connections ("sorry, too many clients already") makes
the webhooks and `/healthz` answer 503 with Retry-After, never 500: Teams and Webex retry a
503, and the load balancer takes the replica out until the database has room again. Over real
HTTP against a real server: the bot's database role gets a connection limit of 0 (the same
SQLSTATE 53300 as the server's own `max_connections`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.app import DATABASE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.repositories import Store
from tests.activities import personal_message
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector
from tests.serving import Bot, running


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


def admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def limited_role(store: Store) -> AsyncIterator[str]:
    """A database URL for a role of its own (not a superuser, whom limits do not bind)."""
    if store.database.dialect != "postgresql":
        pytest.skip("a PostgreSQL server's connection limit")
    role = f"chatops_limited_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(admin_dsn(store.database.url))
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        await admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        yield make_url(store.database.url).set(username=role).render_as_string(False)
    finally:
        await admin.execute(f'DROP OWNED BY "{role}"')
        await admin.close()
    server = await asyncpg.connect(admin_dsn(store.database.url))
    try:
        await server.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await server.close()


async def set_connection_limit(store: Store, role_url: str, limit: int) -> None:
    role = make_url(role_url).username
    admin = await asyncpg.connect(admin_dsn(store.database.url))
    try:
        await admin.execute(f'ALTER ROLE "{role}" CONNECTION LIMIT {limit}')
    finally:
        await admin.close()


async def answers(bot: Bot, webex: FakeWebex, activity: dict[str, object]) -> list[tuple[int, str]]:
    """(status, Retry-After) of a Webex delivery, a Teams activity and the health check."""
    data = {"id": f"m-{uuid.uuid4().hex}", "roomId": "r", "personId": "p"}
    body = webex.webhook_body("messages", data)
    headers = {"Content-Type": "application/json", "X-Spark-Signature": webex.sign(body)}
    replies = [
        await bot.post("/api/webex", data=body, headers=headers),
        await bot.post("/api/messages", json={**activity, "id": uuid.uuid4().hex}),
        await bot.get("/healthz"),
    ]
    return [(reply.status, reply.headers.get("Retry-After", "")) for reply in replies]


async def test_a_server_with_no_room_for_another_connection_gets_503_not_500(
    settings: Settings,
    directory: Directory,
    webex: FakeWebex,
    connector: FakeBotConnector,
    store: Store,
    limited_role: str,
) -> None:
    configured = bot_settings(settings, webex, database_url=limited_role)
    activity = personal_message(directory, "help", service_url=connector.url)
    async with running(create_app(configured, directory=directory)) as bot:
        assert [status for status, _ in await answers(bot, webex, activity)] == [200] * 3
        await bot.app[TASKS].idle()

        await set_connection_limit(store, limited_role, 0)
        await bot.app[DATABASE].dispose()  # every request now needs a new connection
        refused = await answers(bot, webex, activity)

        await set_connection_limit(store, limited_role, -1)
        recovered = await answers(bot, webex, activity)
        await bot.app[TASKS].idle()

    assert refused == [(503, "5"), (503, "5"), (503, "")]
    assert [status for status, _ in recovered] == [200] * 3
