"""Contract duties (onboarding, reviews, update checks, security updates), maintenance windows,
effort on tickets.

Revision ID: 0006_duties
Revises: 0005_preferences
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0006_duties"
down_revision: str | None = "0005_preferences"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_key", sa.String(), sa.ForeignKey("customer.key"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("party", sa.String(10), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("owner", sa.String(320), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(200), nullable=True),
        sa.Column("result", sa.String(4000), nullable=False),
        sa.Column("reminders", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("customer_key", "kind", "period", name="uq_duty_period"),
    )
    op.create_index("ix_duty_customer_key", "duty", ["customer_key"])
    op.create_index("ix_duty_due_at", "duty", ["due_at"])
    op.create_index("ix_duty_status", "duty", ["status"])
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_key", sa.String(), sa.ForeignKey("customer.key"), nullable=False),
        sa.Column("duty_id", sa.Integer(), sa.ForeignKey("duty.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("proposed_by", sa.String(200), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_maintenance_window_customer_key", "maintenance_window", ["customer_key"])
    op.create_index("ix_maintenance_window_starts_at", "maintenance_window", ["starts_at"])
    op.create_table(
        "effort",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("by", sa.String(320), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source_key", sa.String(200), nullable=False, unique=True),
    )
    op.create_index("ix_effort_ticket_id", "effort", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("effort")
    op.drop_table("maintenance_window")
    op.drop_table("duty")
