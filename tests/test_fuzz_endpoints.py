"""Inbound fuzzing of both webhook endpoints and the signed report links: malformed JSON, wrong
types, huge fields, odd encodings, and hostile values inside otherwise valid requests (numbers
Python will not convert, NULs, unpaired surrogates, over-long ids, malformed mentions, foreign
channels, non-ASCII signatures). Never a 500, never a stack trace, and a refused request stores
nothing. Seeded, so CI runs the same few hundred requests every time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from bot.app import SERVICES, SETTINGS, STORE, TASKS, create_app
from bot.settings import EXAMPLE_DIRECTORY, Settings
from storage.directory import Directory, load_directory
from storage.models import InboundEventRow
from tests.activities import BOT_ID, channel_mention
from tests.fake_webex import FakeWebex, bot_settings, running_fake_webex
from tests.fakes import FakeBotConnector

ClientFactory = Callable[[web.Application], Awaitable[TestClient[web.Request, web.Application]]]
Bot = TestClient[web.Request, web.Application]
JSON = {"Content-Type": "application/json"}

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
# Values that used to end in a 500 or a dropped event. HUGE stands for a number of 5,000 digits,
# which json.dumps cannot write: it is put into the serialized body in its place.
HUGE = "\x00HUGE\x00"
HUGE_JSON, HUGE_DIGITS = json.dumps(HUGE).encode(), b"9" * 5_000
HOSTILE_PIECES = ["\ud800", "\udfff", "\x00", "²", "ü", "<at>", "</at>", "(a+)+$", "x" * 600]
hostile_text = st.lists(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=4), max_size=4).map(
    "".join
)
hostile_values = hostile_text | st.just(HUGE) | json_values
hostile_entities = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["mention", "Mention", None]) | hostile_values},
        optional={
            "mentioned": st.fixed_dictionaries({"id": st.just(BOT_ID) | hostile_values})
            | hostile_values,
            "text": hostile_values,
        },
    ),
    max_size=3,
)
# A Teams activity that would be answered, with hostile values where senders put text.
HOSTILE_PATHS = [
    ("id",),
    ("text",),
    ("channelId",),
    ("locale",),
    ("conversation", "id"),
    ("from", "id"),
    ("from", "name"),
    ("from", "aadObjectId"),
    ("channelData", "tenant", "id"),
    ("value", "action", "data", "command"),
]
hostile_edits = st.dictionaries(st.sampled_from(HOSTILE_PATHS), hostile_values, max_size=3)
hostile_types = st.sampled_from(["message", "invoke"])


def serialize(value: object) -> bytes:
    """JSON as a sender may write it, with HUGE as a 5,000-digit number."""
    return json.dumps(value).encode().replace(HUGE_JSON, HUGE_DIGITS)


def hostile_activity(
    service_url: str, kind: str, edits: dict[tuple[str, ...], Any], entities: list[Any]
) -> bytes:
    activity = channel_mention(DIRECTORY, "help", service_url=service_url)
    activity["entities"] = [*entities, *activity["entities"]]
    if kind == "invoke":
        activity |= {"type": "invoke", "name": "adaptiveCard/action"}
        activity["value"] = {"action": {"type": "Action.Execute", "data": {"command": "help"}}}
    for path, value in edits.items():
        target = activity
        for key in path[:-1]:
            target = target.setdefault(key, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = value
    return serialize(activity)


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


@seed(20260904)
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


@seed(20260905)
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


HOSTILE = settings(FUZZ, max_examples=100)
DIRECTORY = load_directory(EXAMPLE_DIRECTORY)


async def assert_clean_refusal_or_answer(bot: Bot, response: Any, before: int) -> None:
    text = await response.text()
    assert response.status < 500, text
    assert "Traceback" not in text
    if response.status >= 400:
        assert await stored(bot) == before
    await bot.app[TASKS].idle()


@seed(20260901)
@HOSTILE
@given(kind=hostile_types, edits=hostile_edits, entities=hostile_entities)
async def test_hostile_values_in_a_teams_activity_never_fail_with_500(
    bot: Bot,
    connector: FakeBotConnector,
    kind: str,
    edits: dict[tuple[str, ...], Any],
    entities: list[Any],
) -> None:
    before = await stored(bot)
    body = hostile_activity(connector.url, kind, edits, entities)

    response = await bot.post("/api/messages", data=body, headers=JSON)

    await assert_clean_refusal_or_answer(bot, response, before)


@seed(20260902)
@HOSTILE
@given(
    data=st.dictionaries(
        st.sampled_from(["id", "roomId", "personId", "roomType"]), hostile_values, max_size=4
    ),
    signature=st.none() | hostile_text,
)
async def test_hostile_values_in_a_webex_delivery_never_fail_with_500(
    bot: Bot, webex: FakeWebex, data: dict[str, Any], signature: str | None
) -> None:
    before = await stored(bot)
    body = serialize({"resource": "messages", "event": "created", "data": data})
    # A hostile signature header, else the right one (latin-1 is what a header can carry).
    # Control characters cannot be sent in a header at all.
    raw = "".join(c for c in signature or "" if " " <= c != "\x7f")
    header = raw.encode("utf-8", "surrogatepass").decode("latin-1") if raw else None

    response = await bot.post(
        "/api/webex",
        data=body,
        headers=JSON | {"X-Spark-Signature": header or webex.sign(body)},
    )

    await assert_clean_refusal_or_answer(bot, response, before)
    if header is not None:
        assert response.status == 401


@seed(20260903)
@HOSTILE
@given(expires=hostile_text | st.just("9" * 5_000), sig=hostile_text)
async def test_hostile_report_links_get_403_never_500(bot: Bot, expires: str, sig: str) -> None:
    links = bot.app[SERVICES].links
    assert links is not None
    name = "ab" * 32 + ".csv"

    response = await bot.get(f"/files/reports/{name}", params={"expires": expires, "sig": sig})

    assert response.status == 403, await response.text()
