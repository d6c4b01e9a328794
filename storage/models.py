"""The tables of the foundation: who the bot knows, where it can write, what it has processed.

Every timestamp column is an aware UTC `UTCDateTime`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(*, index: bool = False, **kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), index=index, **kwargs))


def _json(**kwargs: Any) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False, **kwargs))


class CustomerRow(SQLModel, table=True):
    """A customer organisation as the bot knows it (synchronised from the directory)."""

    __tablename__ = "customer"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    first_seen: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class ContactRow(SQLModel, table=True):
    """A person who has written to the bot on one channel."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("channel", "user_id", name="uq_contact_channel_user"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_id: str = Field(max_length=255)
    customer_key: str | None = Field(default=None, foreign_key="customer.key", index=True)
    role: str = Field(max_length=16)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    aad_object_id: str | None = Field(default=None, max_length=64)
    # Chosen with `language de|en`; None: from the client's locale or the directory.
    language: str | None = Field(default=None, max_length=2)
    first_seen: datetime = _utc(nullable=False)
    last_seen: datetime = _utc(nullable=False)


class ConversationReferenceRow(SQLModel, table=True):
    """What an adapter needs to write into a conversation later (proactive messages)."""

    __tablename__ = "conversation_reference"
    __table_args__ = (
        UniqueConstraint("channel", "conversation_id", name="uq_conversation_reference"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    conversation_id: str = Field(max_length=512)
    kind: str = Field(max_length=16)
    user_id: str | None = Field(default=None, max_length=255)
    reference: dict[str, Any] = _json()
    updated_at: datetime = _utc(nullable=False)


class InboundStatus(StrEnum):
    """Where an inbound event is in its life."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboundEventRow(SQLModel, table=True):
    """An event from a channel, stored before it is acknowledged and processed once.

    The unique (channel, dedupe_key) is what makes a channel's retry a no-op.
    """

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("channel", "dedupe_key", name="uq_inbound_dedupe"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    dedupe_key: str = Field(max_length=700)
    payload: dict[str, Any] = _json()
    status: str = Field(default=InboundStatus.PENDING, max_length=16, index=True)
    attempts: int = Field(default=0)
    error: str | None = Field(default=None, max_length=500)
    received_at: datetime = _utc(nullable=False)
    processed_at: datetime | None = _utc(nullable=True)
    # Leased to the replica working on it (set at accept, by the re-drive's claim) and renewed
    # while it works; others skip it until then, so a crashed replica's events come back soon.
    claimed_until: datetime | None = _utc(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)


class DialogStateRow(SQLModel, table=True):
    """A conversation's dialog state per (channel, conversation, user).

    `version` implements optimistic concurrency: a write names the version it read and fails
    if another replica has written since.
    """

    __tablename__ = "dialog_state"
    __table_args__ = (
        UniqueConstraint("channel", "conversation_id", "user_id", name="uq_dialog_state_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    conversation_id: str = Field(max_length=512)
    user_id: str = Field(max_length=255)
    dialog: str | None = Field(default=None, max_length=64)
    state: dict[str, Any] = _json()
    version: int = Field(default=1)
    updated_at: datetime = _utc(nullable=False)


class TicketStatus(StrEnum):
    """Where a ticket is in its life."""

    OPEN = "open"
    WAITING_FOR_CUSTOMER = "waiting_for_customer"
    RESOLVED = "resolved"


class TicketKind(StrEnum):
    """A fault (under the SLA) or a change request (billed by effort)."""

    FAULT = "fault"
    CHANGE_REQUEST = "change_request"


class TicketRow(SQLModel, table=True):
    """A fault report or change request of a customer's contact."""

    __tablename__ = "ticket"
    # Mass-incident detection asks for one product's recent faults on every new report.
    __table_args__ = (
        Index("ix_ticket_product_created_at", "product", "created_at"),
        # The integration API lists tickets in order of their last change (`updated_since`).
        Index("ix_ticket_updated_at_id", "updated_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    customer_key: str = Field(foreign_key="customer.key", index=True)
    kind: str = Field(default=TicketKind.FAULT, max_length=16)
    status: str = Field(default=TicketStatus.OPEN, max_length=24, index=True)
    contract: str = Field(max_length=64)
    product: str = Field(max_length=40)
    priority: str = Field(max_length=4)
    description: str = Field(max_length=4000)
    since: datetime | None = _utc(nullable=True)
    affected: str = Field(default="", max_length=1000)
    tested: str = Field(default="", max_length=2000)
    phone: str = Field(default="", max_length=40)
    details: dict[str, Any] = _json()
    language: str = Field(default="en", max_length=2)
    reporter_channel: str = Field(max_length=16)
    reporter_user_id: str = Field(max_length=255)
    reporter_name: str = Field(default="", max_length=200)
    conversation_id: str = Field(max_length=512)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    # The next instant the SLA watcher must look at this ticket (a warning or a deadline).
    sla_next_due: datetime | None = _utc(nullable=True, index=True)
    owner_user_id: str | None = Field(default=None, max_length=255)
    owner_name: str = Field(default="", max_length=200)
    # Set when the ticket is part of a possible outage (several customers, one product).
    incident_key: str | None = Field(default=None, max_length=80, index=True)
    # What created the ticket (the draft it came from): a second confirm finds this ticket.
    source_key: str | None = Field(default=None, max_length=200, unique=True)
    # The ticket's number in the provider's PSA or ITSM, set through the integration API.
    external_ref: str | None = Field(default=None, max_length=100)


class TicketEventRow(SQLModel, table=True):
    """One entry of a ticket's append-only event log (SLA events and everything else)."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)
    at: datetime = _utc(nullable=False)
    actor: str = Field(default="", max_length=255)
    data: dict[str, Any] = _json()


class TicketCounterRow(SQLModel, table=True):
    """The last number handed out per prefix and year (e.g. `CCS-2026`)."""

    __tablename__ = "ticket_counter"

    prefix: str = Field(primary_key=True, max_length=24)
    value: int = Field(default=0)


class LogfileRow(SQLModel, table=True):
    """A file a contact delivered for a ticket; the bytes live in the blob store by SHA-256."""

    __tablename__ = "logfile"
    __table_args__ = (UniqueConstraint("ticket_id", "sha256", name="uq_logfile_ticket_sha"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    sha256: str = Field(max_length=64)
    name: str = Field(max_length=200)
    size: int
    content_type: str = Field(default="application/octet-stream", max_length=100)
    uploaded_by: str = Field(default="", max_length=255)
    channel: str = Field(max_length=16)
    created_at: datetime = _utc(nullable=False)
    # The name as it was sent (`name` is its safe form); empty for files stored before.
    original_name: str = Field(default="", max_length=255)


class OutboxStatus(StrEnum):
    """Where a proactive message is."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxRow(SQLModel, table=True):
    """A proactive message to deliver once per (event, target), surviving restarts.

    `kind` says what `target` is: `conversation` (a stored conversation reference), `channel`
    (a new thread in a team channel or space), `thread` (the threads of `ticket_id`'s alerts),
    `update` (refresh the cards of those alerts).
    """

    __tablename__ = "outbox"
    # Sent rows stay (their dedupe keys keep events from being sent twice): the due scan and
    # the dead-letter check must read only the pending and the dead rows, not all history.
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_status_reported", "status", "reported"),
        Index("ix_outbox_ordering_key_status", "ordering_key", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=300, unique=True)
    channel: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    target: dict[str, Any] = _json()
    payload: dict[str, Any] = _json()
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _utc(nullable=False)
    claimed_until: datetime | None = _utc(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc(nullable=True)
    reported: bool = Field(default=False)
    # Rows sharing a key go out one at a time in id order (a webhook subscription's deliveries
    # about one ticket): a row is handed out only when no earlier row of its key is pending.
    ordering_key: str | None = Field(default=None, max_length=120)


class WebhookSubscriptionRow(SQLModel, table=True):
    """An integrator's endpoint that receives signed ticket and SLA events.

    The signing secret is kept as issued (`whsec_…`): every delivery is signed with it, so it
    cannot be stored as a hash the way a password would be.
    """

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # None: every customer's events; else only this customer's.
    customer_key: str | None = Field(default=None, max_length=64, index=True)
    secret: str = Field(max_length=100)
    active: bool = Field(default=True)
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = _utc(nullable=False)
    disabled_at: datetime | None = _utc(nullable=True)


class TicketThreadRow(SQLModel, table=True):
    """A ticket's alert in an engineers' channel: where its thread is, to post updates there
    and to know which ticket a message in that thread is about."""

    __tablename__ = "ticket_thread"
    __table_args__ = (UniqueConstraint("channel", "root_message_id", name="uq_ticket_thread_root"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    channel: str = Field(max_length=16)
    root_message_id: str = Field(max_length=255)
    reference: dict[str, Any] = _json()
    created_at: datetime = _utc(nullable=False)


class IncidentThreadRow(SQLModel, table=True):
    """The grouped alert of a possible outage in the engineers' channel, per chat system."""

    __tablename__ = "incident_thread"
    __table_args__ = (UniqueConstraint("incident_key", "channel", name="uq_incident_thread"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_key: str = Field(max_length=80)
    channel: str = Field(max_length=16)
    root_message_id: str = Field(max_length=255)
    reference: dict[str, Any] = _json()
    created_at: datetime = _utc(nullable=False)


class PreferenceRow(SQLModel, table=True):
    """A switch managers flip by chat (e.g. the digest), shared by every replica."""

    __tablename__ = "preference"

    key: str = Field(primary_key=True, max_length=64)
    value: dict[str, Any] = _json()
    updated_at: datetime = _utc(nullable=False)


class DutyStatus(StrEnum):
    """Where a contract duty is."""

    OPEN = "open"
    DONE = "done"


class DutyRow(SQLModel, table=True):
    """A duty the contract puts on the provider for one customer: an onboarding item, or a
    recurring one (feature and licence review, update check, security updates).

    Generation is idempotent: one row per (customer, kind, period)."""

    __tablename__ = "duty"
    __table_args__ = (UniqueConstraint("customer_key", "kind", "period", name="uq_duty_period"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_key: str = Field(foreign_key="customer.key", index=True)
    kind: str = Field(max_length=40)
    period: str = Field(max_length=20)
    title: str = Field(max_length=200)
    # Who must act: "provider" or "customer" (onboarding items only the customer can give).
    party: str = Field(default="provider", max_length=10)
    due_at: datetime = _utc(nullable=False, index=True)
    status: str = Field(default=DutyStatus.OPEN, max_length=10, index=True)
    owner: str | None = Field(default=None, max_length=320)
    done_at: datetime | None = _utc(nullable=True)
    done_by: str | None = Field(default=None, max_length=200)
    result: str = Field(default="", max_length=4000)
    # Reminder keys already sent (each reminder once).
    reminders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc(nullable=False)


class WindowStatus(StrEnum):
    """Where a maintenance window is."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    DONE = "done"


class MaintenanceWindowRow(SQLModel, table=True):
    """Planned work (e.g. security updates), proposed to the customer's contact inside normal
    working hours, confirmed or moved by them, reminded on the day."""

    __tablename__ = "maintenance_window"

    id: int | None = Field(default=None, primary_key=True)
    customer_key: str = Field(foreign_key="customer.key", index=True)
    duty_id: int | None = Field(default=None, foreign_key="duty.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    title: str = Field(max_length=200)
    starts_at: datetime = _utc(nullable=False, index=True)
    ends_at: datetime = _utc(nullable=False)
    status: str = Field(default=WindowStatus.PROPOSED, max_length=12)
    proposed_by: str = Field(default="", max_length=200)
    decided_by: str | None = Field(default=None, max_length=200)
    history: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reminded: bool = Field(default=False)
    created_at: datetime = _utc(nullable=False)


class EffortRow(SQLModel, table=True):
    """Time an engineer spent on a ticket (change requests are billed by it)."""

    __tablename__ = "effort"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    minutes: int
    note: str = Field(default="", max_length=500)
    by: str = Field(max_length=320)
    at: datetime = _utc(nullable=False)
    # One entry per incoming message, so a retried message logs its effort once.
    source_key: str = Field(max_length=200, unique=True)


class DownloadStatus(StrEnum):
    """Where a file someone sent is: still to fetch, or how its download ended."""

    PENDING = "pending"
    STORED = "stored"
    REFUSED = "refused"
    TIMED_OUT = "timed_out"


class DownloadJobRow(SQLModel, table=True):
    """A file someone sent, fetched in the background outside the turn that received it.

    The turn stores the row and acknowledges; a download worker leases it (`claimed_until`),
    fetches the file and records the outcome once (`status`), then tells the person and the
    ticket's thread and sets `reported`. A row left pending or unreported by a restart or a
    crash is picked up again, so nothing is lost; the outcome is recorded once and every
    message about it is keyed by the row, so nothing is told twice.
    """

    __tablename__ = "download_job"
    __table_args__ = (Index("ix_download_job_due", "reported", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The message and the file's place in it: a re-driven message queues nothing new.
    dedupe_key: str = Field(max_length=700, unique=True)
    channel: str = Field(max_length=16)
    conversation_id: str = Field(max_length=512)
    user_id: str = Field(max_length=255)
    user_name: str = Field(default="", max_length=200)
    language: str = Field(default="en", max_length=2)
    # The ticket it is for, or the fault report (draft) whose ticket does not exist yet.
    ticket_number: str | None = Field(default=None, max_length=32)
    draft_key: str | None = Field(default=None, max_length=200, index=True)
    name: str = Field(max_length=200)
    url: str = Field(max_length=4000)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    status: str = Field(default=DownloadStatus.PENDING, max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    sha256: str | None = Field(default=None, max_length=64)
    size: int | None = Field(default=None)
    attempts: int = Field(default=0)
    reported: bool = Field(default=False)
    next_attempt_at: datetime = _utc(nullable=False)
    claimed_until: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc(nullable=False)
    finished_at: datetime | None = _utc(nullable=True)
    # The name as it was sent (`name` is its safe form).
    original_name: str = Field(default="", max_length=255)


class ApiTokenRow(SQLModel, table=True):
    """A bearer token of the integration API: only its SHA-256 is kept, never the token."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A token bound to one customer sees and writes that customer's tickets only.
    customer_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc(nullable=False)
    revoked_at: datetime | None = _utc(nullable=True)


class ApiIdempotencyRow(SQLModel, table=True):
    """A write sent with an `Idempotency-Key`: the request's digest and, once answered, the
    answer, so a retry gets the same answer and a different request under the key is refused."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_name", "key", name="uq_api_idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_name: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_digest: str = Field(max_length=64)
    status: int | None = Field(default=None)
    response: dict[str, Any] = _json()
    created_at: datetime = _utc(nullable=False, index=True)
