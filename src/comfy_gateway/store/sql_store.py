"""The job store on SQLAlchemy Core: one implementation for every SQL database.

Dialect differences stay at the edges: the engine (pragmas, how a write transaction
begins) is set up by ``sqlite.py`` (and later ``postgres.py``); row locks use
``FOR UPDATE [SKIP LOCKED]``, which SQLite ignores because a write transaction there
already holds the whole database (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from comfy_gateway.jobs.errors import ConstraintViolation, StoreError
from comfy_gateway.jobs.model import Attempt, Claim, Job, JobError, JobOutput, JobPage, NewJob
from comfy_gateway.jobs.status import JobStatus, check_transition
from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.capable_claim import RequirementsFilter, first_runnable
from comfy_gateway.store.clock import Clock, SystemClock
from comfy_gateway.store.cursor import ListPosition, decode_cursor, encode_cursor
from comfy_gateway.store.idempotency import IdempotentRequest, find_replay, remember_key
from comfy_gateway.store.interface import (
    DEFAULT_PAGE_SIZE,
    ActiveCounts,
    JobStore,
    OutboxEntry,
    QueueLimits,
)
from comfy_gateway.store.lease_recovery import LeaseRecovery
from comfy_gateway.store.migrate import upgrade_to_head
from comfy_gateway.store.outbox import WebhookOutboxMixin, due_outbox_rows
from comfy_gateway.store.retention_queries import RetentionQueries
from comfy_gateway.store.rows import (
    attempt_from_row,
    error_to_json,
    job_from_row,
    new_job_values,
    outbox_entry_from_row,
    output_values,
)
from comfy_gateway.store.schema import job_attempts, jobs, webhook_outbox

# Execution option marking a connection whose transactions will write; the dialect
# setup reads it to begin with a write lock (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "comfy_gateway_write"
IDEMPOTENCY_TTL_S = 24 * 3600.0
# "100 only when completed": a running job's progress stops just short of it.
PROGRESS_CEILING_UNTIL_DONE = 99.9


class SqlJobStore(LeaseRecovery, RetentionQueries, WebhookOutboxMixin):
    """:class:`~comfy_gateway.store.interface.JobStore` over an async SQLAlchemy engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        serialize_writes: bool = False,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_S,
    ) -> None:
        self._engine = engine
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._clock = clock or SystemClock()
        # SQLite takes one writer at a time; queueing writers here instead of in
        # SQLite's busy handler (which sleeps and retries) keeps one process fast.
        self._write_lock = asyncio.Lock() if serialize_writes else None
        self._idempotency_ttl = timedelta(seconds=idempotency_ttl_s)
        self._closed = False

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def close(self) -> None:
        """Close every connection; later calls raise `StoreError` instead of reconnecting."""
        self._closed = True
        await self._engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def migrate(self) -> None:
        """Upgrade the schema to the newest migration (under the write lock)."""
        async with self._transaction(write=True) as conn:
            await conn.run_sync(upgrade_to_head)

    @contextlib.asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        if self._closed:
            raise StoreError("the job store is closed")
        guard = self._write_lock if write and self._write_lock else contextlib.nullcontext()
        async with guard:
            try:
                async with (self._write_engine if write else self._engine).begin() as conn:
                    yield conn
            except IntegrityError as exc:
                raise ConstraintViolation(f"the job store refused a write: {exc.orig}") from exc
            except DBAPIError as exc:
                raise StoreError(f"the job store failed: {exc.orig}") from exc

    # --- client side -----------------------------------------------------------------

    async def create_job(
        self,
        new_job: NewJob,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        limits: QueueLimits | None = None,
    ) -> tuple[Job, bool]:
        try:
            async with self._transaction(write=True) as conn:
                return await self._create(conn, new_job, idempotency_key, request_hash, limits)
        except ConstraintViolation:
            if idempotency_key is None:
                raise
        # A concurrent submit with the same key inserted first (possible where writers
        # run in parallel, as on PostgreSQL): the retry finds its key and replays it.
        async with self._transaction(write=True) as conn:
            return await self._create(conn, new_job, idempotency_key, request_hash, limits)

    async def _create(
        self,
        conn: AsyncConnection,
        new_job: NewJob,
        idempotency_key: str | None,
        request_hash: str | None,
        limits: QueueLimits | None,
    ) -> tuple[Job, bool]:
        now = self._clock.now()
        request = None
        if idempotency_key is not None:
            request = IdempotentRequest(
                tenant_id=new_job.tenant_id, key=idempotency_key, request_hash=request_hash
            )
            replayed = await find_replay(conn, request, now - self._idempotency_ttl)
            if replayed is not None:
                return replayed, False
        if limits is not None:
            await q.check_limits(conn, new_job.tenant_id, limits)
        await conn.execute(insert(jobs).values(**new_job_values(new_job), created_at=now))
        if request is not None:
            await remember_key(conn, request, new_job.job_id, now)
        return await q.load_job(conn, new_job.job_id), True

    async def get_job(self, tenant_id: str, job_id: str) -> Job:
        async with self._transaction(write=False) as conn:
            return await q.load_job(conn, job_id, tenant_id)

    async def list_jobs(
        self,
        tenant_id: str,
        statuses: Collection[JobStatus] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> JobPage:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        query = select(*q.LIST_COLUMNS).where(jobs.c.tenant_id == tenant_id)
        if statuses is not None:
            query = query.where(jobs.c.status.in_([status.value for status in statuses]))
        if cursor is not None:
            query = query.where(q.older_than(decode_cursor(cursor)))
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.job_id.desc()).limit(limit + 1)
        async with self._transaction(write=False) as conn:
            rows = list((await conn.execute(query)).mappings())
            page = rows[:limit]
            outputs = await q.load_outputs(conn, [row["job_id"] for row in page])
        listed = tuple(job_from_row(row, outputs[row["job_id"]]) for row in page)
        return JobPage(
            jobs=listed, next_cursor=_cursor_after(listed) if len(rows) > limit else None
        )

    async def list_attempts(self, tenant_id: str, job_id: str) -> tuple[Attempt, ...]:
        query = (
            select(job_attempts)
            .where(job_attempts.c.job_id == job_id)
            .order_by(job_attempts.c.number)
        )
        async with self._transaction(write=False) as conn:
            await q.job_row(conn, job_id, tenant_id)
            rows = (await conn.execute(query)).mappings()
            return tuple(attempt_from_row(row) for row in rows)

    async def count_active(self, tenant_id: str | None = None) -> ActiveCounts:
        async with self._transaction(write=False) as conn:
            counts = await q.count_by_status(conn, tenant_id)
        return ActiveCounts(
            queued=counts.get(JobStatus.QUEUED.value, 0),
            running=counts.get(JobStatus.RUNNING.value, 0),
        )

    async def request_cancel(self, tenant_id: str, job_id: str) -> Job:
        async with self._transaction(write=True) as conn:
            row = await q.job_row(conn, job_id, tenant_id, lock=True)
            status = JobStatus(row["status"])
            if status.is_terminal:
                check_transition(status, JobStatus.CANCELLED, job_id=job_id)
            if status is JobStatus.QUEUED and row["claimed_by"] is None:
                return await self._cancel_now(conn, job_id)
            if not row["cancel_requested"]:
                await q.update_job(conn, job_id, cancel_requested=True)
            return await q.load_job(conn, job_id)

    async def _cancel_now(self, conn: AsyncConnection, job_id: str) -> Job:
        now = self._clock.now()
        await q.update_job(
            conn, job_id, status=JobStatus.CANCELLED.value, completed_at=now, cancel_requested=True
        )
        job = await q.load_job(conn, job_id)
        await q.insert_outbox_entry(conn, job, now)
        return job

    # --- worker side -----------------------------------------------------------------

    async def claim_next_job(
        self, worker_id: str, lease_s: float, *, can_run: RequirementsFilter | None = None
    ) -> Claim | None:
        _check_lease(lease_s)
        async with self._transaction(write=True) as conn:
            now = self._clock.now()
            candidate: Any = (
                select(jobs.c.job_id)
                .where(q.claimable(now))
                .order_by(jobs.c.priority.desc(), jobs.c.created_at, jobs.c.job_id)
                .limit(1)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            if can_run is not None:
                candidate = await first_runnable(conn, now, can_run)
                if candidate is None:
                    return None
            expires = now + timedelta(seconds=lease_s)
            claimed = await conn.execute(
                update(jobs)
                .where(jobs.c.job_id == candidate, q.claimable(now))
                .values(
                    claimed_by=worker_id,
                    lease_expires_at=expires,
                    fencing_token=jobs.c.fencing_token + 1,
                    version=jobs.c.version + 1,
                )
                .returning(jobs.c.job_id, jobs.c.fencing_token)
            )
            row = claimed.one_or_none()
            if row is None:
                return None
            job = await q.load_job(conn, row.job_id)
        return Claim(job=job, fencing_token=row.fencing_token, lease_expires_at=expires)

    async def heartbeat(self, job_id: str, fencing_token: int, lease_s: float) -> Job:
        _check_lease(lease_s)
        async with self._transaction(write=True) as conn:
            await q.fenced_row(conn, job_id, fencing_token)
            expires = self._clock.now() + timedelta(seconds=lease_s)
            # Only the lease moves: not a change a client sees, so no version bump.
            await q.update_job(conn, job_id, bump=False, lease_expires_at=expires)
            return await q.load_job(conn, job_id)

    async def record_attempt_start(
        self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
    ) -> Attempt:
        async with self._transaction(write=True) as conn:
            await q.fenced_row(conn, job_id, fencing_token)
            now = self._clock.now()
            # An attempt left open belonged to a holder whose lease ran out.
            await q.close_open_attempt(conn, job_id, now, "abandoned")
            attempt = Attempt(
                number=await q.next_attempt_number(conn, job_id),
                backend=backend,
                prompt_id=prompt_id,
                client_id=client_id,
                started_at=now,
            )
            await conn.execute(
                insert(job_attempts).values(job_id=job_id, **_attempt_values(attempt))
            )
            await q.update_job(
                conn, job_id, prompt_id=prompt_id, backend=backend, attempts=jobs.c.attempts + 1
            )
        return attempt

    async def record_prompt_id(self, job_id: str, fencing_token: int, prompt_id: str) -> Job:
        async with self._transaction(write=True) as conn:
            await q.fenced_row(conn, job_id, fencing_token)
            await conn.execute(
                update(job_attempts)
                .where(job_attempts.c.job_id == job_id, job_attempts.c.ended_at.is_(None))
                .values(prompt_id=prompt_id)
            )
            await q.update_job(conn, job_id, prompt_id=prompt_id)
            return await q.load_job(conn, job_id)

    async def mark_running(
        self, job_id: str, fencing_token: int, started_at: datetime | None = None
    ) -> Job:
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            status = JobStatus(row["status"])
            # Re-attaching to a prompt that is already running is not a transition.
            if status is not JobStatus.RUNNING:
                check_transition(status, JobStatus.RUNNING, job_id=job_id)
                await q.update_job(
                    conn,
                    job_id,
                    status=JobStatus.RUNNING.value,
                    started_at=started_at or self._clock.now(),
                )
            return await q.load_job(conn, job_id)

    async def update_progress(
        self, job_id: str, fencing_token: int, progress: float, details: dict[str, Any]
    ) -> Job:
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            value = min(max(progress, row["progress"]), PROGRESS_CEILING_UNTIL_DONE)
            await q.update_job(conn, job_id, progress=value, progress_details=details)
            return await q.load_job(conn, job_id)

    async def finish_job(
        self,
        job_id: str,
        fencing_token: int,
        status: JobStatus,
        *,
        outputs: Sequence[JobOutput] = (),
        error: JobError | None = None,
        timings: dict[str, int] | None = None,
        progress_details: dict[str, Any] | None = None,
    ) -> Job:
        if not status.is_terminal:
            raise ValueError(f"finish_job needs a terminal status, not {status.value}")
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            old_status = JobStatus(row["status"])
            check_transition(old_status, status, job_id=job_id)
            now = self._clock.now()
            await q.insert_outputs(conn, [output_values(job_id, output) for output in outputs])
            detail = error.code if error else None
            had_attempt = await q.close_open_attempt(conn, job_id, now, status.value, detail)
            # An attempt counts only if it started executing (API.md): a job cancelled or
            # refused while still queued gives its open attempt back.
            uncount = had_attempt and old_status is JobStatus.QUEUED
            await q.update_job(
                conn,
                job_id,
                attempts=jobs.c.attempts - 1 if uncount else jobs.c.attempts,
                status=status.value,
                completed_at=now,
                progress=100.0 if status is JobStatus.COMPLETED else row["progress"],
                progress_details=(
                    row["progress_details"] if progress_details is None else progress_details
                ),
                error=error_to_json(error),
                timings={**row["timings"], **(timings or {})},
                claimed_by=None,
                lease_expires_at=None,
            )
            job = await q.load_job(conn, job_id)
            await q.insert_outbox_entry(conn, job, now)
        return job

    async def release_job(self, job_id: str, fencing_token: int, count_attempt: bool) -> Job:
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            status = JobStatus(row["status"])
            if status is not JobStatus.QUEUED:
                check_transition(status, JobStatus.QUEUED, job_id=job_id)
            outcome = "retried" if count_attempt else "released"
            had_attempt = await q.close_open_attempt(conn, job_id, self._clock.now(), outcome)
            values: dict[str, Any] = {"status": JobStatus.QUEUED.value}
            if had_attempt and not count_attempt:
                values["attempts"] = jobs.c.attempts - 1
            await q.update_job(conn, job_id, claimed_by=None, lease_expires_at=None, **values)
            return await q.load_job(conn, job_id)

    async def due_webhooks(self, limit: int = 100) -> tuple[OutboxEntry, ...]:
        async with self._transaction(write=False) as conn:
            query = (
                select(webhook_outbox)
                .where(due_outbox_rows(self._clock.now()))
                .order_by(webhook_outbox.c.id)
                .limit(limit)
            )
            rows = (await conn.execute(query)).mappings()
            return tuple(outbox_entry_from_row(row) for row in rows)


def _check_lease(lease_s: float) -> None:
    if lease_s <= 0:
        raise ValueError(f"a lease must last a positive time, not {lease_s} s")


def _cursor_after(page: Sequence[Job]) -> str:
    last = page[-1]
    return encode_cursor(ListPosition(created_at=last.created_at, job_id=last.job_id))


def _attempt_values(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "backend": attempt.backend,
        "prompt_id": attempt.prompt_id,
        "client_id": attempt.client_id,
        "started_at": attempt.started_at,
    }


def _implements_job_store(store: SqlJobStore) -> JobStore:
    return store  # mypy proves here that SqlJobStore satisfies the JobStore protocol
