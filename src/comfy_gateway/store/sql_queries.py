"""SQL building blocks shared by the store's methods; each runs on the caller's
transaction (the caller decides where transactions begin and end)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from comfy_gateway.jobs.errors import JobNotFound, LeaseLost, QueueFull
from comfy_gateway.jobs.model import Job, JobOutput
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.cursor import ListPosition
from comfy_gateway.store.interface import QueueLimits
from comfy_gateway.store.rows import job_from_row, output_from_row
from comfy_gateway.store.schema import job_attempts, job_outputs, jobs, webhook_outbox

ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
# Columns of a listed job: everything but the graph, which can be large.
LIST_COLUMNS = [column for column in jobs.c if column.name != "workflow"]


async def load_outputs(
    conn: AsyncConnection, job_ids: Collection[str]
) -> dict[str, list[JobOutput]]:
    """Outputs of several jobs in one query, grouped by job id."""
    found: dict[str, list[JobOutput]] = {job_id: [] for job_id in job_ids}
    if not job_ids:
        return found
    query = select(job_outputs).where(job_outputs.c.job_id.in_(list(job_ids)))
    for row in (await conn.execute(query)).mappings():
        found[row["job_id"]].append(output_from_row(row))
    return found


async def job_row(
    conn: AsyncConnection, job_id: str, tenant_id: str | None = None, *, lock: bool = False
) -> RowMapping:
    """The job's row (limited to ``tenant_id`` when given), or :class:`JobNotFound`."""
    query = select(jobs).where(jobs.c.job_id == job_id)
    if tenant_id is not None:
        query = query.where(jobs.c.tenant_id == tenant_id)
    if lock:
        query = query.with_for_update()  # PostgreSQL row lock; SQLite holds the database
    row = (await conn.execute(query)).mappings().one_or_none()
    if row is None:
        raise JobNotFound(job_id)
    return row


async def load_job(conn: AsyncConnection, job_id: str, tenant_id: str | None = None) -> Job:
    row = await job_row(conn, job_id, tenant_id)
    outputs = await load_outputs(conn, [job_id])
    return job_from_row(row, outputs[job_id])


async def fenced_row(conn: AsyncConnection, job_id: str, fencing_token: int) -> RowMapping:
    """The row of a job the caller still holds; :class:`LeaseLost` if it does not."""
    row = await job_row(conn, job_id, lock=True)
    if row["claimed_by"] is None or row["fencing_token"] != fencing_token:
        raise LeaseLost(job_id, fencing_token)
    return row


async def update_job(
    conn: AsyncConnection, job_id: str, *, bump: bool = True, **values: Any
) -> None:
    """Set columns of one job; ``bump`` adds one to its version (a visible change)."""
    if bump:
        values["version"] = jobs.c.version + 1
    await conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))


async def close_open_attempt(
    conn: AsyncConnection, job_id: str, ended_at: datetime, outcome: str, detail: str | None = None
) -> bool:
    """End the job's attempt still in progress, if any; whether there was one."""
    result = await conn.execute(
        update(job_attempts)
        .where(job_attempts.c.job_id == job_id, job_attempts.c.ended_at.is_(None))
        .values(ended_at=ended_at, outcome=outcome, detail=detail)
    )
    return bool(result.rowcount)


async def next_attempt_number(conn: AsyncConnection, job_id: str) -> int:
    query = select(func.coalesce(func.max(job_attempts.c.number), 0)).where(
        job_attempts.c.job_id == job_id
    )
    return int((await conn.execute(query)).scalar_one()) + 1


async def insert_outputs(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(job_outputs), list(rows))


async def insert_outbox_entry(conn: AsyncConnection, job: Job, now: datetime) -> None:
    """Queue the job's end for webhook delivery (same transaction as the status)."""
    if job.webhook_url is None:
        return
    payload = {"job_id": job.job_id, "status": job.status.value, "version": job.version}
    await conn.execute(
        insert(webhook_outbox).values(
            job_id=job.job_id,
            tenant_id=job.tenant_id,
            url=job.webhook_url,
            event=f"job.{job.status.value}",
            payload=payload,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
    )


def claimable(now: datetime) -> ColumnElement[bool]:
    """Active jobs nobody holds, or whose holder let the lease run out."""
    return and_(
        jobs.c.status.in_(ACTIVE_STATUSES),
        or_(jobs.c.claimed_by.is_(None), jobs.c.lease_expires_at <= now),
    )


def older_than(position: ListPosition) -> ColumnElement[bool]:
    """Jobs after ``position`` in newest-first order."""
    return or_(
        jobs.c.created_at < position.created_at,
        and_(jobs.c.created_at == position.created_at, jobs.c.job_id < position.job_id),
    )


async def count_by_status(conn: AsyncConnection, tenant_id: str | None) -> dict[str, int]:
    query = (
        select(jobs.c.status, func.count())
        .where(jobs.c.status.in_(ACTIVE_STATUSES))
        .group_by(jobs.c.status)
    )
    if tenant_id is not None:
        query = query.where(jobs.c.tenant_id == tenant_id)
    return {str(status): int(count) for status, count in await conn.execute(query)}


async def check_limits(conn: AsyncConnection, tenant_id: str, limits: QueueLimits) -> None:
    if limits.max_queued is not None:
        queued = (await count_by_status(conn, None)).get(JobStatus.QUEUED.value, 0)
        if queued >= limits.max_queued:
            raise QueueFull(queued, limits.max_queued)
    if limits.max_queued_per_tenant is not None:
        counts = await count_by_status(conn, tenant_id)
        queued = counts.get(JobStatus.QUEUED.value, 0)
        if queued >= limits.max_queued_per_tenant:
            raise QueueFull(queued, limits.max_queued_per_tenant, tenant_id=tenant_id)
