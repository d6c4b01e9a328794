"""Tickets, their event log, number counters, logfiles; contacts' language preference.

Revision ID: 0002_tickets
Revises: 0001_foundation
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0002_tickets"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact") as contact:
        contact.add_column(sa.Column("language", sa.String(2), nullable=True))
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False, unique=True),
        sa.Column("customer_key", sa.String(), sa.ForeignKey("customer.key"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("contract", sa.String(64), nullable=False),
        sa.Column("product", sa.String(40), nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("affected", sa.String(1000), nullable=False),
        sa.Column("tested", sa.String(2000), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("reporter_channel", sa.String(16), nullable=False),
        sa.Column("reporter_user_id", sa.String(255), nullable=False),
        sa.Column("reporter_name", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sla_next_due", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_ticket_customer_key", "ticket", ["customer_key"])
    op.create_index("ix_ticket_status", "ticket", ["status"])
    op.create_index("ix_ticket_sla_next_due", "ticket", ["sla_next_due"])
    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ticket_event_ticket_id", "ticket_event", ["ticket_id"])
    op.create_table(
        "ticket_counter",
        sa.Column("prefix", sa.String(24), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "logfile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("uploaded_by", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ticket_id", "sha256", name="uq_logfile_ticket_sha"),
    )
    op.create_index("ix_logfile_ticket_id", "logfile", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("logfile")
    op.drop_table("ticket_counter")
    op.drop_table("ticket_event")
    op.drop_table("ticket")
    with op.batch_alter_table("contact") as contact:
        contact.drop_column("language")
