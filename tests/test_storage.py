"""The storage contract, run on SQLite and (where configured) on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.directory import Directory
from storage.errors import ConcurrencyConflict
from storage.repositories import DialogKey, Store

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_an_event_delivered_twice_is_accepted_once(store: Store) -> None:
    first = await store.inbox.accept(channel="teams", dedupe_key="c1|a1", payload={"n": 1}, now=NOW)
    again = await store.inbox.accept(channel="teams", dedupe_key="c1|a1", payload={"n": 2}, now=NOW)
    other_channel = await store.inbox.accept(
        channel="webex", dedupe_key="c1|a1", payload={}, now=NOW
    )

    assert first is not None
    assert again is None
    assert other_channel is not None
    stored = await store.inbox.get(event_id=first)
    assert stored is not None and stored.payload == {"n": 1}


async def test_concurrent_deliveries_of_one_event_store_exactly_one(store: Store) -> None:
    results = await asyncio.gather(
        *(
            store.inbox.accept(channel="teams", dedupe_key="c|same", payload={}, now=NOW)
            for _ in range(8)
        )
    )
    assert sum(r is not None for r in results) == 1


async def test_unfinished_events_are_found_again_after_a_restart(store: Store) -> None:
    done = await store.inbox.accept(channel="teams", dedupe_key="a", payload={}, now=NOW)
    left = await store.inbox.accept(channel="teams", dedupe_key="b", payload={"x": 1}, now=NOW)
    later = NOW + timedelta(minutes=5)
    newer = await store.inbox.accept(channel="teams", dedupe_key="c", payload={}, now=later)
    assert done and left and newer
    await store.inbox.start_attempt(event_id=left)
    await store.inbox.finish(event_id=done, now=NOW)

    pending = await store.inbox.pending(channel="teams", received_before=later)

    assert [(row.id, row.payload, row.attempts) for row in pending] == [(left, {"x": 1}, 1)]


async def test_failed_events_keep_a_short_reason(store: Store) -> None:
    event = await store.inbox.accept(channel="teams", dedupe_key="f", payload={}, now=NOW)
    assert event is not None
    await store.inbox.finish(event_id=event, now=NOW, error="x" * 2000)
    row = await store.inbox.get(event_id=event)
    assert row is not None and row.status == "failed" and row.error == "x" * 500


async def test_conversation_reference_is_refreshed_not_duplicated(store: Store) -> None:
    await store.conversations.save(
        channel="teams",
        conversation_id="a:1",
        kind="personal",
        user_id="u",
        reference={"serviceUrl": "https://old.example/"},
        now=NOW,
    )
    await store.conversations.save(
        channel="teams",
        conversation_id="a:1",
        kind="personal",
        user_id="u",
        reference={"serviceUrl": "https://new.example/"},
        now=NOW + timedelta(hours=1),
    )
    row = await store.conversations.get(channel="teams", conversation_id="a:1")
    assert row is not None
    assert row.reference == {"serviceUrl": "https://new.example/"}
    assert row.updated_at == NOW + timedelta(hours=1)


async def test_timestamps_come_back_aware_and_in_utc(store: Store) -> None:
    vienna_winter = timezone(timedelta(hours=1))
    local = datetime(2026, 1, 7, 15, 30, tzinfo=vienna_winter)
    event = await store.inbox.accept(channel="teams", dedupe_key="tz", payload={}, now=local)
    assert event is not None
    row = await store.inbox.get(event_id=event)
    assert row is not None
    assert row.received_at.tzinfo is not None
    assert row.received_at.utcoffset() == timedelta(0)
    assert row.received_at == local


async def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await store.inbox.accept(
            channel="teams",
            dedupe_key="n",
            payload={},
            now=datetime(2026, 1, 1),  # noqa: DTZ001
        )


async def test_customers_follow_the_directory_and_contacts_are_remembered(
    store: Store, directory: Directory
) -> None:
    await store.customers.sync(customers=directory.customers, now=NOW)
    await store.customers.sync(customers=directory.customers, now=NOW)  # idempotent
    assert await store.customers.keys() == [c.key for c in directory.customers]

    for seen in (NOW, NOW + timedelta(days=1)):
        await store.contacts.touch(
            channel="teams",
            user_id="u-1",
            role="contact",
            customer_key="demo",
            name="Anna",
            email=None,
            aad_object_id="aad-1",
            now=seen,
        )
    contact = await store.contacts.get(channel="teams", user_id="u-1")
    assert contact is not None
    assert (contact.first_seen, contact.last_seen) == (NOW, NOW + timedelta(days=1))


async def test_dialog_state_detects_a_concurrent_writer(store: Store) -> None:
    key = DialogKey(channel="teams", conversation_id="c", user_id="u")
    empty = await store.dialog_states.load(key)
    assert empty.version == 0

    first = await store.dialog_states.save(
        key, dialog="intake", state={"step": "product"}, expected=0, now=NOW
    )
    # Two replicas read version 1; the second write must not silently overwrite the first.
    await store.dialog_states.save(
        key, dialog="intake", state={"step": "priority"}, expected=first.version, now=NOW
    )
    with pytest.raises(ConcurrencyConflict):
        await store.dialog_states.save(
            key, dialog="intake", state={"step": "lost"}, expected=first.version, now=NOW
        )
    with pytest.raises(ConcurrencyConflict):
        await store.dialog_states.save(key, dialog="other", state={}, expected=0, now=NOW)

    current = await store.dialog_states.load(key)
    assert (current.dialog, current.state, current.version) == ("intake", {"step": "priority"}, 2)


async def test_migrations_create_exactly_the_tables_the_code_uses(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, SQLModel.metadata))

    async with store.database.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []


async def test_health_probe_tells_whether_the_database_answers(store: Store) -> None:
    assert await store.database.ping()
