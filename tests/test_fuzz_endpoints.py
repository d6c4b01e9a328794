"""Inbound fuzzing of both webhook endpoints: malformed JSON, wrong types, huge fields, odd
encodings. Never a 500, never a crash, and a refused request stores nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from bot.app import SETTINGS, STORE, TASKS, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.models import InboundEventRow
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
Bot = TestClient[web.Request, web.Application]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Activities that look almost right: the real keys with values of any type.
ACTIVITY_KEYS = [
    "type",
    "id",
    "serviceUrl",
    "channelId",
    "from",
    "conversation",
    "recipient",
    "text",
    "value",
    "name",
    "attachments",
    "entities",
    "channelData",
    "locale",
]
activities = st.dictionaries(st.sampled_from(ACTIVITY_KEYS), json_values, max_size=10)
webhooks = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "name": json_values,
        "resource": st.sampled_from(["messages", "attachmentActions", "memberships"]) | json_values,
        "event": json_values,
        "data": st.dictionaries(
            st.sampled_from(["id", "roomId", "personId", "roomType", "messageId"]),
            json_values,
            max_size=5,
        ),
        "actorId": json_values,
    },
)
bodies = (
    activities.map(lambda v: json.dumps(v).encode())
    | webhooks.map(lambda v: json.dumps(v).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=300)
    | st.text(max_size=300).map(lambda t: t.encode("utf-16"))
    | st.integers(min_value=1, max_value=400_000).map(lambda n: b'{"text": "' + b"x" * n + b'"}')
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
async def bot(
    webex: FakeWebex, aiohttp_client: ClientFactory, settings: Settings, directory: Directory
) -> Bot:
    return await aiohttp_client(create_app(bot_settings(settings, webex), directory=directory))


async def stored(bot: Bot) -> int:
    async with bot.app[STORE].database.session() as session:
        count: Any = await session.execute(select(func.count()).select_from(InboundEventRow))
        return int(count.scalar_one())


@FUZZ
@given(body=bodies, content_type=st.sampled_from(["application/json", "text/plain", ""]))
async def test_teams_endpoint_never_fails_with_500(
    bot: Bot, body: bytes, content_type: str
) -> None:
    before = await stored(bot)
    headers = {"Content-Type": content_type} if content_type else {}
    response = await bot.post("/api/messages", data=body, headers=headers)

    assert response.status < 500, await response.text()
    if response.status >= 400:
        assert await stored(bot) == before
        assert "Traceback" not in await response.text()
    await bot.app[TASKS].idle()


@FUZZ
@given(body=bodies, signed=st.booleans())
async def test_webex_endpoint_never_fails_with_500(
    bot: Bot, webex: FakeWebex, body: bytes, signed: bool
) -> None:
    before = await stored(bot)
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Spark-Signature"] = webex.sign(body)
    response = await bot.post("/api/webex", data=body, headers=headers)

    assert response.status < 500, await response.text()
    if not signed:  # the size is checked first (413), then the signature
        too_big = len(body) > bot.app[SETTINGS].max_body_bytes
        assert response.status == (413 if too_big else 401)
    if response.status >= 400:
        assert await stored(bot) == before
    await bot.app[TASKS].idle()
