"""Webhooks under a flood, over real HTTP on each database backend: deliveries arriving together
are stored together (one transaction per batch), each acknowledged only once its batch is
stored, each stored and processed once however often and however close together it comes; a
batch the database fails is answered 503 as a whole with nothing of it stored, a crash between
storing and answering loses nothing."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from bot.app import DATABASE, TASKS, Overrides, create_app
from bot.settings import Settings
from storage.directory import Directory
from storage.repositories import Inbox, NewEvent, Store
from tests.fake_webex import FakeWebex, Json, bot_settings, running_fake_webex
from tests.serving import FAR_FUTURE, Bot, running


@pytest.fixture
async def webex() -> AsyncIterator[FakeWebex]:
    async with running_fake_webex() as fake:
        yield fake


@pytest.fixture
def configured(settings: Settings, webex: FakeWebex, store: Store) -> Settings:
    """The bot on each backend (PostgreSQL where configured), Webex on the fake."""
    return bot_settings(settings, webex, database_url=store.database.url)


@pytest.fixture
def clara(webex: FakeWebex, directory: Directory) -> Json:
    org = directory.customers[0].webex_org_ids[0]
    return webex.add_person("Clara Contact", "clara@somewhere.example", org_id=org)


def url(bot: Bot) -> str:
    return str(bot.make_url("/api/webex"))


async def post(
    session: aiohttp.ClientSession, bot: Bot, webex: FakeWebex, data: Json
) -> tuple[int, str | None]:
    """Deliver one signed `messages/created` webhook; (status, Retry-After)."""
    body = webex.webhook_body("messages", data)
    headers = {"Content-Type": "application/json", "X-Spark-Signature": webex.sign(body)}
    async with session.post(url(bot), data=body, headers=headers) as response:
        await response.read()
        return response.status, response.headers.get("Retry-After")


async def post_all(bot: Bot, webex: FakeWebex, deliveries: Sequence[Json]) -> list[int]:
    """Deliver them all at once, each on a connection of its own; their statuses."""
    connector = aiohttp.TCPConnector(limit=len(deliveries))
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = await asyncio.gather(*(post(session, bot, webex, data) for data in deliveries))
    return [status for status, _ in answers]


def message_data(message_id: str) -> Json:
    """A delivery for a message Webex does not know (its processing fails for good at once):
    only storing and acknowledging are looked at."""
    return {"id": message_id, "roomId": "r", "personId": "p", "roomType": "direct"}


async def stored_keys(store: Store) -> list[str]:
    """The de-duplication key of every Webex event stored, repeats included, sorted."""
    async with store.database.session() as session:
        rows = await session.execute(
            text("SELECT dedupe_key FROM inbound_event WHERE channel = 'webex'")
        )
        return sorted(str(key) for (key,) in rows)


def batches_in_metrics(text: str) -> tuple[int, int]:
    """(transactions, events) the bot reports having stored webhooks in."""
    count = re.search(r"^chatops_inbound_batch_size_count (\S+)$", text, re.M)
    total = re.search(r"^chatops_inbound_batch_size_sum (\S+)$", text, re.M)
    assert count and total, "the batch sizes are not reported"
    return int(float(count.group(1))), int(float(total.group(1)))


# --- many at once --------------------------------------------------------------------------


async def test_a_flood_of_deliveries_is_stored_once_each_in_shared_transactions(
    configured: Settings, directory: Directory, webex: FakeWebex, store: Store
) -> None:
    deliveries = [message_data(f"flood-{n}") for n in range(120)]
    async with running(create_app(configured, directory=directory)) as bot:
        statuses = await post_all(bot, webex, deliveries)
        metrics = await (await bot.get("/metrics")).text()
        await bot.app[TASKS].idle()

    assert statuses == [200] * 120
    keys = await stored_keys(store)
    assert keys == sorted(f"messages|flood-{n}" for n in range(120))  # each once
    transactions, events = batches_in_metrics(metrics)
    assert events == 120
    assert transactions < 120  # deliveries that arrived together shared a commit


async def test_a_delivery_repeated_at_once_and_later_is_stored_and_answered_once(
    configured: Settings, directory: Directory, webex: FakeWebex, store: Store, clara: Json
) -> None:
    room = webex.add_room("direct")
    message = webex.say(clara, room, "help")
    again = webex.message_data(message)
    others = [message_data(f"other-{n}") for n in range(20)]
    async with running(create_app(configured, directory=directory)) as bot:
        # The same message twelve times among others, all at once (so in the same batch as
        # well as in others), then once more after it was stored.
        statuses = await post_all(bot, webex, [again] * 12 + others)
        assert await post_all(bot, webex, [again]) == [200]
        await webex.wait_for_sent(1)
        await bot.app[TASKS].idle()

    assert statuses == [200] * 32
    keys = await stored_keys(store)
    assert keys.count(f"messages|{message['id']}") == 1
    assert len(keys) == 21
    assert len(webex.sent) == 1  # answered once


async def test_the_store_tells_each_event_of_a_batch_whether_it_is_new(store: Store) -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    [first] = await store.inbox.accept_many(
        events=[NewEvent("webex", "messages|a", {"n": 0})], now=now
    )
    answers = await store.inbox.accept_many(
        events=[
            NewEvent("webex", "messages|b", {"n": 1}),
            NewEvent("webex", "messages|a", {"n": 2}),  # stored by the batch before
            NewEvent("webex", "messages|b", {"n": 3}),  # earlier in this batch
            NewEvent("teams", "messages|b", {"n": 4}),  # same key, other channel: new
        ],
        now=now,
    )

    assert first is not None
    new_b, old_a, repeated_b, teams_b = answers
    assert new_b is not None and teams_b is not None and new_b != teams_b
    assert old_a is None and repeated_b is None
    stored = await store.inbox.get(event_id=new_b)
    assert stored is not None and stored.payload == {"n": 1}


# --- failures ------------------------------------------------------------------------------


@contextmanager
def inbound_inserts_fail(bot: Bot) -> Iterator[list[int]]:
    """While inside: every statement storing inbound events fails as it is sent, the way a
    connection lost at that moment does."""
    engine = bot.app[DATABASE].engine.sync_engine
    failed: list[int] = []

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO INBOUND_EVENT"):
            failed.append(1)
            raise OperationalError(statement, {}, ConnectionResetError("connection lost"))

    event.listen(engine, "before_cursor_execute", fail)
    try:
        yield failed
    finally:
        event.remove(engine, "before_cursor_execute", fail)


async def test_a_batch_the_database_fails_is_answered_503_and_nothing_of_it_is_stored(
    configured: Settings, directory: Directory, webex: FakeWebex, store: Store
) -> None:
    deliveries = [message_data(f"lost-{n}") for n in range(20)]
    async with running(create_app(configured, directory=directory)) as bot:
        connector = aiohttp.TCPConnector(limit=len(deliveries))
        async with aiohttp.ClientSession(connector=connector) as session:
            with inbound_inserts_fail(bot) as failed:
                answers = await asyncio.gather(
                    *(post(session, bot, webex, data) for data in deliveries)
                )
            assert failed  # the failure did happen
            assert answers == [(503, "5")] * 20  # Webex retries later
            assert await stored_keys(store) == []
            # Webex delivers them again later: now they are stored, once each.
            assert await post_all(bot, webex, deliveries) == [200] * 20
        await bot.app[TASKS].idle()
    assert await stored_keys(store) == sorted(f"messages|lost-{n}" for n in range(20))


async def refuse_in_the_database(store: Store, dedupe_key: str) -> None:
    """A trigger that aborts any statement storing this event (the statement's other rows
    included), as a constraint would."""
    if store.database.dialect == "sqlite":
        statements = [
            f"CREATE TRIGGER refuse BEFORE INSERT ON inbound_event "
            f"WHEN NEW.dedupe_key = '{dedupe_key}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
    else:
        statements = [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.dedupe_key = '{dedupe_key}' THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON inbound_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    async with store.database.session() as session:
        for statement in statements:
            await session.execute(text(statement))


async def test_an_event_the_database_refuses_fails_alone_not_its_batch(
    configured: Settings, directory: Directory, webex: FakeWebex, store: Store
) -> None:
    await refuse_in_the_database(store, "messages|poison")
    deliveries = [message_data(f"fine-{n}") for n in range(15)]
    deliveries.insert(7, message_data("poison"))
    async with running(create_app(configured, directory=directory)) as bot:
        statuses = await post_all(bot, webex, deliveries)
        await bot.app[TASKS].idle()

        assert statuses == [200] * 7 + [503] + [200] * 8
        assert await stored_keys(store) == sorted(f"messages|fine-{n}" for n in range(15))
        # Each was processed at once: none was left behind half-stored by the refused
        # statement (then its own write would have found it "delivered before").
        assert await store.inbox.pending(channel="webex", received_before=FAR_FUTURE) == []


async def test_a_crash_between_storing_and_answering_loses_nothing(
    configured: Settings,
    directory: Directory,
    webex: FakeWebex,
    store: Store,
    clara: Json,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message = webex.say(clara, webex.add_room("direct"), "help")
    stored = Inbox.accept_many

    async def store_then_die(self: Inbox, **kwargs: Any) -> list[int | None]:
        ids = await stored(self, **kwargs)  # committed
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # the process dies before any request is answered
        await asyncio.sleep(0)
        return ids

    async with running(create_app(configured, directory=directory)) as first:
        monkeypatch.setattr(Inbox, "accept_many", store_then_die)
        with pytest.raises(aiohttp.ClientError):  # no answer: Webex will deliver it again
            await post_all(first, webex, [webex.message_data(message)])
        monkeypatch.setattr(Inbox, "accept_many", stored)
    assert await stored_keys(store) == [f"messages|{message['id']}"]
    assert webex.sent == []

    # The next start (after the dead process's lease ran out) answers it; Webex's retry of the
    # delivery is acknowledged and changes nothing.
    later = Overrides(clock=lambda: datetime.now(UTC) + timedelta(minutes=1))
    async with running(create_app(configured, directory=directory, overrides=later)) as second:
        [reply] = await webex.wait_for_sent(1)
        assert await post_all(second, webex, [webex.message_data(message)]) == [200]
        await second.app[TASKS].idle()
    assert reply["roomId"] == message["roomId"]
    assert len(webex.sent) == 1
    assert await stored_keys(store) == [f"messages|{message['id']}"]
