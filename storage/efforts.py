"""Effort engineers log on tickets, and the monthly billable-effort report (pure functions).

The rules (also in the README):
- Effort can be logged on every ticket; only **change requests** are billable (configuration
  changes are billed by effort at the hourly rate, with the contact's consent given at the
  report). Effort on faults is recorded and shown, but covered by the contract.
- An entry belongs to the month in which it was logged (`at`), in the report's local zone.
- One entry per incoming message (`source_key`): a retried message logs its effort once.
- Hours are minutes / 60, rounded to two decimals only for display.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from storage.db import Database
from storage.models import EffortRow, TicketKind, TicketRow
from storage.webhooks import EFFORT_LOGGED, WebhookSubscriptions

CSV_HEADER = (
    "customer",
    "ticket",
    "kind",
    "billable",
    "logged_at",
    "minutes",
    "hours",
    "by",
    "note",
)


class Efforts:
    """Effort entries on tickets."""

    def __init__(self, database: Database, webhooks: WebhookSubscriptions | None = None) -> None:
        self._db = database
        self._webhooks = webhooks or WebhookSubscriptions(database)

    async def log(
        self,
        *,
        ticket_id: int,
        minutes: int,
        note: str,
        by: str,
        at: datetime,
        source_key: str,
    ) -> tuple[EffortRow, bool]:
        """Store an entry; (the entry, True), or (the entry stored before, False) when this
        `source_key` was logged already."""
        statement = (
            self._db.insert(EffortRow)
            .values(
                ticket_id=ticket_id,
                minutes=minutes,
                note=note[:500],
                by=by[:320],
                at=at,
                source_key=source_key[:200],
            )
            .on_conflict_do_nothing(index_elements=["source_key"])
            .returning(EffortRow.id)
        )
        queued = 0
        async with self._db.session() as session:
            inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
            query = select(EffortRow).where(col(EffortRow.source_key) == source_key[:200])
            row = (await session.scalars(query)).one()
            if inserted is not None:
                queued = await self._webhooks.queue_for_event(
                    session,
                    ticket_id=ticket_id,
                    kind=EFFORT_LOGGED,
                    message_id=f"msg_eff{inserted}",
                    at=at,
                    actor=row.by,
                    data={"minutes": row.minutes, "note": row.note},
                )
        if queued:
            self._webhooks.on_queued()
        return row, inserted is not None

    async def of_ticket(self, ticket_id: int) -> Sequence[EffortRow]:
        """A ticket's entries, oldest first."""
        async with self._db.session() as session:
            query = (
                select(EffortRow)
                .where(col(EffortRow.ticket_id) == ticket_id)
                .order_by(col(EffortRow.at), col(EffortRow.id))
            )
            return (await session.scalars(query)).all()

    async def total_minutes(self, ticket_id: int) -> int:
        """All minutes logged on a ticket."""
        async with self._db.session() as session:
            query = select(func.coalesce(func.sum(EffortRow.minutes), 0)).where(
                col(EffortRow.ticket_id) == ticket_id
            )
            return int((await session.execute(query)).scalar_one())

    async def between(
        self, *, start: datetime, end: datetime, customer_key: str | None = None
    ) -> list[tuple[EffortRow, TicketRow]]:
        """Entries logged in [start, end) with their tickets, by customer, ticket and time."""
        async with self._db.session() as session:
            query = (
                select(EffortRow, TicketRow)
                .join(TicketRow, col(TicketRow.id) == col(EffortRow.ticket_id))
                .where(col(EffortRow.at) >= start, col(EffortRow.at) < end)
            )
            if customer_key is not None:
                query = query.where(col(TicketRow.customer_key) == customer_key)
            query = query.order_by(
                col(TicketRow.customer_key),
                col(TicketRow.number),
                col(EffortRow.at),
                col(EffortRow.id),
            )
            return [(effort, ticket) for effort, ticket in (await session.execute(query)).all()]


@dataclass(frozen=True, slots=True)
class CustomerEffort:
    """One customer's effort in a period."""

    customer_key: str
    change_requests: int
    billable_minutes: int
    billable_lines: int
    fault_minutes: int

    @property
    def billable_hours(self) -> float:
        """Billable minutes in hours."""
        return self.billable_minutes / 60


def billable(ticket: TicketRow) -> bool:
    """Change requests are billed by effort; faults are covered by the contract."""
    return ticket.kind == TicketKind.CHANGE_REQUEST


def per_customer(entries: Sequence[tuple[EffortRow, TicketRow]]) -> list[CustomerEffort]:
    """The period's effort per customer (customers with any entry), by customer key."""
    found: list[CustomerEffort] = []
    keys = sorted({ticket.customer_key for _effort, ticket in entries})
    for key in keys:
        mine = [(e, t) for e, t in entries if t.customer_key == key]
        paid = [(e, t) for e, t in mine if billable(t)]
        found.append(
            CustomerEffort(
                customer_key=key,
                change_requests=len({t.number for _e, t in paid}),
                billable_minutes=sum(e.minutes for e, _t in paid),
                billable_lines=len(paid),
                fault_minutes=sum(e.minutes for e, t in mine if not billable(t)),
            )
        )
    return found


def billing_csv(entries: Sequence[tuple[EffortRow, TicketRow]], zone: ZoneInfo) -> str:
    """Every entry as a CSV row (billable ones and, marked, those on faults)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for effort, ticket in entries:
        writer.writerow(
            (
                ticket.customer_key,
                ticket.number,
                ticket.kind,
                "yes" if billable(ticket) else "no",
                effort.at.astimezone(zone).isoformat(timespec="minutes"),
                effort.minutes,
                f"{effort.minutes / 60:.2f}",
                effort.by,
                effort.note,
            )
        )
    return buffer.getvalue()
