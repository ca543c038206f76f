"""The narrow interface between the job service and durable storage.

Client-side methods take ``tenant_id`` explicitly: a job of another tenant is simply
not found. Worker-side methods take the fencing token of the caller's claim and raise
:class:`~comfy_gateway.jobs.errors.LeaseLost` once the lease has moved on (another
claim, a release, or the job finished). Claiming is the only query across tenants.
The store never waits for changes; the ``JobEvents`` layer polls or listens.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from comfy_gateway.jobs.hand_off import DirectClaim
from comfy_gateway.jobs.model import Attempt, Claim, Job, JobError, JobOutput, JobPage, NewJob
from comfy_gateway.jobs.status import JobStatus

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueLimits:
    """Queue depth limits checked atomically with the insert (``None``: no limit)."""

    max_queued: int | None = None
    max_queued_per_tenant: int | None = None


class ActiveCounts(NamedTuple):
    """How many jobs are waiting (claimed or not) and running; unpacks as a pair."""

    queued: int
    running: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OutboxEntry:
    """A webhook delivery written with a job's terminal transition."""

    entry_id: int
    job_id: str
    tenant_id: str
    url: str
    event: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    delivered_at: datetime | None


class JobStore(Protocol):
    """Durable jobs with leases, fencing, attempts, idempotency and a webhook outbox.

    A worker's writes on a job it holds return the job without its graph (``workflow``
    None): the holder has the graph from its claim, and decoding it again on every
    write would cost more than the write."""

    async def close(self) -> None: ...

    async def create_job(
        self,
        new_job: NewJob,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        limits: QueueLimits | None = None,
        claim_for: DirectClaim | None = None,
    ) -> tuple[Job, bool]:
        """Store a queued job; ``(job, created)``. A replayed key with the same hash
        returns the first job with ``created=False``; another hash raises
        ``IdempotencyKeyReused``; a full queue raises ``QueueFull``. With ``claim_for``
        the job is stored already claimed as it asks, its first attempt open, if no
        other job waits to be claimed (see ``jobs/hand_off.py``)."""
        ...

    async def get_job(self, tenant_id: str, job_id: str, *, with_workflow: bool = True) -> Job:
        """The job of ``tenant_id`` (``JobNotFound`` otherwise); ``with_workflow=False``
        leaves its graph unread (``workflow`` None), as every client-facing read does."""
        ...

    async def get_output(self, tenant_id: str, job_id: str, index: int) -> JobOutput | None:
        """Output ``index`` of the tenant's job (None: it has no such output), in one read
        that decodes nothing else; ``JobNotFound`` as ``get_job``."""
        ...

    async def list_jobs(
        self,
        tenant_id: str,
        statuses: Collection[JobStatus] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> JobPage:
        """Newest first; jobs come without their workflow (``workflow is None``)."""
        ...

    async def list_attempts(self, tenant_id: str, job_id: str) -> tuple[Attempt, ...]: ...

    async def count_active(self, tenant_id: str | None = None) -> ActiveCounts: ...

    async def request_cancel(self, tenant_id: str, job_id: str) -> Job:
        """Queued and unclaimed: cancelled at once. Claimed or running: flag set for the
        worker. Terminal: ``IllegalTransition``."""
        ...

    async def claimable_job_waiting(self) -> bool:
        """Whether any job waits to be claimed (a read: no write lock is taken)."""
        ...

    async def claim_next_job(
        self,
        worker_id: str,
        lease_s: float,
        *,
        can_run: Callable[[Mapping[str, Any] | None], bool] | None = None,
    ) -> Claim | None:
        """Highest priority, then oldest, among queued jobs nobody holds and active jobs
        whose lease expired (a running one is taken over: look its prompt up first).
        The status does not change. The claimed job may carry ``cancel_requested``.
        ``can_run`` (given the job's stored requirements, None if unknown) skips jobs
        this worker must not hold."""
        ...

    async def heartbeat(self, job_id: str, fencing_token: int, lease_s: float) -> Job:
        """Extend the lease; the returned job tells whether a cancel was requested.
        A lease that ran out is still extended as long as nobody claimed the job since."""
        ...

    async def record_attempt_start(
        self, job_id: str, fencing_token: int, backend: str, prompt_id: str, client_id: str
    ) -> Attempt: ...

    async def record_prompt_id(self, job_id: str, fencing_token: int, prompt_id: str) -> Job:
        """The backend answered with another prompt id than the one we sent."""
        ...

    async def mark_running(
        self, job_id: str, fencing_token: int, started_at: datetime | None = None
    ) -> Job: ...

    async def update_progress(
        self, job_id: str, fencing_token: int, progress: float, details: dict[str, Any]
    ) -> Job:
        """Progress never goes down, and stays below 100 until the job completes."""
        ...

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
        started_at: datetime | None = None,
    ) -> Job:
        """One transaction: outputs, terminal status, attempt ended, webhook outbox row.
        ``progress_details`` (if given) replaces the stored ones, e.g. all nodes done.
        ``started_at``: the prompt started then, and the job may still be stored queued
        (its ``running`` not written yet): it goes through running to ``status``, and
        its attempt counts as one that started."""
        ...

    async def release_job(self, job_id: str, fencing_token: int, count_attempt: bool) -> Job:
        """Back to queued with the lease cleared (the prompt id is kept for re-attach)."""
        ...

    async def due_webhooks(self, limit: int = 100) -> tuple[OutboxEntry, ...]:
        """Undelivered outbox entries whose next attempt is due, oldest first."""
        ...
