"""Webhook delivery state: outcome columns on the outbox and a summary on each job.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from comfy_gateway.store.column_types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Nullable columns only: SQLite adds them to existing tables without a rebuild.
_OUTBOX_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("last_status", sa.Integer()),
    ("failed_at", UTCDateTime()),
)
_JOB_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("webhook_status", sa.String(16)),
    ("webhook_attempts", sa.Integer()),
    ("webhook_last_error", sa.Text()),
)


def upgrade() -> None:
    for name, column_type in _OUTBOX_COLUMNS:
        op.add_column("webhook_outbox", sa.Column(name, column_type, nullable=True))
    for name, column_type in _JOB_COLUMNS:
        op.add_column("jobs", sa.Column(name, column_type, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        for name, _ in _JOB_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("webhook_outbox") as batch:
        for name, _ in _OUTBOX_COLUMNS:
            batch.drop_column(name)
