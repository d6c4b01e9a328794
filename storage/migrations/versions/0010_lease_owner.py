"""Who holds a lease: inbound events and outbox rows name the replica working on them, so a
live replica renews only its own leases (a heartbeat) and a lease another replica took over
after it ran out is never extended, released or worked on by the first one again.

Revision ID: 0010_lease_owner
Revises: 0009_outbox_due_index
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_lease_owner"
down_revision: str | None = "0009_outbox_due_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inbound_event", "outbox")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as leased:
            leased.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as leased:
            leased.drop_column("claimed_by")
