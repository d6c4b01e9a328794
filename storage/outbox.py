"""The outbox: proactive messages persisted before they are sent, delivered once per
(event, target) by a unique key, claimed with a lease so that replicas never send the same row
at the same time (`FOR UPDATE SKIP LOCKED` on PostgreSQL), retried with backoff, and marked
dead after repeated failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Executable, and_, bindparam, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from storage.db import Database
from storage.leases import Lease
from storage.models import (
    IncidentThreadRow,
    OutboxRow,
    OutboxStatus,
    TicketRow,
    TicketThreadRow,
)

# A thread row of a ticket that lives in another ticket's or an incident's thread: it has no
# card of its own to update.
SHARED_THREAD = "shared:"


class Outbox:
    """Proactive messages waiting to be delivered.

    A claimed row is leased to the replica sending it (`claimed_until`, `claimed_by`), which
    renews the lease while its sends take (the adapters' own retries may take a minute): a
    crashed replica's rows come back within one lease, a live one's never while it works.
    """

    def __init__(self, database: Database, lease: Lease) -> None:
        self._db = database
        self._holder = lease

    async def enqueue(
        self,
        *,
        dedupe_key: str,
        channel: str,
        kind: str,
        target: dict[str, Any],
        payload: dict[str, Any],
        now: datetime,
        ticket_id: int | None = None,
        due: datetime | None = None,
    ) -> int | None:
        """Store a message, to be sent at once or at `due`; None when this (event, target) was
        queued before."""
        values = {
            "dedupe_key": dedupe_key[:300],
            "channel": channel,
            "kind": kind,
            "target": target,
            "payload": payload,
            "ticket_id": ticket_id,
            "next_attempt_at": due or now,
            "created_at": now,
        }
        async with self._db.session() as session:
            result = await session.execute(self._enqueue, values)
            inserted: int | None = result.scalar_one_or_none()
        return inserted

    @cached_property
    def _enqueue(self) -> Executable:
        """Built once (building costs more CPU than sending it; every turn queues some)."""
        columns = (
            "dedupe_key",
            "channel",
            "kind",
            "target",
            "payload",
            "ticket_id",
            "next_attempt_at",
            "created_at",
        )
        fixed = {"status": OutboxStatus.PENDING.value, "attempts": 0, "reported": False}
        insert: Executable = (
            self._db.insert(OutboxRow)
            .values({c: bindparam(c) for c in columns} | fixed)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxRow.id)
        )
        return insert

    async def claim(self, *, now: datetime, limit: int = 5) -> Sequence[OutboxRow]:
        """Due messages, leased to this process for a while (another replica skips them)."""
        query = select(OutboxRow).where(*_claimable(now))
        return await self._lease(query.with_for_update(skip_locked=True), now=now, limit=limit)

    async def claim_incident_members(
        self, *, incident_key: str, channel: str, now: datetime, exclude: Sequence[int], limit: int
    ) -> Sequence[OutboxRow]:
        """Due alerts of a possible outage's tickets on one chat system (besides `exclude`,
        already held), leased like `claim`: they are posted together."""
        query = (
            select(OutboxRow)
            .join(TicketRow, col(TicketRow.id) == col(OutboxRow.ticket_id))
            .where(
                *_claimable(now),
                col(TicketRow.incident_key) == incident_key,
                col(OutboxRow.kind) == "member",
                col(OutboxRow.channel) == channel,
                col(OutboxRow.id).not_in(exclude),
            )
            .with_for_update(of=OutboxRow, skip_locked=True)
        )
        return await self._lease(query, now=now, limit=limit)

    async def _lease(self, query: Any, *, now: datetime, limit: int) -> Sequence[OutboxRow]:
        """The first `limit` rows of `query` by id, leased in the same transaction."""
        async with self._db.session() as session:
            rows = (await session.scalars(query.order_by(col(OutboxRow.id)).limit(limit))).all()
            if rows:
                await session.execute(
                    update(OutboxRow)
                    .where(col(OutboxRow.id).in_([row.id for row in rows]))
                    .values(claimed_until=self._holder.until(now), claimed_by=self._holder.owner)
                )
        return rows

    async def renew(self, *, row_ids: Sequence[int], now: datetime) -> list[int]:
        """Extend this replica's leases of the unsent `row_ids` (the heartbeat); returns those
        another replica holds now (ours ran out before this renewal came)."""
        if not row_ids:
            return []
        ours = and_(col(OutboxRow.id).in_(row_ids), col(OutboxRow.status) == OutboxStatus.PENDING)
        async with self._db.session() as session:
            await session.execute(
                update(OutboxRow)
                .where(ours, col(OutboxRow.claimed_by) == self._holder.owner)
                .values(claimed_until=self._holder.until(now))
            )
            taken = await session.scalars(
                select(OutboxRow.id).where(ours, col(OutboxRow.claimed_by) != self._holder.owner)
            )
            return [row_id for row_id in taken.all() if row_id is not None]

    async def sent(self, row_id: int, *, now: datetime) -> None:
        """Delivered: never again."""
        await self.all_sent([row_id], now=now)

    async def all_sent(self, row_ids: Sequence[int], *, now: datetime) -> None:
        """Several delivered, in one transaction."""
        if not row_ids:
            return
        async with self._db.session() as session:
            await session.execute(_mark_sent(row_ids, now))

    async def members_posted(
        self,
        rows: Sequence[OutboxRow],
        *,
        root_message_id: str,
        reference: dict[str, Any],
        now: datetime,
    ) -> None:
        """A possible outage's member alerts were posted into its thread: mark them sent and
        remember that their tickets live in that thread (their updates go there), together, so
        a failure in between cannot post the list again."""
        threads = [
            {
                "ticket_id": row.ticket_id,
                "channel": row.channel,
                "root_message_id": f"{SHARED_THREAD}{root_message_id}:{row.ticket_id}",
                "reference": reference,
                "created_at": now,
            }
            for row in rows
            if row.ticket_id is not None
        ]
        async with self._db.session() as session:
            if threads:
                await session.execute(
                    self._db.insert(TicketThreadRow)
                    .values(threads)
                    .on_conflict_do_nothing(index_elements=["channel", "root_message_id"])
                )
            await session.execute(_mark_sent([row.id for row in rows if row.id is not None], now))

    async def retry(self, row_id: int, *, at: datetime, error: str, attempts: int) -> None:
        """Failed for now: try again at `at`."""
        await self._set(
            row_id,
            attempts=attempts,
            next_attempt_at=at,
            last_error=error[:500],
            claimed_until=None,
            claimed_by=None,
        )

    async def dead(self, row_id: int, *, error: str, attempts: int) -> None:
        """Given up: reported to the managers once."""
        await self._set(
            row_id,
            status=OutboxStatus.DEAD,
            attempts=attempts,
            last_error=error[:500],
            claimed_until=None,
            claimed_by=None,
        )

    async def unreported_dead(self) -> Sequence[OutboxRow]:
        """Dead messages nobody was told about yet."""
        async with self._db.session() as session:
            query = select(OutboxRow).where(
                col(OutboxRow.status) == OutboxStatus.DEAD, col(OutboxRow.reported).is_(False)
            )
            return (await session.scalars(query)).all()

    async def mark_reported(self, row_id: int) -> None:
        """The managers were told about this dead message."""
        await self._set(row_id, reported=True)

    async def get(self, row_id: int) -> OutboxRow | None:
        """One message by id."""
        async with self._db.session() as session:
            return await session.get(OutboxRow, row_id)

    async def _set(self, row_id: int, **values: Any) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(OutboxRow).where(col(OutboxRow.id) == row_id).values(**values)
            )


def _claimable(now: datetime) -> tuple[Any, ...]:
    """Pending, due, not leased to anyone (or the lease ran out), and first of its ordering
    key (no earlier row of that key pending: not sent yet, nor given up)."""
    earlier = aliased(OutboxRow)
    waits_for_earlier = (
        select(earlier.id)
        .where(
            col(earlier.ordering_key) == col(OutboxRow.ordering_key),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxRow.id),
        )
        .exists()
    )
    return (
        col(OutboxRow.status) == OutboxStatus.PENDING,
        col(OutboxRow.next_attempt_at) <= now,
        or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) < now),
        or_(col(OutboxRow.ordering_key).is_(None), ~waits_for_earlier),
    )


def _mark_sent(row_ids: Sequence[int], now: datetime) -> Any:
    return (
        update(OutboxRow)
        .where(col(OutboxRow.id).in_(row_ids))
        .values(status=OutboxStatus.SENT, sent_at=now, claimed_until=None, claimed_by=None)
    )


class TicketThreads:
    """Where each ticket's alerts are, and which ticket a thread belongs to."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        *,
        ticket_id: int,
        channel: str,
        root_message_id: str,
        reference: dict[str, Any],
        now: datetime,
    ) -> None:
        """Remember an alert's thread (idempotent)."""
        statement = (
            self._db.insert(TicketThreadRow)
            .values(
                ticket_id=ticket_id,
                channel=channel,
                root_message_id=root_message_id,
                reference=reference,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "root_message_id"])
        )
        async with self._db.session() as session:
            await session.execute(statement)

    async def of_ticket(self, ticket_id: int) -> Sequence[TicketThreadRow]:
        """The ticket's alert threads, oldest first."""
        async with self._db.session() as session:
            query = (
                select(TicketThreadRow)
                .where(col(TicketThreadRow.ticket_id) == ticket_id)
                .order_by(col(TicketThreadRow.id))
            )
            return (await session.scalars(query)).all()

    async def ticket_of(self, *, channel: str, root_message_id: str) -> int | None:
        """The ticket whose alert thread starts with this message."""
        async with self._db.session() as session:
            query = select(TicketThreadRow.ticket_id).where(
                col(TicketThreadRow.channel) == channel,
                col(TicketThreadRow.root_message_id) == root_message_id,
            )
            found: int | None = (await session.scalars(query)).first()
        return found


class IncidentThreads:
    """Where each possible outage's grouped alert is."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        *,
        key: str,
        channel: str,
        root_message_id: str,
        reference: dict[str, Any],
        now: datetime,
    ) -> None:
        """Remember the grouped alert's thread (idempotent)."""
        statement = (
            self._db.insert(IncidentThreadRow)
            .values(
                incident_key=key,
                channel=channel,
                root_message_id=root_message_id,
                reference=reference,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["incident_key", "channel"])
        )
        async with self._db.session() as session:
            await session.execute(statement)

    async def get(self, *, key: str, channel: str) -> IncidentThreadRow | None:
        """The grouped alert of an incident on one chat system."""
        async with self._db.session() as session:
            query = select(IncidentThreadRow).where(
                col(IncidentThreadRow.incident_key) == key,
                col(IncidentThreadRow.channel) == channel,
            )
            return (await session.scalars(query)).first()
