"""Outbound webhooks: integrators' subscriptions, and an ordering key on outbox rows so that
one subscription's deliveries about one ticket go out in order.

Revision ID: 0013_webhooks
Revises: 0012_integration_api
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0013_webhooks"
down_revision: str | None = "0012_integration_api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("customer_key", sa.String(64), nullable=True),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ix_webhook_subscription_customer_key", "webhook_subscription", ["customer_key"]
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("ordering_key", sa.String(120), nullable=True))
    op.create_index("ix_outbox_ordering_key_status", "outbox", ["ordering_key", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_ordering_key_status", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("ordering_key")
    op.drop_table("webhook_subscription")
