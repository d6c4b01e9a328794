"""A lease on inbound events: the replica that accepted an event (or re-drives it) owns it
until `claimed_until`; other replicas skip it until then.

Revision ID: 0007_inbound_lease
Revises: 0006_duties
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0007_inbound_lease"
down_revision: str | None = "0006_duties"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_event") as inbound:
        inbound.add_column(sa.Column("claimed_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_event") as inbound:
        inbound.drop_column("claimed_until")
