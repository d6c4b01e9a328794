"""Contract duties: each customer's onboarding checklist and the recurring duties of its contract
(feature and licence review, device update check, security updates), when they fall due, and
their rows.

The rules (also in the README, "Contract duties"):
- **Business days** are the days the customer's service time opens at all (no weekend, public
  holiday or closed day). Every duty is due at the **opening** of a business day (08:00 for SNAZ).
- **Onboarding**: five items, one row each (kind `onboarding:<item>`, period `onboarding`). The
  count starts on `Customer.onboarded` (or the first business day after it, if it is none); the
  items are due at the opening of the `onboarding_within_days`-th business day after that day.
  Customers onboarded more than `ONBOARDING_LOOKBACK` ago get no checklist (they were onboarded
  before the bot knew them).
- **Recurring duties**, every `N` months of the contract's `DutySchedule`: the year is cut into
  blocks of `N` months (`N` = 1: `2026-11`; 2: `2026-B6`; 3: `2026-Q4`; 4: `2026-T3`;
  6: `2026-H2`; 12: `2026`). An `N` that does not divide 12 counts blocks from the onboarding
  month instead (`2026-07/5m`). Each block's occurrence is due on the onboarding's day of the
  month (clamped to the month's length) in the block's last month; a day that is no business
  day moves to the next opening. The first occurrence is the first one due after the onboarding
  day; occurrences are generated up to `HORIZON_MONTHS` ahead and never for a nominal day that
  has already passed (a bot deployed late does not invent a backlog).
- Generation is idempotent: one row per (customer, kind, period), `INSERT … ON CONFLICT DO
  NOTHING`; the due date of an existing row never changes.
"""

from __future__ import annotations

import calendar as months
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, update
from sqlmodel import col, select

from storage.calendar import BusinessCalendar
from storage.db import Database
from storage.directory import Customer, DutySchedule
from storage.models import ContactRow, ConversationReferenceRow, DutyRow, DutyStatus
from storage.types import is_row_id

ONBOARDING = "onboarding"
ONBOARDING_PREFIX = "onboarding:"
PROVIDER, CUSTOMER = "provider", "customer"
HORIZON_MONTHS = 12
ONBOARDING_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class OnboardingItem:
    """One item of the onboarding checklist (the contract's initial services and the
    customer's duties)."""

    key: str
    letter: str
    title: str
    party: str

    @property
    def kind(self) -> str:
        """The duty kind of its row."""
        return f"{ONBOARDING_PREFIX}{self.key}"


ONBOARDING_ITEMS = (
    OnboardingItem(
        "admin-account",
        "a",
        "Administrative account for Microsoft Calling created and handed over",
        PROVIDER,
    ),
    OnboardingItem("provider-systems", "b", "Customer onboarded into the provider's systems",
                   PROVIDER),
    OnboardingItem("technical-contact", "c", "Technically qualified contact named", CUSTOMER),
    OnboardingItem("service-contracts", "d", "Hardware service-contract details received",
                   CUSTOMER),
    # The contract: "licensing is the customer's". The customer confirms which licences it
    # holds; the half-yearly review then checks them.
    OnboardingItem("licensing", "e", "Licensing confirmed", CUSTOMER),
)  # fmt: skip


def onboarding_item(kind_or_word: str) -> OnboardingItem | None:
    """The item named by its kind, key or letter (`onboarding:licensing`, `licensing`, `e`)."""
    word = kind_or_word.strip().lower().removeprefix(ONBOARDING_PREFIX)
    return next((i for i in ONBOARDING_ITEMS if word in (i.key, i.letter)), None)


@dataclass(frozen=True, slots=True)
class Recurring:
    """A recurring duty of the contract and the `DutySchedule` field giving its interval."""

    kind: str
    title: str
    field: str

    def every(self, schedule: DutySchedule) -> int:
        """Its interval in months under `schedule`."""
        value: int = getattr(schedule, self.field)
        return value


REVIEW = "review"
RECURRING = (
    Recurring(REVIEW, "Feature and licence review", "review_every_months"),
    Recurring("update-check", "Device software update check", "update_check_every_months"),
    Recurring("security-updates", "Security updates", "security_updates_every_months"),
)


@dataclass(frozen=True, slots=True)
class PlannedDuty:
    """A duty as the schedule wants it, before it is stored."""

    kind: str
    period: str
    title: str
    party: str
    due_at: datetime


# --- business days ---------------------------------------------------------------------------


def opening_of(calendar: BusinessCalendar, day: date) -> datetime:
    """The first opening on or after the local day `day` (UTC)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=calendar.zone)
    return calendar.next_opening(midnight)


def is_business_day(calendar: BusinessCalendar, day: date) -> bool:
    """True when the service time opens at all on `day`."""
    return local_day(calendar, opening_of(calendar, day)) == day


def local_day(calendar: BusinessCalendar, instant: datetime) -> date:
    """The local date of `instant` in the calendar's timezone."""
    return instant.astimezone(calendar.zone).date()


def business_day_on_or_after(calendar: BusinessCalendar, day: date) -> date:
    """`day` if it is a business day, else the next one."""
    return local_day(calendar, opening_of(calendar, day))


def add_business_days(calendar: BusinessCalendar, day: date, count: int) -> date:
    """The `count`-th business day after `day` (`day` itself not counted; 0: `day`)."""
    found = day
    for _ in range(count):
        found = business_day_on_or_after(calendar, found + timedelta(days=1))
    return found


def business_days_before(calendar: BusinessCalendar, day: date, count: int) -> date:
    """The `count`-th business day before `day` (0: `day`)."""
    found, left = day, count
    while left > 0:
        found -= timedelta(days=1)
        if is_business_day(calendar, found):
            left -= 1
    return found


def remind_at(calendar: BusinessCalendar, due_at: datetime, before_days: int) -> datetime | None:
    """When engineers are reminded ahead of a duty due at `due_at`: the opening of the business
    day `before_days` business days earlier (None for 0: no reminder ahead)."""
    if before_days <= 0:
        return None
    day = business_days_before(calendar, local_day(calendar, due_at), before_days)
    return opening_of(calendar, day)


# --- the schedule ----------------------------------------------------------------------------


def onboarding_due(calendar: BusinessCalendar, onboarded: date, within_days: int) -> datetime:
    """When the onboarding items are due (see the module rules)."""
    start = business_day_on_or_after(calendar, onboarded)
    return opening_of(calendar, add_business_days(calendar, start, within_days))


def plan_duties(
    customer: Customer, schedule: DutySchedule, calendar: BusinessCalendar, today: date
) -> list[PlannedDuty]:
    """Every duty the contract asks for this customer, as of the local day `today`."""
    onboarded = customer.onboarded
    if onboarded is None:
        return []
    planned: list[PlannedDuty] = []
    if today - onboarded <= ONBOARDING_LOOKBACK:
        due = onboarding_due(calendar, onboarded, schedule.onboarding_within_days)
        planned += [
            PlannedDuty(item.kind, ONBOARDING, item.title, item.party, due)
            for item in ONBOARDING_ITEMS
        ]
    horizon = _add_months(today, HORIZON_MONTHS)
    for recurring in RECURRING:
        for period, nominal in occurrences(onboarded, recurring.every(schedule), until=horizon):
            if nominal < today:
                continue
            title = f"{recurring.title} {period}"
            planned.append(
                PlannedDuty(recurring.kind, period, title, PROVIDER, opening_of(calendar, nominal))
            )
    return planned


def occurrences(onboarded: date, every: int, *, until: date) -> Iterator[tuple[str, date]]:
    """(period label, nominal due day) of a duty every `every` months, from the first one due
    after `onboarded` up to `until` (see the module rules)."""
    start = onboarded.year * 12 + onboarded.month - 1  # months since year 0
    if 12 % every == 0:
        start -= (onboarded.month - 1) % every  # the calendar block holding the onboarding
    while True:
        last = start + every - 1
        year, month = divmod(last, 12)
        nominal = date(year, month + 1, min(onboarded.day, months.monthrange(year, month + 1)[1]))
        if nominal > until:
            return
        if nominal > onboarded:
            yield _label(start, every), nominal
        start += every


def _label(start: int, every: int) -> str:
    year, month0 = divmod(start, 12)
    if 12 % every:
        return f"{year}-{month0 + 1:02d}/{every}m"
    block = month0 // every + 1
    return {1: f"{year}-{month0 + 1:02d}", 2: f"{year}-B{block}", 3: f"{year}-Q{block}",
            4: f"{year}-T{block}", 6: f"{year}-H{block}", 12: f"{year}"}[every]  # fmt: skip


def _add_months(day: date, count: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + count, 12)
    return date(year, month0 + 1, min(day.day, months.monthrange(year, month0 + 1)[1]))


# --- the repository --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactAddress:
    """Where a customer's contact can be written to: their personal chat with the bot."""

    channel: str
    user_id: str
    conversation_id: str
    name: str
    language: str | None


class Duties:
    """Contract duties of every customer."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def ensure(
        self, *, customer_key: str, planned: Iterable[PlannedDuty], now: datetime
    ) -> int:
        """Store the planned duties that are not stored yet; how many were new."""
        rows: list[dict[str, Any]] = [
            {
                "customer_key": customer_key,
                "kind": duty.kind,
                "period": duty.period,
                "title": duty.title[:200],
                "party": duty.party,
                "due_at": duty.due_at,
                "status": DutyStatus.OPEN,
                "owner": None,
                "result": "",
                "reminders": [],
                "created_at": now,
            }
            for duty in planned
        ]
        if not rows:
            return 0
        statement = (
            self._db.insert(DutyRow)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["customer_key", "kind", "period"])
            .returning(DutyRow.id)
        )
        async with self._db.session() as session:
            return len((await session.execute(statement)).all())

    async def get(self, duty_id: int) -> DutyRow | None:
        """One duty by id."""
        if not is_row_id(duty_id):
            return None
        async with self._db.session() as session:
            return await session.get(DutyRow, duty_id)

    async def of_customer(
        self, customer_key: str, *, kind_prefix: str = "", status: str | None = None
    ) -> Sequence[DutyRow]:
        """A customer's duties (of kinds starting with `kind_prefix`), by due date."""
        async with self._db.session() as session:
            query = select(DutyRow).where(col(DutyRow.customer_key) == customer_key)
            if kind_prefix:
                query = query.where(col(DutyRow.kind).startswith(kind_prefix))
            if status is not None:
                query = query.where(col(DutyRow.status) == status)
            query = query.order_by(col(DutyRow.due_at), col(DutyRow.id))
            return (await session.scalars(query)).all()

    async def open_due_before(
        self, before: datetime, *, customer_key: str | None = None, limit: int = 500
    ) -> Sequence[DutyRow]:
        """Open duties due before `before` (of one customer, if given), by due date."""
        async with self._db.session() as session:
            query = select(DutyRow).where(
                col(DutyRow.status) == DutyStatus.OPEN, col(DutyRow.due_at) < before
            )
            if customer_key is not None:
                query = query.where(col(DutyRow.customer_key) == customer_key)
            query = query.order_by(col(DutyRow.due_at), col(DutyRow.id)).limit(limit)
            return (await session.scalars(query)).all()

    async def listing(
        self, *, customer_key: str | None = None, status: str, limit: int = 50, newest: bool = False
    ) -> Sequence[DutyRow]:
        """Duties in `status` by due date (the latest first with `newest`)."""
        async with self._db.session() as session:
            query = select(DutyRow).where(col(DutyRow.status) == status)
            if customer_key is not None:
                query = query.where(col(DutyRow.customer_key) == customer_key)
            due = col(DutyRow.due_at).desc() if newest else col(DutyRow.due_at)
            query = query.order_by(due, col(DutyRow.id)).limit(limit)
            return (await session.scalars(query)).all()

    async def complete(
        self, duty_id: int, *, by: str, result: str, now: datetime
    ) -> DutyRow | None:
        """Mark an open duty done; the row afterwards, or None when it was done already."""
        async with self._db.session() as session:
            outcome = await session.execute(
                update(DutyRow)
                .where(col(DutyRow.id) == duty_id, col(DutyRow.status) == DutyStatus.OPEN)
                .values(status=DutyStatus.DONE, done_by=by[:200], done_at=now,
                        result=result[:4000])
            )  # fmt: skip
            if getattr(outcome, "rowcount", 0) != 1:
                return None
            return await session.get(DutyRow, duty_id)

    async def set_owner(self, duty_id: int, *, owner: str | None) -> None:
        """Who works on a duty (None: unassigned)."""
        async with self._db.session() as session:
            await session.execute(
                update(DutyRow).where(col(DutyRow.id) == duty_id).values(owner=owner)
            )

    async def remember(self, duty_id: int, key: str) -> bool:
        """Record that reminder `key` went out; False when it was recorded before."""
        async with self._db.session() as session:
            query = select(DutyRow).where(col(DutyRow.id) == duty_id).with_for_update()
            row = (await session.scalars(query)).one_or_none()
            if row is None or key in row.reminders:
                return False
            await session.execute(
                update(DutyRow)
                .where(col(DutyRow.id) == duty_id)
                .values(reminders=[*row.reminders, key])
            )
        return True

    async def contact_for(self, customer_key: str) -> ContactAddress | None:
        """The customer's contact seen most recently who has a personal chat with the bot."""
        async with self._db.session() as session:
            query = (
                select(ContactRow, ConversationReferenceRow)
                .join(
                    ConversationReferenceRow,
                    and_(
                        col(ConversationReferenceRow.channel) == col(ContactRow.channel),
                        col(ConversationReferenceRow.user_id) == col(ContactRow.user_id),
                    ),
                )
                .where(
                    col(ContactRow.customer_key) == customer_key,
                    col(ContactRow.role) == "contact",
                    col(ConversationReferenceRow.kind) == "personal",
                )
                .order_by(
                    col(ContactRow.last_seen).desc(),
                    col(ConversationReferenceRow.updated_at).desc(),
                )
                .limit(1)
            )
            found = (await session.execute(query)).first()
        if found is None:
            return None
        contact, reference = found
        return ContactAddress(
            channel=contact.channel,
            user_id=contact.user_id,
            conversation_id=reference.conversation_id,
            name=contact.name,
            language=contact.language,
        )
