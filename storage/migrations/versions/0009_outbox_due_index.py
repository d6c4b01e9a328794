"""The outbox's due scan read every row ever sent: its index was on `next_attempt_at` alone and
sent rows keep theirs, so each claim (several a second while busy) walked all of history —
3.5 million index entries for 600 fault reports. Index (status, next_attempt_at) instead, and
(status, reported) for the dead-letter check, which read the whole table on every pass.

Revision ID: 0009_outbox_due_index
Revises: 0008_ticket_product_index
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_outbox_due_index"
down_revision: str | None = "0008_ticket_product_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_next_attempt_at", table_name="outbox")
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_status_reported", "outbox", ["status", "reported"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_reported", table_name="outbox")
    op.drop_index("ix_outbox_status_next_attempt_at", table_name="outbox")
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])
