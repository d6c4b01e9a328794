"""Repositories: the only code that writes SQL. Functions take keyword arguments only.

Writes that must be idempotent across replicas (inbound de-duplication, upserts) rest on unique
constraints and `INSERT … ON CONFLICT`, never on read-then-write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Executable, and_, bindparam, case, func, or_, update
from sqlmodel import col, select

from storage.db import Database
from storage.directory import Customer
from storage.downloads import Downloads
from storage.duties import Duties
from storage.efforts import Efforts
from storage.errors import ConcurrencyConflict
from storage.integrations import ApiTokens, IdempotencyKeys
from storage.leases import Lease
from storage.maintenance import MaintenanceWindows
from storage.models import (
    ContactRow,
    ConversationReferenceRow,
    CustomerRow,
    DialogStateRow,
    InboundEventRow,
    InboundStatus,
    PreferenceRow,
    TicketRow,
)
from storage.outbox import IncidentThreads, Outbox, TicketThreads
from storage.tickets import Logfiles, Tickets
from storage.types import UTCDateTime
from storage.webhooks import WebhookSubscriptions


class Customers:
    """Customers known to the bot, kept in step with the directory."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def sync(self, *, customers: Iterable[Customer], now: datetime) -> None:
        """Insert new customers and refresh the names of known ones; never deletes."""
        rows = [
            {"key": c.key, "name": c.name, "first_seen": now, "updated_at": now} for c in customers
        ]
        if not rows:
            return
        statement = self._db.insert(CustomerRow).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"name": statement.excluded.name, "updated_at": statement.excluded.updated_at},
        )
        async with self._db.session() as session:
            await session.execute(statement)

    async def keys(self) -> list[str]:
        """Every customer key in the database."""
        async with self._db.session() as session:
            return list((await session.scalars(select(CustomerRow.key))).all())


class Contacts:
    """People who have written to the bot."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def touch(
        self,
        *,
        channel: str,
        user_id: str,
        role: str,
        customer_key: str | None,
        name: str,
        email: str | None,
        aad_object_id: str | None,
        now: datetime,
    ) -> str | None:
        """Record that this person wrote now, creating or refreshing their row; returns the
        language they chose with `language de|en`, if any."""
        values = {
            "channel": channel,
            "user_id": user_id,
            "role": role,
            "customer_key": customer_key,
            # Entra allows display names of 256 characters; the column keeps the first 200.
            "name": name[:200],
            "email": email,
            "aad_object_id": aad_object_id,
            "first_seen": now,
            "last_seen": now,
        }
        async with self._db.session() as session:
            language: str | None = (await session.execute(self._touch, values)).scalar_one()
        return language

    @cached_property
    def _touch(self) -> Executable:
        columns = (
            "channel",
            "user_id",
            "role",
            "customer_key",
            "name",
            "email",
            "aad_object_id",
            "first_seen",
            "last_seen",
        )
        statement = self._db.insert(ContactRow).values({c: bindparam(c) for c in columns})
        refreshed: dict[str, Any] = {c: statement.excluded[c] for c in columns if c != "first_seen"}
        # Another person on the same chat user id (the Agents Playground's current user when its
        # configuration switches the person played) does not inherit the last one's language.
        known, new = col(ContactRow.aad_object_id), statement.excluded["aad_object_id"]
        refreshed["language"] = case(
            (and_(known.is_not(None), new.is_not(None), known != new), None),
            else_=col(ContactRow.language),
        )
        upsert: Executable = statement.on_conflict_do_update(
            index_elements=["channel", "user_id"], set_=refreshed
        ).returning(ContactRow.language)
        return upsert

    async def set_language(self, *, channel: str, user_id: str, language: str) -> None:
        """Remember the language this person chose; the tickets they reported speak it too, so
        what engineers later tell them (working on it, the resolution, Reopen) is in it."""
        async with self._db.session() as session:
            await session.execute(
                update(ContactRow)
                .where(col(ContactRow.channel) == channel, col(ContactRow.user_id) == user_id)
                .values(language=language)
            )
            await session.execute(
                update(TicketRow)
                .where(
                    col(TicketRow.reporter_channel) == channel,
                    col(TicketRow.reporter_user_id) == user_id,
                )
                .values(language=language)
            )

    async def by_email(self, *, customer_key: str, email: str) -> ContactRow | None:
        """The customer's contact with this e-mail who wrote to the bot most recently."""
        async with self._db.session() as session:
            query = (
                select(ContactRow)
                .where(
                    col(ContactRow.customer_key) == customer_key,
                    col(ContactRow.role) == "contact",
                    func.lower(col(ContactRow.email)) == email.lower(),
                )
                .order_by(col(ContactRow.last_seen).desc(), col(ContactRow.id).desc())
                .limit(1)
            )
            return (await session.scalars(query)).first()

    async def get(self, *, channel: str, user_id: str) -> ContactRow | None:
        """The contact row for this channel user, if they have written before."""
        async with self._db.session() as session:
            query = select(ContactRow).where(
                col(ContactRow.channel) == channel, col(ContactRow.user_id) == user_id
            )
            return (await session.scalars(query)).one_or_none()


class ConversationReferences:
    """Where the bot can write later: refreshed on every incoming activity."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def save(
        self,
        *,
        channel: str,
        conversation_id: str,
        kind: str,
        user_id: str | None,
        reference: dict[str, Any],
        now: datetime,
    ) -> None:
        """Store or refresh the reference (a changed serviceUrl replaces the old one)."""
        values = {
            "channel": channel,
            "conversation_id": conversation_id,
            "kind": kind,
            "user_id": user_id,
            "reference": reference,
            "updated_at": now,
        }
        async with self._db.session() as session:
            await session.execute(self._save, values)

    @cached_property
    def _save(self) -> Executable:
        columns = ("channel", "conversation_id", "kind", "user_id", "reference", "updated_at")
        statement = self._db.insert(ConversationReferenceRow).values(
            {c: bindparam(c) for c in columns}
        )
        upsert: Executable = statement.on_conflict_do_update(
            index_elements=["channel", "conversation_id"],
            set_={c: statement.excluded[c] for c in ("kind", "user_id", "reference", "updated_at")},
        )
        return upsert

    async def latest(
        self, *, channel: str, conversation_prefix: str = ""
    ) -> ConversationReferenceRow | None:
        """The most recently refreshed reference of a channel (whose conversation id starts with
        `conversation_prefix`, if given): a serviceUrl to reach that tenant or team."""
        async with self._db.session() as session:
            query = select(ConversationReferenceRow).where(
                col(ConversationReferenceRow.channel) == channel
            )
            if conversation_prefix:
                query = query.where(
                    col(ConversationReferenceRow.conversation_id).startswith(conversation_prefix)
                )
            query = query.order_by(col(ConversationReferenceRow.updated_at).desc()).limit(1)
            return (await session.scalars(query)).first()

    async def get(self, *, channel: str, conversation_id: str) -> ConversationReferenceRow | None:
        """The stored reference for a conversation."""
        async with self._db.session() as session:
            query = select(ConversationReferenceRow).where(
                col(ConversationReferenceRow.channel) == channel,
                col(ConversationReferenceRow.conversation_id) == conversation_id,
            )
            return (await session.scalars(query)).one_or_none()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An inbound event to store: its channel, the key a redelivery has too, the payload."""

    channel: str
    dedupe_key: str
    payload: dict[str, Any]


class Inbox:
    """Inbound events: persisted before the webhook is acknowledged, processed once.

    An event is leased (`claimed_until`, `claimed_by`) to the replica working on it: the one
    whose HTTP handler accepted it, or the one whose re-drive claimed it after that lease ran
    out. The holder renews the lease while it works (`renew`); claims use `FOR UPDATE SKIP
    LOCKED` on PostgreSQL, so two replicas never claim the same event.
    """

    def __init__(self, database: Database, lease: Lease) -> None:
        self._db = database
        self._lease = lease

    async def accept(
        self,
        *,
        channel: str,
        dedupe_key: str,
        payload: dict[str, Any],
        now: datetime,
        lease: timedelta | None = None,
    ) -> int | None:
        """Store a new event, leased to the caller, and return its id; None when it was
        delivered before."""
        values = {
            "channel": channel,
            "dedupe_key": dedupe_key,
            "payload": payload,
            "received_at": now,
            "claimed_until": now + (self._lease.duration if lease is None else lease),
            "claimed_by": self._lease.owner,
        }
        async with self._db.session() as session:
            result = await session.execute(self._accept, values)
            inserted: int | None = result.scalar_one_or_none()
        return inserted

    async def accept_many(self, *, events: Sequence[NewEvent], now: datetime) -> list[int | None]:
        """Store a batch of events in one transaction, each leased to the caller; for each
        event in order, its new id, or None when it was stored before (by an earlier batch,
        another replica, or an event earlier in this batch with the same key)."""
        until = now + self._lease.duration
        rows = [
            {
                "channel": event.channel,
                "dedupe_key": event.dedupe_key,
                "payload": event.payload,
                "received_at": now,
                "claimed_until": until,
                "claimed_by": self._lease.owner,
            }
            for event in events
        ]
        async with self._db.statement() as connection:
            # One multi-row INSERT … ON CONFLICT DO NOTHING, a transaction of its own: all of
            # the batch is stored or none of it. The database skips each row whose key is
            # taken, even by a row of the same statement, and returns the rows it stored.
            result = await connection.execute(self._accept_returning_key, rows)
            stored = {(channel, key): event_id for event_id, channel, key in result.all()}
        return [stored.pop((event.channel, event.dedupe_key), None) for event in events]

    # The statements of every turn are built once: building one costs more CPU than sending it.
    @cached_property
    def _accept_returning_key(self) -> Executable:
        insert: Executable = self._new_inbound_events().returning(
            InboundEventRow.id, InboundEventRow.channel, InboundEventRow.dedupe_key
        )
        return insert

    @cached_property
    def _accept(self) -> Executable:
        insert: Executable = self._new_inbound_events().returning(InboundEventRow.id)
        return insert

    def _new_inbound_events(self) -> Any:
        """INSERT of pending events that skips one already stored (same channel and key); Any
        because the dialect's insert is (see `Database.insert`)."""
        columns = ("channel", "dedupe_key", "payload", "received_at", "claimed_until", "claimed_by")
        return (
            self._db.insert(InboundEventRow)
            .values(
                {c: bindparam(c) for c in columns}
                | {"status": InboundStatus.PENDING.value, "attempts": 0}
            )
            .on_conflict_do_nothing(index_elements=["channel", "dedupe_key"])
        )

    @cached_property
    def _start_attempt(self) -> Executable:
        return (
            update(InboundEventRow)
            .where(
                col(InboundEventRow.id) == bindparam("event_id"),
                col(InboundEventRow.claimed_by) == bindparam("owner"),
            )
            .values(attempts=col(InboundEventRow.attempts) + 1)
            .returning(col(InboundEventRow.attempts))
        )

    @cached_property
    def _finish(self) -> Executable:
        return (
            update(InboundEventRow)
            .where(col(InboundEventRow.id) == bindparam("event_id"))
            .values(
                status=bindparam("new_status"),
                processed_at=bindparam("processed"),
                error=bindparam("reason"),
            )
        )

    async def get(self, *, event_id: int) -> InboundEventRow | None:
        """One event by id."""
        async with self._db.session() as session:
            return await session.get(InboundEventRow, event_id)

    async def start_attempt(self, *, event_id: int) -> int:
        """Count an attempt before processing, so a poison event is eventually given up;
        returns the attempts so far, this one included. 0: this replica does not hold the
        event (unknown, or taken over after its lease ran out): it must not work on it."""
        values = {"event_id": event_id, "owner": self._lease.owner}
        async with self._db.session() as session:
            attempts = await session.scalar(self._start_attempt, values)
        return int(attempts or 0)

    async def finish(self, *, event_id: int, now: datetime, error: str | None = None) -> None:
        """Mark an event done, or failed with a short reason (never a stack trace)."""
        status = InboundStatus.DONE if error is None else InboundStatus.FAILED
        values = {
            "event_id": event_id,
            "new_status": status.value,
            "processed": now,
            "reason": error and error[:500],
        }
        async with self._db.session() as session:
            await session.execute(self._finish, values)

    async def pending(
        self, *, channel: str, received_before: datetime, limit: int = 100
    ) -> Sequence[InboundEventRow]:
        """Events accepted before `received_before` but not finished, oldest first."""
        async with self._db.session() as session:
            query = (
                select(InboundEventRow)
                .where(
                    col(InboundEventRow.channel) == channel,
                    col(InboundEventRow.status) == InboundStatus.PENDING,
                    col(InboundEventRow.received_at) < received_before,
                )
                .order_by(col(InboundEventRow.id))
                .limit(limit)
            )
            return (await session.scalars(query)).all()

    async def claim(
        self,
        *,
        channel: str,
        received_before: datetime,
        now: datetime,
        limit: int = 100,
        lease: timedelta | None = None,
        retry_early: bool = False,
    ) -> Sequence[InboundEventRow]:
        """Unfinished events accepted before `received_before` that nobody holds (never leased,
        released, or the lease ran out), oldest first, leased to the caller. Events released
        to be retried later (after a transient failure) wait until then, unless `retry_early`
        (a start: whatever failed may have been fixed meanwhile)."""
        if limit <= 0:
            return []
        free = or_(
            col(InboundEventRow.claimed_until).is_(None), col(InboundEventRow.claimed_until) < now
        )
        if retry_early:
            free = or_(free, col(InboundEventRow.claimed_by).is_(None))
        # One statement: the UPDATE is atomic on SQLite too (two claims never both match).
        unclaimed = (
            select(InboundEventRow.id)
            .where(
                col(InboundEventRow.channel) == channel,
                col(InboundEventRow.status) == InboundStatus.PENDING,
                col(InboundEventRow.received_at) < received_before,
                free,
            )
            .order_by(col(InboundEventRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(InboundEventRow)
            .where(col(InboundEventRow.id).in_(unclaimed))
            .values(
                claimed_until=now + (self._lease.duration if lease is None else lease),
                claimed_by=self._lease.owner,
            )
            .returning(InboundEventRow)
        )
        async with self._db.session() as session:
            rows = (await session.scalars(statement)).all()
        return sorted(rows, key=lambda row: row.id or 0)

    async def renew(self, *, event_ids: Sequence[int], now: datetime) -> list[int]:
        """Extend this replica's leases of the unfinished `event_ids` (the heartbeat); returns
        those another replica holds now (ours ran out before this renewal came)."""
        if not event_ids:
            return []
        ours = and_(
            col(InboundEventRow.id).in_(event_ids),
            col(InboundEventRow.status) == InboundStatus.PENDING,
        )
        async with self._db.session() as session:
            await session.execute(
                update(InboundEventRow)
                .where(ours, col(InboundEventRow.claimed_by) == self._lease.owner)
                .values(claimed_until=self._lease.until(now))
            )
            taken = await session.scalars(
                select(InboundEventRow.id).where(
                    ours, col(InboundEventRow.claimed_by) != self._lease.owner
                )
            )
            return [event_id for event_id in taken.all() if event_id is not None]

    async def release(self, *, event_id: int, retry_at: datetime | None = None) -> None:
        """Give up this replica's lease of an unfinished event, so any replica may retry it:
        at once, or from `retry_at` on (after a transient failure)."""
        await self.release_many(event_ids=[event_id], retry_at=retry_at)

    async def release_many(
        self, *, event_ids: Sequence[int], retry_at: datetime | None = None
    ) -> None:
        """`release` for many events in one statement (a replica stopping with a backlog)."""
        if not event_ids:
            return
        async with self._db.session() as session:
            await session.execute(
                update(InboundEventRow)
                .where(
                    col(InboundEventRow.id).in_(event_ids),
                    col(InboundEventRow.status) == InboundStatus.PENDING,
                    col(InboundEventRow.claimed_by) == self._lease.owner,
                )
                .values(claimed_until=retry_at, claimed_by=None)
            )


@dataclass(frozen=True, slots=True)
class DialogKey:
    """Dialog state belongs to one person in one conversation on one channel."""

    channel: str
    conversation_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class DialogState:
    """A snapshot of a dialog's state; `version` 0 means nothing is stored yet."""

    dialog: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    version: int = 0


class DialogStates:
    """Dialog state with optimistic concurrency: a stale write raises ConcurrencyConflict."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def load(self, key: DialogKey) -> DialogState:
        """The stored state, or an empty one at version 0."""
        async with self._db.session() as session:
            row = (await session.execute(self._load, _key_values(key))).first()
        if row is None:
            return DialogState()
        return DialogState(dialog=row.dialog, state=dict(row.state), version=row.version)

    @cached_property
    def _load(self) -> Executable:
        return select(
            col(DialogStateRow.dialog), col(DialogStateRow.state), col(DialogStateRow.version)
        ).where(_by_key())

    @cached_property
    def _update(self) -> Executable:
        return (
            update(DialogStateRow)
            .where(_by_key(), col(DialogStateRow.version) == bindparam("expected"))
            .values(
                dialog=bindparam("new_dialog"),
                state=bindparam("new_state"),
                version=bindparam("new_version"),
                # `touch=False` passes None: the time stays as it was.
                updated_at=func.coalesce(
                    bindparam("touched_at", type_=UTCDateTime()),
                    col(DialogStateRow.updated_at),
                ),
            )
        )

    async def save(
        self,
        key: DialogKey,
        *,
        dialog: str | None,
        state: dict[str, Any],
        expected: int,
        now: datetime,
        touch: bool = True,
    ) -> DialogState:
        """Write the state if it is still at version `expected`; return the new snapshot.
        `touch=False` keeps the time of the person's last activity (for the bot's own notes)."""
        async with self._db.session() as session:
            if expected == 0:
                written = await self._insert_first(session, key, dialog, state, now)
            else:
                changes = {
                    **_key_values(key),
                    "expected": expected,
                    "new_dialog": dialog,
                    "new_state": state,
                    "new_version": expected + 1,
                    "touched_at": now if touch else None,
                }
                result = await session.execute(self._update, changes)
                written = getattr(result, "rowcount", 0) == 1
        if not written:
            raise ConcurrencyConflict(f"dialog state changed since version {expected}")
        return DialogState(dialog=dialog, state=state, version=expected + 1)

    async def idle(
        self, *, dialog: str, since: datetime, limit: int = 100
    ) -> Sequence[DialogStateRow]:
        """States of `dialog` nobody has touched since `since`, oldest first."""
        async with self._db.session() as session:
            query = (
                select(DialogStateRow)
                .where(
                    col(DialogStateRow.dialog) == dialog,
                    col(DialogStateRow.updated_at) < since,
                )
                .order_by(col(DialogStateRow.updated_at))
                .limit(limit)
            )
            return (await session.scalars(query)).all()

    async def _insert_first(
        self,
        session: Any,
        key: DialogKey,
        dialog: str | None,
        state: dict[str, Any],
        now: datetime,
    ) -> bool:
        statement = (
            self._db.insert(DialogStateRow)
            .values(
                channel=key.channel,
                conversation_id=key.conversation_id,
                user_id=key.user_id,
                dialog=dialog,
                state=state,
                version=1,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "conversation_id", "user_id"])
        )
        result = await session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)


def _by_key() -> Any:
    return and_(
        col(DialogStateRow.channel) == bindparam("key_channel"),
        col(DialogStateRow.conversation_id) == bindparam("key_conversation"),
        col(DialogStateRow.user_id) == bindparam("key_user"),
    )


def _key_values(key: DialogKey) -> dict[str, str]:
    return {
        "key_channel": key.channel,
        "key_conversation": key.conversation_id,
        "key_user": key.user_id,
    }


class Preferences:
    """Switches managers flip by chat."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, key: str) -> dict[str, Any] | None:
        """The stored value, if any."""
        async with self._db.session() as session:
            row = await session.get(PreferenceRow, key)
        return dict(row.value) if row is not None else None

    async def put(self, key: str, value: dict[str, Any], *, now: datetime) -> None:
        """Store a value (replacing the old one)."""
        statement = self._db.insert(PreferenceRow).values(key=key, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
        async with self._db.session() as session:
            await session.execute(statement)


class Store:
    """Every repository over one database, built once in the app factory."""

    def __init__(self, database: Database, lease: Lease | None = None) -> None:
        self.database = database
        self.lease = lease or Lease.for_this_process()
        self.customers = Customers(database)
        self.contacts = Contacts(database)
        self.conversations = ConversationReferences(database)
        self.inbox = Inbox(database, self.lease)
        self.dialog_states = DialogStates(database)
        # Ticket events and effort entries queue webhook deliveries in their own transaction.
        self.webhooks = WebhookSubscriptions(database)
        self.tickets = Tickets(database, self.webhooks)
        self.logfiles = Logfiles(database)
        self.outbox = Outbox(database, self.lease)
        self.threads = TicketThreads(database)
        self.incidents = IncidentThreads(database)
        self.preferences = Preferences(database)
        self.duties = Duties(database)
        self.windows = MaintenanceWindows(database)
        self.efforts = Efforts(database, self.webhooks)
        self.downloads = Downloads(database)
        self.api_tokens = ApiTokens(database)
        self.idempotency = IdempotencyKeys(database)
