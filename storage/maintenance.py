"""Maintenance windows: planned work proposed to a customer's contact inside the service time,
and the business-time rules that decide whether a window fits (pure functions).

The rules (also in the README):
- A window fits when every minute of [start, end) lies inside the customer's service time:
  the business time between start and end equals the wall duration (counted in UTC, so a DST
  change never makes a window look longer or shorter).
- The suggestion for a window that does not fit is the first instant from the asked start (or
  from now, if that is later) at which the whole duration fits into one opening stretch
  (adjacent windows of the service time count as one stretch). A duration longer than any
  stretch gets no suggestion.
- Every change is appended to the window's `history` (who, what, when); `reminded` makes the
  reminder on the day happen once, whichever replica sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from storage.calendar import BusinessCalendar
from storage.db import Database
from storage.models import (
    ContactRow,
    ConversationReferenceRow,
    MaintenanceWindowRow,
    WindowStatus,
)
from storage.types import is_row_id

# How far ahead a suggestion is looked for.
SEARCH_HORIZON = timedelta(days=400)
# Open statuses: a window that may still take place.
ACTIVE = (WindowStatus.PROPOSED, WindowStatus.CONFIRMED)


def fits(calendar: BusinessCalendar, start: datetime, end: datetime) -> bool:
    """True when every instant of [start, end) lies inside the service time."""
    if end <= start:
        return False
    return calendar.between(start, end) == end.astimezone(UTC) - start.astimezone(UTC)


def next_fit(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime | None:
    """The first instant from `start` at which `duration` fits into one opening stretch (UTC),
    None when no stretch within the horizon is long enough."""
    if duration <= timedelta(0):
        raise ValueError("a window needs a positive duration")
    stretch_start: datetime | None = None
    stretch_end: datetime | None = None
    for begin, end in calendar.open_intervals(start, start + SEARCH_HORIZON):
        if stretch_end is not None and begin == stretch_end:
            stretch_end = end  # adjacent windows: one stretch
        else:
            stretch_start, stretch_end = begin, end
        assert stretch_start is not None
        if stretch_end - stretch_start >= duration:
            return stretch_start.astimezone(UTC)
    return None


def history_entry(what: str, *, by: str, at: datetime, **details: Any) -> dict[str, Any]:
    """One history record: what happened, who did it, when (ISO 8601 UTC), and details."""
    return {"at": at.astimezone(UTC).isoformat(), "by": by, "what": what, **details}


class MaintenanceWindows:
    """Maintenance windows and the queries their dialogs and reminders need."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        *,
        customer_key: str,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        proposed_by: str,
        now: datetime,
        duty_id: int | None = None,
        ticket_id: int | None = None,
    ) -> MaintenanceWindowRow:
        """A new proposed window, its history starting with `proposed`."""
        row = MaintenanceWindowRow(
            customer_key=customer_key,
            duty_id=duty_id,
            ticket_id=ticket_id,
            title=title[:200],
            starts_at=starts_at,
            ends_at=ends_at,
            status=WindowStatus.PROPOSED,
            proposed_by=proposed_by[:200],
            history=[
                history_entry(
                    "proposed",
                    by=proposed_by,
                    at=now,
                    starts_at=starts_at.astimezone(UTC).isoformat(),
                    ends_at=ends_at.astimezone(UTC).isoformat(),
                )
            ],
            reminded=False,
            created_at=now,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
        return row

    async def get(self, window_id: int) -> MaintenanceWindowRow | None:
        """One window by id."""
        if not is_row_id(window_id):
            return None
        async with self._db.session() as session:
            return await session.get(MaintenanceWindowRow, window_id)

    async def change(
        self,
        window_id: int,
        *,
        entry: dict[str, Any],
        allowed_from: Sequence[str] = ACTIVE,
        status: str | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        decided_by: str | None = None,
    ) -> MaintenanceWindowRow | None:
        """Apply a change and append `entry` to the history, in one transaction with the row
        locked; None when the window is unknown or not in one of `allowed_from`. A new time
        clears `reminded` (the new day gets its own reminder)."""
        async with self._db.session() as session:
            query = (
                select(MaintenanceWindowRow)
                .where(col(MaintenanceWindowRow.id) == window_id)
                .with_for_update()
            )
            row = (await session.scalars(query)).one_or_none()
            if row is None or row.status not in allowed_from:
                return None
            if status is not None:
                row.status = status
            if starts_at is not None and ends_at is not None:
                row.starts_at, row.ends_at, row.reminded = starts_at, ends_at, False
            if decided_by is not None:
                row.decided_by = decided_by[:200]
            row.history = [*row.history, entry]
            session.add(row)
            await session.flush()
        return row

    async def mark_reminded(self, window_id: int, *, entry: dict[str, Any]) -> bool:
        """Record the reminder; False when it was recorded before (by another replica). The
        conditional update is what makes the reminder happen once."""
        async with self._db.session() as session:
            result = await session.execute(
                update(MaintenanceWindowRow)
                .where(
                    col(MaintenanceWindowRow.id) == window_id,
                    col(MaintenanceWindowRow.reminded).is_(False),
                )
                .values(reminded=True)
            )
            if getattr(result, "rowcount", 0) != 1:
                return False
            row = await session.get(MaintenanceWindowRow, window_id, populate_existing=True)
            assert row is not None
            row.history = [*row.history, entry]
            session.add(row)
        return True

    async def listing(
        self, *, customer_key: str | None = None, ending_after: datetime, limit: int = 30
    ) -> Sequence[MaintenanceWindowRow]:
        """Windows (of one customer, or all) that end after `ending_after`, by start."""
        async with self._db.session() as session:
            query = select(MaintenanceWindowRow).where(
                col(MaintenanceWindowRow.ends_at) > ending_after
            )
            if customer_key is not None:
                query = query.where(col(MaintenanceWindowRow.customer_key) == customer_key)
            query = query.order_by(col(MaintenanceWindowRow.starts_at)).limit(limit)
            return (await session.scalars(query)).all()

    async def awaiting_reminder(
        self, *, now: datetime, within: timedelta = timedelta(days=2)
    ) -> Sequence[MaintenanceWindowRow]:
        """Confirmed windows not reminded yet that start after `now` but within `within` (a
        window's day opens at most a day, or 25 hours on a DST day, before it starts)."""
        async with self._db.session() as session:
            query = (
                select(MaintenanceWindowRow)
                .where(
                    col(MaintenanceWindowRow.status) == WindowStatus.CONFIRMED,
                    col(MaintenanceWindowRow.reminded).is_(False),
                    col(MaintenanceWindowRow.starts_at) > now,
                    col(MaintenanceWindowRow.starts_at) <= now + within,
                )
                .order_by(col(MaintenanceWindowRow.starts_at))
            )
            return (await session.scalars(query)).all()

    async def latest_contact(self, customer_key: str) -> ContactRow | None:
        """The customer's contact who wrote to the bot most recently."""
        async with self._db.session() as session:
            query = (
                select(ContactRow)
                .where(
                    col(ContactRow.customer_key) == customer_key,
                    col(ContactRow.role) == "contact",
                )
                .order_by(col(ContactRow.last_seen).desc(), col(ContactRow.id).desc())
                .limit(1)
            )
            return (await session.scalars(query)).first()

    async def personal_conversation(
        self, *, channel: str, user_id: str
    ) -> ConversationReferenceRow | None:
        """The most recent 1:1 chat of this person with the bot."""
        async with self._db.session() as session:
            query = (
                select(ConversationReferenceRow)
                .where(
                    col(ConversationReferenceRow.channel) == channel,
                    col(ConversationReferenceRow.user_id) == user_id,
                    col(ConversationReferenceRow.kind) == "personal",
                )
                .order_by(col(ConversationReferenceRow.updated_at).desc())
                .limit(1)
            )
            return (await session.scalars(query)).first()
