"""The tables of the foundation: who the bot knows, where it can write, what it has processed.

Every timestamp column is an aware UTC `UTCDateTime`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


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
