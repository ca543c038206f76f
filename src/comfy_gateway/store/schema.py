"""The job store's tables, in SQLAlchemy Core, portable to SQLite and PostgreSQL.

The Alembic migrations in ``store/migrations`` must build exactly this schema; a test
compares them. Change both together.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from comfy_gateway.store.column_types import UTCDateTime, json_column

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


metadata = MetaData(naming_convention=NAMING_CONVENTION)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("tenant_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("progress", Float, nullable=False),
    Column("progress_details", json_column(), nullable=False),
    Column("error", json_column(), nullable=True),
    Column("timings", json_column(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("resolved_params", json_column(), nullable=False),
    Column("workflow", json_column(), nullable=False),
    Column("media", json_column(), nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("webhook_url", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("cancel_requested", Boolean, nullable=False),
    Column("claimed_by", String(255), nullable=True),
    Column("lease_expires_at", UTCDateTime(), nullable=True),
    Column("fencing_token", Integer, nullable=False),
    Column("prompt_id", String(64), nullable=True),
    Column("backend", String(255), nullable=True),
    # Delivery of the job's webhook (0002): pending | delivered | failed, or NULL.
    Column("webhook_status", String(16), nullable=True),
    Column("webhook_attempts", Integer, nullable=True),
    Column("webhook_last_error", Text, nullable=True),
    # What the job needs (0003): {"node_classes": [...], "model_files": {folder: [...]}},
    # NULL when no node catalogue was known at submit (the worker then checks it).
    Column("requirements", json_column(), nullable=True),
)
# The list: one tenant, newest first (read backwards), optionally by status.
Index("ix_jobs_tenant_created", jobs.c.tenant_id, jobs.c.created_at, jobs.c.job_id)
Index("ix_jobs_tenant_status", jobs.c.tenant_id, jobs.c.status, jobs.c.created_at)
# The claim: active jobs by priority then age.
Index("ix_jobs_claim", jobs.c.status, jobs.c.priority.desc(), jobs.c.created_at)

job_outputs = Table(
    "job_outputs",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.job_id", ondelete="CASCADE"), nullable=False),
    Column("output_index", Integer, nullable=False),
    Column("node_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("filename", Text, nullable=False),
    Column("subfolder", Text, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("temporary", Boolean, nullable=False),
    Column("storage_key", Text, nullable=False),
    PrimaryKeyConstraint("job_id", "output_index"),
)

job_attempts = Table(
    "job_attempts",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.job_id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("backend", String(255), nullable=False),
    Column("prompt_id", String(64), nullable=False),
    Column("client_id", String(255), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("detail", Text, nullable=True),
    PrimaryKeyConstraint("job_id", "number"),
)

# The primary key is what makes concurrent submits with one key produce one job.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("tenant_id", String(128), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("request_hash", String(128), nullable=True),
    Column("job_id", String(36), ForeignKey("jobs.job_id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "idempotency_key"),
)
Index("ix_idempotency_keys_created", idempotency_keys.c.created_at)

# Written in the same transaction as the terminal status; the webhook sender drains it.
webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(36), ForeignKey("jobs.job_id", ondelete="CASCADE"), nullable=False),
    Column("tenant_id", String(128), nullable=False),
    Column("url", Text, nullable=False),
    Column("event", String(64), nullable=False),
    Column("payload", json_column(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_status", Integer, nullable=True),
    # Set when the sender gave up; such a row is never due again.
    Column("failed_at", UTCDateTime(), nullable=True),
)
Index("ix_webhook_outbox_due", webhook_outbox.c.delivered_at, webhook_outbox.c.next_attempt_at)
