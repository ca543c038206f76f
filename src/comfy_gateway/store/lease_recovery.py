"""Lease recovery on the SQL store: the reaper, re-attaching attempts, counted retries.

A mixin of :class:`~comfy_gateway.store.sql_store.SqlJobStore` (it uses the store's
transactions and clock). :class:`LeaseStore` is the job store the worker needs: the
``JobStore`` protocol plus these three operations.

- The reaper hands jobs whose lease ran out back to the queue: the holder is cleared
  (so its fencing token stops working), while status, prompt id and the open attempt
  stay, because the prompt may still be running in ComfyUI and the next claim must
  re-attach to it instead of running it again.
- Re-attaching to a prompt continues its open attempt: one execution is one attempt,
  however many workers followed it.
- A retry after a lost backend closes the attempt with what happened (the crash).
- An attempt that never started (its prompt never reached ComfyUI) does not count.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from comfy_gateway.jobs.model import Attempt, Job
from comfy_gateway.jobs.status import JobStatus, check_transition
from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.clock import Clock
from comfy_gateway.store.interface import JobStore
from comfy_gateway.store.rows import attempt_from_row
from comfy_gateway.store.schema import job_attempts, jobs

DEFAULT_REAP_BATCH = 100


@runtime_checkable
class LeaseStore(JobStore, Protocol):
    """A job store that can also reap leases, resume attempts and retry with a reason."""

    async def reap_expired_leases(self, limit: int = DEFAULT_REAP_BATCH) -> tuple[str, ...]:
        """Clear the holder of active jobs whose lease ran out; their ids."""
        ...

    async def resume_attempt(
        self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
    ) -> Attempt:
        """Follow an existing prompt: its open attempt continues (with the new client
        id); with no open attempt for that prompt, a new attempt starts."""
        ...

    async def release_for_retry(self, job_id: str, fencing_token: int, detail: str) -> Job:
        """Back to queued; the attempt counts and ends ``retried`` with ``detail``."""
        ...

    async def drop_unstarted_attempt(self, job_id: str, fencing_token: int) -> bool:
        """End a queued job's open attempt as ``abandoned`` without counting it (its
        prompt never reached ComfyUI, or never started there); whether there was one."""
        ...


def require_lease_store(store: JobStore) -> LeaseStore:
    """``store`` as a :class:`LeaseStore`; TypeError for a store without lease recovery."""
    if not isinstance(store, LeaseStore):
        raise TypeError(f"{type(store).__name__} cannot recover leases (no LeaseRecovery)")
    return store


class LeaseRecovery:
    """The :class:`LeaseStore` operations, mixed into ``SqlJobStore``."""

    _clock: Clock

    if TYPE_CHECKING:

        def _transaction(self, *, write: bool) -> AbstractAsyncContextManager[AsyncConnection]: ...

        async def record_attempt_start(
            self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
        ) -> Attempt: ...

    async def reap_expired_leases(self, limit: int = DEFAULT_REAP_BATCH) -> tuple[str, ...]:
        async with self._transaction(write=True) as conn:
            now = self._clock.now()
            expired = (
                select(jobs.c.job_id)
                .where(
                    jobs.c.status.in_(q.ACTIVE_STATUSES),
                    jobs.c.claimed_by.is_not(None),
                    jobs.c.lease_expires_at <= now,
                )
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            job_ids = tuple((await conn.execute(expired)).scalars())
            if job_ids:
                # Who holds a job is not part of what a client sees: no version bump.
                await conn.execute(
                    update(jobs)
                    .where(jobs.c.job_id.in_(job_ids))
                    .values(claimed_by=None, lease_expires_at=None)
                )
        return job_ids

    async def resume_attempt(
        self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
    ) -> Attempt:
        async with self._transaction(write=True) as conn:
            await q.fenced_row(conn, job_id, fencing_token)
            same_prompt = and_(
                job_attempts.c.job_id == job_id,
                job_attempts.c.ended_at.is_(None),
                job_attempts.c.backend == backend,
                job_attempts.c.prompt_id == prompt_id,
            )
            resumed = await conn.execute(
                update(job_attempts)
                .where(same_prompt)
                .values(client_id=client_id)
                .returning(*job_attempts.c)
            )
            row = resumed.mappings().one_or_none()
        if row is not None:
            return attempt_from_row(row)
        return await self.record_attempt_start(job_id, fencing_token, backend, prompt_id, client_id)

    async def release_for_retry(self, job_id: str, fencing_token: int, detail: str) -> Job:
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            status = JobStatus(row["status"])
            if status is not JobStatus.QUEUED:
                check_transition(status, JobStatus.QUEUED, job_id=job_id)
            await q.close_open_attempt(conn, job_id, self._clock.now(), "retried", detail)
            await q.update_job(
                conn,
                job_id,
                status=JobStatus.QUEUED.value,
                claimed_by=None,
                lease_expires_at=None,
            )
            return await q.load_job(conn, job_id)

    async def drop_unstarted_attempt(self, job_id: str, fencing_token: int) -> bool:
        async with self._transaction(write=True) as conn:
            row = await q.fenced_row(conn, job_id, fencing_token)
            if JobStatus(row["status"]) is not JobStatus.QUEUED:
                return False
            if not await q.close_open_attempt(conn, job_id, self._clock.now(), "abandoned"):
                return False
            await q.update_job(conn, job_id, bump=False, attempts=jobs.c.attempts - 1)
            return True
