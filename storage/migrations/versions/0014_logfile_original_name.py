"""Logfiles keep the name they were sent with (umlauts and all), beside the safe name shown in
messages: an engineer's download gets the customer's own file name.

Revision ID: 0014_logfile_original_name
Revises: 0013_webhooks
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_logfile_original_name"
down_revision: str | None = "0013_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("logfile", "download_job")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as files:
            files.add_column(
                sa.Column("original_name", sa.String(length=255), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as files:
            files.drop_column("original_name")
