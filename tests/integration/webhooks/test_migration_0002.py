"""Migration 0002 upgrades a database that already holds jobs and outbox rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.model import WebhookDelivery, WebhookStatus
from comfy_gateway.store import open_sqlite_store
from comfy_gateway.store.migrate import alembic_config

ENDED = "2026-11-22 18:00:00.000000"


def _migrate_to(path: Path, revision: str) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    engine.dispose()


def _insert_finished_job(conn: Connection) -> None:
    """Rows as 0001 knew them (plain SQL: the current schema has more columns)."""
    jobs = sa.table("jobs", *map(sa.column, _JOB_COLUMNS))
    outbox = sa.table("webhook_outbox", *map(sa.column, _OUTBOX_COLUMNS))
    conn.execute(sa.insert(jobs).values(**_JOB_VALUES))
    conn.execute(
        sa.insert(outbox).values(
            job_id="job-1",
            tenant_id="acme",
            url="https://hooks.example/in",
            event="job.completed",
            payload="{}",
            created_at=ENDED,
            next_attempt_at=ENDED,
            attempts=0,
        )
    )


_JOB_VALUES = {
    "job_id": "job-1",
    "tenant_id": "acme",
    "status": "completed",
    "priority": 0,
    "created_at": ENDED,
    "completed_at": ENDED,
    "progress": 100.0,
    "progress_details": "{}",
    "timings": "{}",
    "attempts": 1,
    "resolved_params": "{}",
    "workflow": "{}",
    "media": "[]",
    "timeout_s": 60.0,
    "webhook_url": "https://hooks.example/in",
    "version": 3,
    "cancel_requested": False,
    "fencing_token": 1,
}
_JOB_COLUMNS = tuple(_JOB_VALUES)
_OUTBOX_COLUMNS = (
    "job_id",
    "tenant_id",
    "url",
    "event",
    "payload",
    "created_at",
    "next_attempt_at",
    "attempts",
)


async def test_rows_written_before_0002_are_pending_and_deliverable(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    _migrate_to(path, "0001")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        _insert_finished_job(conn)
    engine.dispose()

    store = await open_sqlite_store(path)
    try:
        job = await store.get_job("acme", "job-1")
        [entry] = await store.claim_due_webhooks(10, 40.0)
    finally:
        await store.close()

    assert job.webhook_delivery == WebhookDelivery(status=WebhookStatus.PENDING, attempts=0)
    assert (entry.job_id, entry.attempts) == ("job-1", 1)
    assert entry.created_at == datetime(2026, 11, 22, 18, tzinfo=UTC)


def test_0002_downgrades_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    _migrate_to(path, "head")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
        columns = {column["name"] for column in sa.inspect(conn).get_columns("jobs")}
    engine.dispose()
    assert "webhook_status" not in columns
    assert "webhook_url" in columns
