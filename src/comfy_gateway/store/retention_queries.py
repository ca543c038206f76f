"""Retention's queries: find jobs that ended long ago, delete old records in batches.

A mixin of :class:`~comfy_gateway.store.sql_store.SqlJobStore`. Every write deletes at
most one batch in its own short transaction, so a large backlog never holds SQLite's
write lock for long. Only jobs in a terminal state are ever returned or deleted: a
queued or running job has no ``completed_at`` and is never touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import ColumnElement, and_, delete, or_, select, tuple_
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.status import TERMINAL_STATUSES
from comfy_gateway.store.clock import Clock
from comfy_gateway.store.schema import idempotency_keys, job_outputs, jobs, metadata
from comfy_gateway.store.store_threads import transaction

T = TypeVar("T")

_TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
# Child rows go first, so the deletes do not depend on ON DELETE CASCADE being enforced
# (SQLite enforces it only with PRAGMA foreign_keys). Found from the schema, so a table
# added later that points at a job is cleared too.
_CHILD_TABLES = tuple(
    table
    for table in metadata.sorted_tables
    if any(key.column is jobs.c.job_id for key in table.foreign_keys)
)


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepPosition:
    """Where a scan of ended jobs stopped: the order is (completed_at, job_id)."""

    completed_at: datetime
    job_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class EndedJob:
    """A job in a terminal state and the blob keys its records name."""

    job_id: str
    tenant_id: str
    completed_at: datetime
    output_keys: tuple[str, ...]
    media_keys: tuple[str, ...]

    @property
    def position(self) -> SweepPosition:
        return SweepPosition(completed_at=self.completed_at, job_id=self.job_id)

    @property
    def blob_prefix(self) -> str:
        """The folder of every blob of this job: ``{tenant}/{job_id}``."""
        return f"{self.tenant_id}/{self.job_id}"


class RetentionQueries:
    """Store methods of the retention sweeper (mixed into `SqlJobStore`)."""

    _clock: Clock

    if TYPE_CHECKING:

        async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T: ...

    def retention_now(self) -> datetime:
        """The store's clock: retention ages are measured on the same clock as the jobs."""
        return self._clock.now()

    @transaction(write=False)
    def ended_jobs(
        self,
        conn: Connection,
        *,
        ended_before: datetime,
        after: SweepPosition | None,
        limit: int,
    ) -> tuple[EndedJob, ...]:
        """Up to ``limit`` terminal jobs that ended at or before ``ended_before``, oldest
        first, starting after ``after``; with their output and media blob keys."""
        _check_limit(limit)
        query = (
            select(jobs.c.job_id, jobs.c.tenant_id, jobs.c.completed_at, jobs.c.media)
            .where(_ended_at_or_before(ended_before))
            .order_by(jobs.c.completed_at, jobs.c.job_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(_later_than(after))
        rows = list(conn.execute(query).mappings())
        keys = _output_keys(conn, [row["job_id"] for row in rows])
        return tuple(
            EndedJob(
                job_id=row["job_id"],
                tenant_id=row["tenant_id"],
                completed_at=row["completed_at"],
                output_keys=keys[row["job_id"]],
                media_keys=tuple(item["storage_key"] for item in row["media"]),
            )
            for row in rows
        )

    async def delete_ended_jobs(self, job_ids: Collection[str], *, ended_before: datetime) -> int:
        """Delete these jobs with their outputs, attempts, idempotency keys and webhook
        rows, in one transaction; a job not (or no longer) ended by then is kept."""
        if not job_ids:
            return 0
        return await self._delete_ended(list(job_ids), ended_before)

    @transaction(write=True)
    def _delete_ended(self, conn: Connection, job_ids: list[str], ended_before: datetime) -> int:
        due = select(jobs.c.job_id).where(
            jobs.c.job_id.in_(job_ids), _ended_at_or_before(ended_before)
        )
        doomed = list(conn.execute(due).scalars())
        for table in _CHILD_TABLES:
            conn.execute(delete(table).where(table.c.job_id.in_(doomed)))
        result = conn.execute(delete(jobs).where(jobs.c.job_id.in_(doomed)))
        return int(result.rowcount)

    @transaction(write=True)
    def delete_idempotency_keys(
        self, conn: Connection, *, created_before: datetime, limit: int
    ) -> int:
        """Forget up to ``limit`` idempotency keys made at or before ``created_before``."""
        _check_limit(limit)
        key_columns = (idempotency_keys.c.tenant_id, idempotency_keys.c.idempotency_key)
        oldest = (
            select(*key_columns)
            .where(idempotency_keys.c.created_at <= created_before)
            .order_by(idempotency_keys.c.created_at)
            .limit(limit)
        )
        result = conn.execute(delete(idempotency_keys).where(tuple_(*key_columns).in_(oldest)))
        return int(result.rowcount)


def _ended_at_or_before(cutoff: datetime) -> ColumnElement[bool]:
    return and_(jobs.c.status.in_(_TERMINAL), jobs.c.completed_at <= cutoff)


def _later_than(position: SweepPosition) -> ColumnElement[bool]:
    return or_(
        jobs.c.completed_at > position.completed_at,
        and_(jobs.c.completed_at == position.completed_at, jobs.c.job_id > position.job_id),
    )


def _output_keys(conn: Connection, job_ids: Sequence[str]) -> defaultdict[str, tuple[str, ...]]:
    query = (
        select(job_outputs.c.job_id, job_outputs.c.storage_key)
        .where(job_outputs.c.job_id.in_(job_ids))
        .order_by(job_outputs.c.job_id, job_outputs.c.output_index)
    )
    keys: defaultdict[str, tuple[str, ...]] = defaultdict(tuple)
    for row in conn.execute(query):
        keys[row.job_id] += (row.storage_key,)
    return keys


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"a retention batch needs a limit of at least 1, not {limit}")
