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

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.model import Attempt, Job
from comfy_gateway.jobs.status import JobStatus, check_transition
from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.clock import Clock
from comfy_gateway.store.interface import JobStore
from comfy_gateway.store.rows import attempt_from_row
from comfy_gateway.store.schema import job_attempts, jobs
from comfy_gateway.store.store_threads import transaction

DEFAULT_REAP_BATCH = 100
T = TypeVar("T")


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

        async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T: ...

        async def record_attempt_start(
            self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
        ) -> Attempt: ...

    @transaction(write=True)
    def reap_expired_leases(
        self, conn: Connection, limit: int = DEFAULT_REAP_BATCH
    ) -> tuple[str, ...]:
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
        job_ids = tuple(conn.execute(expired).scalars())
        if job_ids:
            # Who holds a job is not part of what a client sees: no version bump.
            conn.execute(
                update(jobs)
                .where(jobs.c.job_id.in_(job_ids))
                .values(claimed_by=None, lease_expires_at=None)
            )
        return job_ids

    async def resume_attempt(
        self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
    ) -> Attempt:
        resumed = await self._resume_open_attempt(
            job_id, fencing_token, backend, prompt_id, client_id
        )
        if resumed is not None:
            return resumed
        return await self.record_attempt_start(job_id, fencing_token, backend, prompt_id, client_id)

    @transaction(write=True)
    def _resume_open_attempt(  # noqa: PLR0917 - resume_attempt's own parameters
        self,
        conn: Connection,
        job_id: str,
        fencing_token: int,
        backend: str,
        prompt_id: str,
        client_id: str,
    ) -> Attempt | None:
        q.fenced_row(conn, job_id, fencing_token)
        same_prompt = and_(
            job_attempts.c.job_id == job_id,
            job_attempts.c.ended_at.is_(None),
            job_attempts.c.backend == backend,
            job_attempts.c.prompt_id == prompt_id,
        )
        resumed = conn.execute(
            update(job_attempts)
            .where(same_prompt)
            .values(client_id=client_id)
            .returning(*job_attempts.c)
        )
        row = resumed.mappings().one_or_none()
        return None if row is None else attempt_from_row(row)

    @transaction(write=True)
    def release_for_retry(
        self, conn: Connection, job_id: str, fencing_token: int, detail: str
    ) -> Job:
        row = q.fenced_row(conn, job_id, fencing_token)
        status = JobStatus(row["status"])
        if status is not JobStatus.QUEUED:
            check_transition(status, JobStatus.QUEUED, job_id=job_id)
        q.close_open_attempt(conn, job_id, self._clock.now(), "retried", detail)
        q.update_job(
            conn,
            job_id,
            status=JobStatus.QUEUED.value,
            claimed_by=None,
            lease_expires_at=None,
        )
        return q.load_job(conn, job_id)

    @transaction(write=True)
    def drop_unstarted_attempt(self, conn: Connection, job_id: str, fencing_token: int) -> bool:
        row = q.fenced_row(conn, job_id, fencing_token)
        if JobStatus(row["status"]) is not JobStatus.QUEUED:
            return False
        if not q.close_open_attempt(conn, job_id, self._clock.now(), "abandoned"):
            return False
        q.update_job(conn, job_id, bump=False, attempts=jobs.c.attempts - 1)
        return True
