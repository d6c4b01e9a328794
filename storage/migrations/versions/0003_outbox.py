"""Outbox for proactive messages, ticket alert threads, ticket owners.

Revision ID: 0003_outbox
Revises: 0002_tickets
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0003_outbox"
down_revision: str | None = "0002_tickets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as ticket:
        ticket.add_column(sa.Column("owner_user_id", sa.String(255), nullable=True))
        ticket.add_column(
            sa.Column("owner_name", sa.String(200), nullable=False, server_default="")
        )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("reported", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
    op.create_table(
        "ticket_thread",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("root_message_id", sa.String(255), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("channel", "root_message_id", name="uq_ticket_thread_root"),
    )
    op.create_index("ix_ticket_thread_ticket_id", "ticket_thread", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("ticket_thread")
    op.drop_table("outbox")
    with op.batch_alter_table("ticket") as ticket:
        ticket.drop_column("owner_name")
        ticket.drop_column("owner_user_id")
