"""Outbound webhooks: integrators' subscriptions, and the deliveries a ticket event queues.

A delivery is an outbox row (channel and kind `webhook`) written in the same transaction as
the event it reports: an event is never recorded without its deliveries, and no delivery is
queued for an event that was rolled back. The row holds what the receiver is told, taken at
that moment (the ticket as it is after the event), so a retry sends the same body; the
dispatcher turns it into the versioned payload and signs it (`bot/webhooks.py`).

Deliveries of one subscription about one ticket share an ordering key: the outbox hands a row
out only when no earlier row of its key is still pending, so a receiver never sees
`ticket.resolved` before the `ticket.acknowledged` that came first.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.db import Database
from storage.models import (
    OutboxRow,
    OutboxStatus,
    TicketRow,
    WebhookSubscriptionRow,
)

WEBHOOK = "webhook"  # the outbox channel and kind of a delivery
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


class WebhookEvent(StrEnum):
    """What a subscription can ask to be told about."""

    TICKET_CREATED = "ticket.created"
    TICKET_ACKNOWLEDGED = "ticket.acknowledged"
    TICKET_TAKEN = "ticket.taken"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_NOTE = "ticket.note"
    TICKET_ENGINEER_REPLY = "ticket.engineer_reply"
    TICKET_CUSTOMER_REPLY = "ticket.customer_reply"
    TICKET_WAITING_FOR_CUSTOMER = "ticket.waiting_for_customer"
    TICKET_RESUMED = "ticket.resumed"
    TICKET_LOGFILE_ADDED = "ticket.logfile_added"
    TICKET_VENDOR_CASE = "ticket.vendor_case"
    TICKET_RESOLVED = "ticket.resolved"
    TICKET_REOPENED = "ticket.reopened"
    TICKET_PRIORITY_CHANGED = "ticket.priority_changed"
    TICKET_EFFORT_LOGGED = "ticket.effort_logged"
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"


# The ticket event log's kinds an integrator hears about, by the type they are published as.
# (`sla_notice` is the watcher's record of a warning or breach: see `event_type`.)
_PUBLISHED = {
    "created": WebhookEvent.TICKET_CREATED,
    "acknowledged": WebhookEvent.TICKET_ACKNOWLEDGED,
    "taken": WebhookEvent.TICKET_TAKEN,
    "assigned": WebhookEvent.TICKET_ASSIGNED,
    "note": WebhookEvent.TICKET_NOTE,
    "engineer_reply": WebhookEvent.TICKET_ENGINEER_REPLY,
    "customer_message": WebhookEvent.TICKET_CUSTOMER_REPLY,
    "paused": WebhookEvent.TICKET_WAITING_FOR_CUSTOMER,
    "resumed": WebhookEvent.TICKET_RESUMED,
    "logfile_added": WebhookEvent.TICKET_LOGFILE_ADDED,
    "vendor_case": WebhookEvent.TICKET_VENDOR_CASE,
    "resolved": WebhookEvent.TICKET_RESOLVED,
    "reopened": WebhookEvent.TICKET_REOPENED,
    "priority_changed": WebhookEvent.TICKET_PRIORITY_CHANGED,
    "effort_logged": WebhookEvent.TICKET_EFFORT_LOGGED,  # an effort entry, not a log event
}
SLA_NOTICE = "sla_notice"
EFFORT_LOGGED = "effort_logged"


def event_type(kind: str, data: dict[str, Any]) -> WebhookEvent | None:
    """The published type of a ticket event (None: not published). An SLA notice's key is
    `clock:cycle:percent`; 100 % is the breach."""
    if kind == SLA_NOTICE:
        percent = str(data.get("key", "")).rsplit(":", 1)[-1]
        return WebhookEvent.SLA_BREACHED if percent == "100" else WebhookEvent.SLA_WARNING
    return _PUBLISHED.get(kind)


def new_secret() -> str:
    """A signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes in
    base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def ordering_key(subscription_id: int, ticket_id: int) -> str:
    """The deliveries of one subscription about one ticket go out in order."""
    return f"{WEBHOOK}:{subscription_id}:{ticket_id}"


def ticket_snapshot(ticket: TicketRow) -> dict[str, Any]:
    """The ticket as a delivery reports it (JSON-ready)."""
    return {
        "number": ticket.number,
        "customer": ticket.customer_key,
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "product": ticket.product,
        "contract": ticket.contract,
        "owner_id": ticket.owner_user_id,
        "owner_name": ticket.owner_name,
        "reporter_name": ticket.reporter_name,
        "description": ticket.description,
        "affected": ticket.affected,
        "since": ticket.since.isoformat() if ticket.since else None,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "external_ref": ticket.external_ref,
    }


class WebhookSubscriptions:
    """Subscriptions, and the deliveries queued for them with each ticket event.

    `on_queued` is called after a transaction that queued deliveries has committed (the app
    wakes the outbox dispatcher with it, so a delivery does not wait for the next poll)."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.on_queued: Callable[[], None] = lambda: None

    async def add(
        self, *, url: str, events: Sequence[str], customer_key: str | None, now: datetime
    ) -> WebhookSubscriptionRow:
        """Store a subscription with a new signing secret."""
        row = WebhookSubscriptionRow(
            url=url,
            events=sorted(set(events)),
            customer_key=customer_key,
            secret=new_secret(),
            created_at=now,
        )
        async with self._db.session() as session:
            session.add(row)
        return row

    async def all(self) -> Sequence[WebhookSubscriptionRow]:
        """Every subscription, oldest first."""
        async with self._db.session() as session:
            query = select(WebhookSubscriptionRow).order_by(col(WebhookSubscriptionRow.id))
            return (await session.scalars(query)).all()

    async def get(self, subscription_id: int) -> WebhookSubscriptionRow | None:
        """One subscription by id."""
        async with self._db.session() as session:
            return await session.get(WebhookSubscriptionRow, subscription_id)

    async def remove(self, subscription_id: int) -> bool:
        """Delete a subscription and drop its undelivered deliveries; False if unknown."""
        async with self._db.session() as session:
            result = await session.execute(
                delete(WebhookSubscriptionRow).where(
                    col(WebhookSubscriptionRow.id) == subscription_id
                )
            )
            if not getattr(result, "rowcount", 0):
                return False
            await _drop_pending(session, subscription_id, "the subscription was removed")
        return True

    async def disable(
        self, subscription_id: int, *, reason: str, now: datetime, keep: int | None = None
    ) -> None:
        """Stop delivering to a subscription (the receiver said it is gone) and drop what was
        still to be delivered to it, except the delivery `keep` (the one that learned it: its
        failure is what the managers are told)."""
        async with self._db.session() as session:
            await session.execute(
                update(WebhookSubscriptionRow)
                .where(col(WebhookSubscriptionRow.id) == subscription_id)
                .values(active=False, disabled_reason=reason[:500], disabled_at=now)
            )
            await _drop_pending(session, subscription_id, reason, keep=keep)

    async def queue_for_event(
        self,
        session: AsyncSession,
        *,
        ticket_id: int,
        kind: str,
        message_id: str,
        at: datetime,
        actor: str,
        data: dict[str, Any],
    ) -> int:
        """In the caller's transaction: a delivery of this event to every active subscription
        that wants it. Returns how many were queued."""
        published = event_type(kind, data)
        if published is None:
            return 0
        subscribers = await self._subscribers(session, published)
        if not subscribers:  # the usual case: one cheap query on a small table, nothing else
            return 0
        ticket = await session.get(TicketRow, ticket_id)
        if ticket is None:
            return 0
        wanting = [
            subscription_id
            for subscription_id, customer_key in subscribers
            if customer_key in (None, ticket.customer_key)
        ]
        if not wanting:
            return 0
        raw = {
            "webhook_id": message_id,
            "type": published.value,
            "timestamp": at.isoformat(),
            "actor": actor,
            "details": data,
            "ticket": ticket_snapshot(ticket),
        }
        rows = [
            {
                "dedupe_key": f"{WEBHOOK}:{subscription_id}:{message_id}",
                "channel": WEBHOOK,
                "kind": WEBHOOK,
                "target": {"subscription_id": subscription_id},
                "payload": raw,
                "ticket_id": ticket_id,
                "ordering_key": ordering_key(subscription_id, ticket_id),
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "reported": False,
                "next_attempt_at": at,
                "created_at": at,
            }
            for subscription_id in wanting
        ]
        await session.execute(
            self._db.insert(OutboxRow)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return len(rows)

    async def _subscribers(
        self, session: AsyncSession, published: WebhookEvent
    ) -> list[tuple[int, str | None]]:
        """The active subscriptions that want `published`, with the customer each is for."""
        query = select(
            WebhookSubscriptionRow.id,
            WebhookSubscriptionRow.events,
            WebhookSubscriptionRow.customer_key,
        ).where(col(WebhookSubscriptionRow.active).is_(True))
        found = (await session.execute(query)).all()
        return [
            (row_id, customer_key)
            for row_id, events, customer_key in found
            if row_id is not None and published.value in events
        ]


async def _drop_pending(
    session: AsyncSession, subscription_id: int, reason: str, *, keep: int | None = None
) -> None:
    """Undelivered deliveries of a subscription given up quietly: nobody needs telling (the
    subscription's end is reported, not each of its events)."""
    await session.execute(
        update(OutboxRow)
        .where(
            col(OutboxRow.status) == OutboxStatus.PENDING,
            col(OutboxRow.ordering_key).startswith(f"{WEBHOOK}:{subscription_id}:"),
            col(OutboxRow.id) != (keep if keep is not None else -1),
        )
        .values(
            status=OutboxStatus.DEAD,
            reported=True,
            last_error=reason[:500],
            claimed_until=None,
            claimed_by=None,
        )
    )
