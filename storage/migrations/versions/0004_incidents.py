"""Possible outages (tickets grouped by incident, the incident's alert threads); the source of
each ticket, so that confirming one report twice creates one ticket.

Revision ID: 0004_incidents
Revises: 0003_outbox
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0004_incidents"
down_revision: str | None = "0003_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as ticket:
        ticket.add_column(sa.Column("incident_key", sa.String(80), nullable=True))
        ticket.create_index("ix_ticket_incident_key", ["incident_key"])
        ticket.add_column(sa.Column("source_key", sa.String(200), nullable=True))
        ticket.create_unique_constraint("uq_ticket_source_key", ["source_key"])
    op.create_table(
        "incident_thread",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("incident_key", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("root_message_id", sa.String(255), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("incident_key", "channel", name="uq_incident_thread"),
    )


def downgrade() -> None:
    op.drop_table("incident_thread")
    with op.batch_alter_table("ticket") as ticket:
        ticket.drop_constraint("uq_ticket_source_key", type_="unique")
        ticket.drop_index("ix_ticket_incident_key")
        ticket.drop_column("source_key")
        ticket.drop_column("incident_key")
