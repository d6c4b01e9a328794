"""Tickets, their append-only event log, numbers and logfiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.db import Database
from storage.directory import Priority
from storage.models import (
    LogfileRow,
    TicketCounterRow,
    TicketEventRow,
    TicketRow,
    TicketStatus,
)
from storage.sla import SlaEvent, SlaEventKind
from storage.types import is_row_id
from storage.webhooks import WebhookSubscriptions

SLA_KINDS = frozenset(kind.value for kind in SlaEventKind)
# The SLA watcher records each announcement as this event, keyed `<clock>:<cycle>:<percent>`:
# a key ending in ":100" is a breach.
SLA_NOTICE = "sla_notice"
BREACH_SUFFIX = ":100"


@dataclass(frozen=True, slots=True)
class NewTicket:
    """Everything a report says, before it has a number."""

    customer_key: str
    kind: str
    contract: str
    product: str
    priority: Priority
    description: str
    since: datetime | None
    affected: str
    tested: str
    phone: str
    language: str
    reporter_channel: str
    reporter_user_id: str
    reporter_name: str
    conversation_id: str
    details: dict[str, Any] = field(default_factory=dict)
    source_key: str | None = None
    # Who created it, for the event log, when that is not the reporter (an integration).
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Which tickets a listing shows (None: any)."""

    customer_key: str | None = None
    status: str | None = None
    product: str | None = None
    priority: str | None = None
    updated_since: datetime | None = None
    breached: bool | None = None


def ticket_number(prefix: str, year: int, sequence: int) -> str:
    """`CCS-2026-000123`."""
    return f"{prefix}-{year}-{sequence:06d}"


class Tickets:
    """Creates tickets and appends to their event log (and queues the webhook deliveries of
    each event in the same transaction)."""

    def __init__(self, database: Database, webhooks: WebhookSubscriptions | None = None) -> None:
        self._db = database
        self._webhooks = webhooks or WebhookSubscriptions(database)

    async def create(
        self, ticket: NewTicket, *, prefix: str, year: int, now: datetime
    ) -> tuple[TicketRow, bool]:
        """Store a new ticket with the next number of `prefix`-`year` and its `created` event;
        (the ticket, True). With a `source_key` seen before: (that ticket, False)."""
        if ticket.source_key is not None:
            existing = await self.by_source(ticket.source_key)
            if existing is not None:
                return existing, False
        try:
            return await self._insert(ticket, prefix=prefix, year=year, now=now), True
        except IntegrityError:
            # Two confirms of one report raced: the other one created it.
            if ticket.source_key is None:
                raise
            existing = await self.by_source(ticket.source_key)
            if existing is None:
                raise
            return existing, False

    async def by_source(self, source_key: str) -> TicketRow | None:
        """The ticket created from this source, if any."""
        async with self._db.session() as session:
            query = select(TicketRow).where(col(TicketRow.source_key) == source_key)
            return (await session.scalars(query)).one_or_none()

    async def _insert(
        self, ticket: NewTicket, *, prefix: str, year: int, now: datetime
    ) -> TicketRow:
        async with self._db.session() as session:
            sequence = await self._next_number(session, f"{prefix}-{year}")
            row = TicketRow(
                number=ticket_number(prefix, year, sequence),
                customer_key=ticket.customer_key,
                kind=ticket.kind,
                status=TicketStatus.OPEN,
                contract=ticket.contract,
                product=ticket.product,
                priority=ticket.priority.value,
                description=ticket.description[:4000],
                since=ticket.since,
                affected=ticket.affected[:1000],
                tested=ticket.tested[:2000],
                phone=ticket.phone[:40],
                details=ticket.details,
                language=ticket.language,
                reporter_channel=ticket.reporter_channel,
                reporter_user_id=ticket.reporter_user_id,
                reporter_name=ticket.reporter_name[:200],
                conversation_id=ticket.conversation_id,
                source_key=ticket.source_key,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            assert row.id is not None
            event = TicketEventRow(
                ticket_id=row.id,
                kind=SlaEventKind.CREATED,
                at=now,
                actor=ticket.created_by or ticket.reporter_user_id,
                data={"priority": ticket.priority.value, "contract": ticket.contract},
            )
            queued = await self._record(session, event)
        self._queued(queued)
        return row

    async def _next_number(self, session: AsyncSession, prefix: str) -> int:
        # One atomic statement: concurrent reports (and replicas) never share a number.
        statement = self._db.insert(TicketCounterRow).values(prefix=prefix, value=1)
        statement = statement.on_conflict_do_update(
            index_elements=["prefix"], set_={"value": TicketCounterRow.value + 1}
        ).returning(TicketCounterRow.value)
        value: int = (await session.execute(statement)).scalar_one()
        return value

    async def by_number(self, number: str) -> TicketRow | None:
        """The ticket with this number (case-insensitive), if any."""
        async with self._db.session() as session:
            query = select(TicketRow).where(col(TicketRow.number) == number.upper())
            return (await session.scalars(query)).one_or_none()

    async def get(self, ticket_id: int) -> TicketRow | None:
        """One ticket by id."""
        if not is_row_id(ticket_id):
            return None
        async with self._db.session() as session:
            return await session.get(TicketRow, ticket_id)

    async def open_for_reporter(self, *, channel: str, user_id: str) -> Sequence[TicketRow]:
        """The reporter's tickets that are not resolved, newest first."""
        async with self._db.session() as session:
            query = (
                select(TicketRow)
                .where(
                    col(TicketRow.reporter_channel) == channel,
                    col(TicketRow.reporter_user_id) == user_id,
                    col(TicketRow.status) != TicketStatus.RESOLVED,
                )
                .order_by(col(TicketRow.id).desc())
            )
            return (await session.scalars(query)).all()

    async def referable(
        self,
        *,
        customer_key: str | None,
        sequence: int | None = None,
        product: str | None = None,
        created: tuple[datetime, datetime] | None = None,
        open_only: bool = False,
        limit: int = 10,
    ) -> Sequence[TicketRow]:
        """Tickets a person's reference may name, newest first: one customer's (None: all),
        narrowed by the number's sequence ("12" → `…-000012`), product (or its family:
        "luware"), or creation span."""
        query = select(TicketRow).order_by(col(TicketRow.id).desc()).limit(limit)
        if customer_key is not None:
            query = query.where(col(TicketRow.customer_key) == customer_key)
        if sequence is not None:
            query = query.where(col(TicketRow.number).endswith(f"-{sequence:06d}"))
        if product is not None:  # a product, or a family of them ("luware")
            query = query.where(
                (col(TicketRow.product) == product)
                | col(TicketRow.product).startswith(f"{product}-")
            )
        if created is not None:
            query = query.where(
                col(TicketRow.created_at) >= created[0], col(TicketRow.created_at) < created[1]
            )
        if open_only:
            query = query.where(col(TicketRow.status) != TicketStatus.RESOLVED)
        async with self._db.session() as session:
            return (await session.scalars(query)).all()

    async def created_between(self, *, start: datetime, end: datetime) -> Sequence[TicketRow]:
        """Tickets created in [start, end), oldest first (for reports)."""
        async with self._db.session() as session:
            query = (
                select(TicketRow)
                .where(col(TicketRow.created_at) >= start, col(TicketRow.created_at) < end)
                .order_by(col(TicketRow.id))
            )
            return (await session.scalars(query)).all()

    async def reported_by(self, *, channel: str, user_id: str) -> Sequence[TicketRow]:
        """Everything this person reported, open ones first, newest first."""
        async with self._db.session() as session:
            query = (
                select(TicketRow)
                .where(
                    col(TicketRow.reporter_channel) == channel,
                    col(TicketRow.reporter_user_id) == user_id,
                )
                .order_by(col(TicketRow.status) == TicketStatus.RESOLVED, col(TicketRow.id).desc())
            )
            return (await session.scalars(query)).all()

    async def events(self, ticket_id: int) -> Sequence[TicketEventRow]:
        """The ticket's event log in order."""
        async with self._db.session() as session:
            query = (
                select(TicketEventRow)
                .where(col(TicketEventRow.ticket_id) == ticket_id)
                .order_by(col(TicketEventRow.id))
            )
            return (await session.scalars(query)).all()

    async def append(
        self,
        ticket_id: int,
        *,
        kind: str,
        at: datetime,
        actor: str = "",
        data: dict[str, Any] | None = None,
        status: TicketStatus | None = None,
    ) -> None:
        """Append an event (and change the ticket's status with it, in one transaction)."""
        async with self._db.session() as session:
            changes: dict[str, Any] = {"updated_at": at}
            if status is not None:
                changes["status"] = status
            await session.execute(
                update(TicketRow).where(col(TicketRow.id) == ticket_id).values(**changes)
            )
            event = TicketEventRow(
                ticket_id=ticket_id, kind=kind, at=at, actor=actor, data=data or {}
            )
            queued = await self._record(session, event)
        self._queued(queued)

    async def _record(self, session: AsyncSession, event: TicketEventRow) -> int:
        """Add an event to the log and queue its webhook deliveries (the ticket's changes made
        before this in the session are what the deliveries report)."""
        session.add(event)
        await session.flush()
        assert event.id is not None
        return await self._webhooks.queue_for_event(
            session,
            ticket_id=event.ticket_id,
            kind=event.kind,
            message_id=f"msg_evt{event.id}",
            at=event.at,
            actor=event.actor,
            data=event.data,
        )

    def _queued(self, deliveries: int) -> None:
        if deliveries:
            self._webhooks.on_queued()

    async def set_owner(self, ticket_id: int, *, user_id: str, name: str, at: datetime) -> None:
        """Make someone the ticket's owner."""
        async with self._db.session() as session:
            await session.execute(
                update(TicketRow)
                .where(col(TicketRow.id) == ticket_id)
                .values(owner_user_id=user_id, owner_name=name[:200], updated_at=at)
            )

    async def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 50
    ) -> Sequence[TicketRow]:
        """Tickets whose next SLA instant has come, leased to this process: their `sla_next_due`
        moves `lease` ahead so another replica skips them (and a crash only delays them)."""
        async with self._db.session() as session:
            query = (
                select(TicketRow)
                .where(
                    col(TicketRow.sla_next_due) <= now,
                    col(TicketRow.status) != TicketStatus.RESOLVED,
                )
                .order_by(col(TicketRow.sla_next_due))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            rows = (await session.scalars(query)).all()
            if rows:
                await session.execute(
                    update(TicketRow)
                    .where(col(TicketRow.id).in_([row.id for row in rows]))
                    .values(sla_next_due=now + lease)
                )
        return rows

    async def extend_claim(
        self, ticket_ids: Sequence[int], *, held_until: datetime, until: datetime
    ) -> None:
        """Renew `claim_due`'s lease of tickets not worked on yet: those whose instant is still
        the lease's end `held_until` (a ticket done meanwhile has its real next instant)."""
        if not ticket_ids:
            return
        async with self._db.session() as session:
            await session.execute(
                update(TicketRow)
                .where(col(TicketRow.id).in_(ticket_ids), col(TicketRow.sla_next_due) == held_until)
                .values(sla_next_due=until)
            )

    async def open_tickets(
        self, *, owner_user_id: str | None = None, limit: int = 200
    ) -> Sequence[TicketRow]:
        """Tickets not resolved (of one owner, if given), oldest first."""
        async with self._db.session() as session:
            query = select(TicketRow).where(col(TicketRow.status) != TicketStatus.RESOLVED)
            if owner_user_id is not None:
                query = query.where(col(TicketRow.owner_user_id) == owner_user_id)
            query = query.order_by(col(TicketRow.id)).limit(limit)
            return (await session.scalars(query)).all()

    async def recent_of_product(self, *, product: str, since: datetime) -> Sequence[TicketRow]:
        """Faults about one product reported since `since` (mass-incident detection)."""
        async with self._db.session() as session:
            query = select(TicketRow).where(
                col(TicketRow.product) == product,
                col(TicketRow.created_at) >= since,
                col(TicketRow.kind) == "fault",
            )
            return (await session.scalars(query)).all()

    async def incident_of_product(self, *, product: str, since: datetime) -> str | None:
        """The possible outage the latest grouped fault about `product` since `since` belongs
        to."""
        async with self._db.session() as session:
            query = (
                select(TicketRow.incident_key)
                .where(
                    col(TicketRow.product) == product,
                    col(TicketRow.created_at) >= since,
                    col(TicketRow.incident_key).is_not(None),
                )
                .order_by(col(TicketRow.created_at).desc())
                .limit(1)
            )
            key: str | None = (await session.scalars(query)).first()
        return key

    async def customers_reporting(self, *, product: str, since: datetime) -> int:
        """How many customers reported faults about one product since `since`."""
        async with self._db.session() as session:
            query = select(func.count(func.distinct(TicketRow.customer_key))).where(
                col(TicketRow.product) == product,
                col(TicketRow.created_at) >= since,
                col(TicketRow.kind) == "fault",
            )
            return int((await session.execute(query)).scalar_one())

    async def set_incident(self, ticket_ids: Sequence[int], key: str) -> None:
        """Group tickets under a possible outage (those already grouped keep their incident)."""
        async with self._db.session() as session:
            await session.execute(
                update(TicketRow)
                .where(col(TicketRow.id).in_(ticket_ids), col(TicketRow.incident_key).is_(None))
                .values(incident_key=key)
            )

    async def open_after(self, ticket_id: int, *, limit: int) -> Sequence[TicketRow]:
        """Unresolved tickets with an id above `ticket_id`, in id order (to page through)."""
        async with self._db.session() as session:
            query = (
                select(TicketRow)
                .where(
                    col(TicketRow.id) > ticket_id,
                    col(TicketRow.status) != TicketStatus.RESOLVED,
                )
                .order_by(col(TicketRow.id))
                .limit(limit)
            )
            return (await session.scalars(query)).all()

    async def page(
        self, filters: TicketFilter, *, after: tuple[datetime, int] | None, limit: int
    ) -> Sequence[TicketRow]:
        """Tickets in order of their last change, then id (a stable order: a ticket changed
        while a client pages moves to the end, so it is seen again, never skipped), after the
        (updated_at, id) position `after`."""
        query = (
            select(TicketRow)
            .order_by(col(TicketRow.updated_at), col(TicketRow.id))
            .limit(limit)
            .where(*_conditions(filters))
        )
        if after is not None:
            at, ticket_id = after
            query = query.where(
                or_(
                    col(TicketRow.updated_at) > at,
                    and_(col(TicketRow.updated_at) == at, col(TicketRow.id) > ticket_id),
                )
            )
        async with self._db.session() as session:
            return (await session.scalars(query)).all()

    async def set_external_ref(
        self, ticket_id: int, *, external_ref: str | None, at: datetime
    ) -> None:
        """Set (or clear) the ticket's number in the provider's other system."""
        async with self._db.session() as session:
            await session.execute(
                update(TicketRow)
                .where(col(TicketRow.id) == ticket_id)
                .values(external_ref=external_ref, updated_at=at)
            )

    async def events_of(self, ticket_ids: Sequence[int]) -> dict[int, list[TicketEventRow]]:
        """The event logs of several tickets in one query, each in order."""
        logs: dict[int, list[TicketEventRow]] = {ticket_id: [] for ticket_id in ticket_ids}
        async with self._db.session() as session:
            query = (
                select(TicketEventRow)
                .where(col(TicketEventRow.ticket_id).in_(ticket_ids))
                .order_by(col(TicketEventRow.id))
            )
            for row in await session.scalars(query):
                logs[row.ticket_id].append(row)
        return logs

    async def replace_next_due(
        self, changes: Sequence[tuple[int, datetime | None, datetime | None]]
    ) -> None:
        """Set (ticket id, as read, new) next-due times in one batch; a ticket whose time
        changed since it was read (a live turn refreshed it) keeps that fresher value."""
        if not changes:
            return
        statement = (
            update(TicketRow)
            .where(
                col(TicketRow.id) == bindparam("ticket_id"),
                col(TicketRow.sla_next_due).is_not_distinct_from(bindparam("as_read")),
            )
            .values(sla_next_due=bindparam("due"))
        )
        rows = [{"ticket_id": i, "as_read": old, "due": new} for i, old, new in changes]
        async with self._db.session() as session:
            connection = await session.connection()  # Core executemany, not an ORM bulk update
            await connection.execute(statement, rows)

    async def set_next_due(self, ticket_id: int, due: datetime | None) -> None:
        """Store when the SLA watcher must look at the ticket next."""
        async with self._db.session() as session:
            await session.execute(
                update(TicketRow).where(col(TicketRow.id) == ticket_id).values(sla_next_due=due)
            )


def _conditions(filters: TicketFilter) -> list[Any]:
    wanted = (
        (TicketRow.customer_key, filters.customer_key),
        (TicketRow.status, filters.status),
        (TicketRow.product, filters.product),
        (TicketRow.priority, filters.priority),
    )
    found: list[Any] = [col(column) == value for column, value in wanted if value]
    if filters.updated_since is not None:
        found.append(col(TicketRow.updated_at) >= filters.updated_since)
    if filters.breached is not None:
        breach = exists().where(
            col(TicketEventRow.ticket_id) == TicketRow.id,
            col(TicketEventRow.kind) == SLA_NOTICE,
            col(TicketEventRow.data)["key"].as_string().endswith(BREACH_SUFFIX),
        )
        found.append(breach if filters.breached else ~breach)
    return found


def sla_events(rows: Sequence[TicketEventRow]) -> list[SlaEvent]:
    """The SLA-relevant part of an event log, for `storage.sla.sla_state`."""
    events = []
    for row in rows:
        if row.kind not in SLA_KINDS:
            continue
        priority = row.data.get("priority")
        events.append(
            SlaEvent(
                kind=SlaEventKind(row.kind),
                at=row.at,
                priority=Priority(priority) if priority else None,
                contract=row.data.get("contract"),
                reason=str(row.data.get("reason", "")),
            )
        )
    return events


class Logfiles:
    """Which files belong to which ticket."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def attach(
        self,
        *,
        ticket_id: int,
        sha256: str,
        name: str,
        size: int,
        content_type: str,
        uploaded_by: str,
        channel: str,
        now: datetime,
        original_name: str = "",
    ) -> bool:
        """Attach a stored file; False when the ticket already has these exact bytes."""
        statement = (
            self._db.insert(LogfileRow)
            .values(
                ticket_id=ticket_id,
                sha256=sha256,
                name=name,
                size=size,
                content_type=content_type,
                uploaded_by=uploaded_by,
                channel=channel,
                created_at=now,
                original_name=original_name[:255],
            )
            .on_conflict_do_nothing(index_elements=["ticket_id", "sha256"])
        )
        async with self._db.session() as session:
            result = await session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def get(self, logfile_id: int) -> LogfileRow | None:
        """One file by its id (what a download link names)."""
        async with self._db.session() as session:
            return await session.get(LogfileRow, logfile_id)

    async def of_ticket(self, ticket_id: int) -> Sequence[LogfileRow]:
        """The ticket's files in the order they arrived."""
        async with self._db.session() as session:
            query = (
                select(LogfileRow)
                .where(col(LogfileRow.ticket_id) == ticket_id)
                .order_by(col(LogfileRow.id))
            )
            return (await session.scalars(query)).all()
