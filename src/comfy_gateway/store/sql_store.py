"""The job store on SQLAlchemy Core: one implementation for every SQL database.

Each store method is one transaction of synchronous SQLAlchemy Core, run whole on a
store thread (``store_threads.py``). Dialect differences stay at the edges: the engine
(pragmas, how a write transaction begins) is set up by ``sqlite.py`` (and later
``postgres.py``); row locks use ``FOR UPDATE [SKIP LOCKED]``, which SQLite ignores
because a write transaction there already holds the whole database (``BEGIN
IMMEDIATE``). Writes return the row they wrote (``RETURNING``) rather than read it
again. The worker's writes live in ``worker_writes.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import timedelta
from typing import Self, TypeVar

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from comfy_gateway.jobs.errors import ConstraintViolation
from comfy_gateway.jobs.hand_off import DirectClaim, first_attempt
from comfy_gateway.jobs.model import Attempt, Job, JobOutput, JobPage, NewJob
from comfy_gateway.jobs.status import JobStatus, check_transition
from comfy_gateway.store import queue_queries as queue
from comfy_gateway.store import sql_queries as q
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
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.retention_queries import RetentionQueries
from comfy_gateway.store.rows import (
    attempt_from_row,
    claimed_values,
    job_from_row,
    new_job_values,
    outbox_entry_from_row,
)
from comfy_gateway.store.schema import job_attempts, jobs, webhook_outbox
from comfy_gateway.store.store_threads import WRITE_OPTION, StoreThreads, transaction
from comfy_gateway.store.worker_writes import WorkerWrites

__all__ = ["WRITE_OPTION", "SqlJobStore"]

IDEMPOTENCY_TTL_S = 24 * 3600.0
T = TypeVar("T")
#: Built once (every submit runs it); every column bound (none has a default).
_INSERT_JOB = Prepared(insert(jobs).returning(*q.LIST_COLUMNS))


class SqlJobStore(WorkerWrites, LeaseRecovery, RetentionQueries, WebhookOutboxMixin):
    """:class:`~comfy_gateway.store.interface.JobStore` over a SQLAlchemy engine."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        serialize_writes: bool = False,
        inline_engine: Engine | None = None,
        idempotency_ttl_s: float = IDEMPOTENCY_TTL_S,
    ) -> None:
        """``serialize_writes``: one writer thread (SQLite takes one writer at a time);
        ``inline_engine``: the same database, never waiting for a lock, for transactions
        tried on the event loop first (an embedded database: see ``store_threads.py``)."""
        self._threads = StoreThreads(
            engine, single_writer=serialize_writes, inline_engine=inline_engine
        )
        self._clock = clock or SystemClock()
        self._idempotency_ttl = timedelta(seconds=idempotency_ttl_s)

    @property
    def engine(self) -> Engine:
        return self._threads.engine

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine a transaction may run on (SQLite: the inline one too)."""
        return self._threads.engines

    async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T:
        """``body(conn)`` as one transaction on a store thread (`StoreError` when closed)."""
        return await self._threads.run(body, write=write)

    async def close(self) -> None:
        """Close every connection; later calls raise `StoreError` instead of reconnecting."""
        await self._threads.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @transaction(write=True)
    def migrate(self, conn: Connection) -> None:
        """Upgrade the schema to the newest migration (under the write lock)."""
        upgrade_to_head(conn)

    # --- client side -----------------------------------------------------------------

    async def create_job(
        self,
        new_job: NewJob,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        limits: QueueLimits | None = None,
        claim_for: DirectClaim | None = None,
    ) -> tuple[Job, bool]:
        try:
            return await self._create(
                new_job, key=idempotency_key, key_hash=request_hash, limits=limits, claim=claim_for
            )
        except ConstraintViolation:
            if idempotency_key is None:
                raise
        # A concurrent submit with the same key inserted first (possible where writers
        # run in parallel, as on PostgreSQL): the retry finds its key and replays it.
        return await self._create(
            new_job, key=idempotency_key, key_hash=request_hash, limits=limits, claim=claim_for
        )

    @transaction(write=True)
    def _create(
        self,
        conn: Connection,
        new_job: NewJob,
        *,
        key: str | None,
        key_hash: str | None,
        limits: QueueLimits | None,
        claim: DirectClaim | None,
    ) -> tuple[Job, bool]:
        now = self._clock.now()
        request = None
        if key is not None:
            request = IdempotentRequest(tenant_id=new_job.tenant_id, key=key, request_hash=key_hash)
            replayed = find_replay(conn, request, now - self._idempotency_ttl)
            if replayed is not None:
                return replayed, False
        # Handed over only while nothing else waits: the hand-off never jumps the queue.
        if claim is not None and limits is not None:
            if queue.check_limits_and_waiting(conn, new_job.tenant_id, limits, now):
                claim = None
        elif limits is not None:
            queue.check_limits(conn, new_job.tenant_id, limits)
        elif claim is not None and queue.claimable_job_waiting(conn, now):
            claim = None
        values = {**new_job_values(new_job), "created_at": now}
        if claim is not None:
            values |= claimed_values(claim, new_job.job_id, now)
        inserted = _INSERT_JOB.first(conn, values)
        assert inserted is not None
        inserted["workflow"] = new_job.workflow  # not read back: the caller's own graph
        if claim is not None:
            q.insert_attempt(conn, new_job.job_id, first_attempt(claim, new_job.job_id, now))
        if request is not None:
            remember_key(conn, request, new_job.job_id, now)
        return job_from_row(inserted, ()), True

    @transaction(write=False)
    def get_job(
        self, conn: Connection, tenant_id: str, job_id: str, *, with_workflow: bool = True
    ) -> Job:
        if with_workflow:
            return q.load_job(conn, job_id, tenant_id)
        return q.load_job_without_graph(conn, job_id, tenant_id)

    @transaction(write=False)
    def get_output(
        self, conn: Connection, tenant_id: str, job_id: str, index: int
    ) -> JobOutput | None:
        return q.load_output(conn, tenant_id, job_id, index)

    @transaction(write=False)
    def list_jobs(
        self,
        conn: Connection,
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
        rows = list(conn.execute(query).mappings())
        page = rows[:limit]
        outputs = q.load_outputs(conn, [row["job_id"] for row in page])
        listed = tuple(job_from_row(row, outputs[row["job_id"]]) for row in page)
        return JobPage(
            jobs=listed, next_cursor=_cursor_after(listed) if len(rows) > limit else None
        )

    @transaction(write=False)
    def list_attempts(self, conn: Connection, tenant_id: str, job_id: str) -> tuple[Attempt, ...]:
        q.job_row(conn, job_id, tenant_id)
        query = (
            select(job_attempts)
            .where(job_attempts.c.job_id == job_id)
            .order_by(job_attempts.c.number)
        )
        return tuple(attempt_from_row(row) for row in conn.execute(query).mappings())

    @transaction(write=False)
    def count_active(self, conn: Connection, tenant_id: str | None = None) -> ActiveCounts:
        counts = q.count_by_status(conn, tenant_id)
        return ActiveCounts(
            queued=counts.get(JobStatus.QUEUED.value, 0),
            running=counts.get(JobStatus.RUNNING.value, 0),
        )

    @transaction(write=True)
    def request_cancel(self, conn: Connection, tenant_id: str, job_id: str) -> Job:
        row = q.job_row(conn, job_id, tenant_id, lock=True)
        status = JobStatus(row["status"])
        if status.is_terminal:
            check_transition(status, JobStatus.CANCELLED, job_id=job_id)
        if status is JobStatus.QUEUED and row["claimed_by"] is None:
            return self._cancel_now(conn, job_id)
        if not row["cancel_requested"]:
            q.update_job(conn, job_id, cancel_requested=True)
        return q.load_job(conn, job_id)

    def _cancel_now(self, conn: Connection, job_id: str) -> Job:
        now = self._clock.now()
        q.update_job(
            conn, job_id, status=JobStatus.CANCELLED.value, completed_at=now, cancel_requested=True
        )
        job = q.load_job(conn, job_id)
        q.insert_outbox_entry(conn, job, now)
        return job

    @transaction(write=False)
    def due_webhooks(self, conn: Connection, limit: int = 100) -> tuple[OutboxEntry, ...]:
        query = (
            select(webhook_outbox)
            .where(due_outbox_rows(self._clock.now()))
            .order_by(webhook_outbox.c.id)
            .limit(limit)
        )
        return tuple(outbox_entry_from_row(row) for row in conn.execute(query).mappings())


def _cursor_after(page: Sequence[Job]) -> str:
    last = page[-1]
    return encode_cursor(ListPosition(created_at=last.created_at, job_id=last.job_id))


def _implements_job_store(store: SqlJobStore) -> JobStore:
    return store  # mypy proves here that SqlJobStore satisfies the JobStore protocol
