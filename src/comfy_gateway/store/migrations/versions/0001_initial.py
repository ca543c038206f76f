"""Initial job store schema: jobs, outputs, attempts, idempotency keys, webhook outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from comfy_gateway.store.column_types import UTCDateTime, json_column

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _job_fk() -> sa.Column[str]:
    return sa.Column(
        "job_id", sa.String(36), sa.ForeignKey("jobs.job_id", ondelete="CASCADE"), nullable=False
    )


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("progress_details", json_column(), nullable=False),
        sa.Column("error", json_column(), nullable=True),
        sa.Column("timings", json_column(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("resolved_params", json_column(), nullable=False),
        sa.Column("workflow", json_column(), nullable=False),
        sa.Column("media", json_column(), nullable=False),
        sa.Column("timeout_s", sa.Float(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("fencing_token", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.String(64), nullable=True),
        sa.Column("backend", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_tenant_created", "jobs", ["tenant_id", "created_at", "job_id"])
    op.create_index("ix_jobs_tenant_status", "jobs", ["tenant_id", "status", "created_at"])
    op.create_index("ix_jobs_claim", "jobs", ["status", sa.text("priority DESC"), "created_at"])


def _create_job_outputs() -> None:
    op.create_table(
        "job_outputs",
        _job_fk(),
        sa.Column("output_index", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("subfolder", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("temporary", sa.Boolean(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "output_index", name="pk_job_outputs"),
    )


def _create_job_attempts() -> None:
    op.create_table(
        "job_attempts",
        _job_fk(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("backend", sa.String(255), nullable=False),
        sa.Column("prompt_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", "number", name="pk_job_attempts"),
    )


def _create_idempotency_keys() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(128), nullable=True),
        _job_fk(),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "idempotency_key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])


def _create_webhook_outbox() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _job_fk(),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("payload", json_column(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_outbox"),
    )
    op.create_index("ix_webhook_outbox_due", "webhook_outbox", ["delivered_at", "next_attempt_at"])


def upgrade() -> None:
    _create_jobs()
    _create_job_outputs()
    _create_job_attempts()
    _create_idempotency_keys()
    _create_webhook_outbox()


def downgrade() -> None:
    for table in ("webhook_outbox", "idempotency_keys", "job_attempts", "job_outputs", "jobs"):
        op.drop_table(table)
