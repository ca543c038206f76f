"""Errors of the job domain and of the job store.

They hang under :class:`comfy_gateway.errors.GatewayError`::

    GatewayError
    └── JobOperationError        (named apart from the JobError record in jobs.model)
        ├── IllegalTransition        the state machine refuses a status change
        ├── JobNotFound              no such job for this tenant (or a malformed id)
        ├── LeaseLost                a worker write carried a stale fencing token
        ├── IdempotencyKeyReused     same Idempotency-Key, different request body
        ├── QueueFull                the queue depth limit refuses a new job
        ├── InvalidCursor            a list cursor we did not issue
        └── StoreError               the store itself failed (driver error, locked database)
            └── ConstraintViolation  a unique or foreign key constraint refused a write

The API maps them to HTTP answers (409, 404, 422, 429, 400, 503); the worker treats
``LeaseLost`` as "stop working on this job, someone else owns it now".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comfy_gateway.errors import GatewayError

if TYPE_CHECKING:
    from comfy_gateway.jobs.status import JobStatus


class JobOperationError(GatewayError):
    """Root of the job and store errors: an operation on jobs was refused or failed."""


class IllegalTransition(JobOperationError):
    """A status change that the job state machine does not allow."""

    def __init__(self, old: JobStatus, new: JobStatus, *, job_id: str | None = None) -> None:
        where = f"job {job_id}: " if job_id else ""
        super().__init__(f"{where}a {old.value} job cannot become {new.value}")
        self.old = old
        self.new = new
        self.job_id = job_id


class JobNotFound(JobOperationError):
    """No job with this id is visible to this tenant."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class LeaseLost(JobOperationError):
    """The worker's lease on the job moved on: its fencing token is no longer current."""

    def __init__(self, job_id: str, fencing_token: int) -> None:
        super().__init__(
            f"job {job_id}: fencing token {fencing_token} is no longer current; "
            "another worker owns the job or it has finished"
        )
        self.job_id = job_id
        self.fencing_token = fencing_token


class IdempotencyKeyReused(JobOperationError):
    """The Idempotency-Key was already used by this tenant with a different request."""

    def __init__(self, idempotency_key: str, job_id: str) -> None:
        super().__init__(
            f"Idempotency-Key {idempotency_key!r} was already used for job {job_id} "
            "with a different request body; use a new key"
        )
        self.idempotency_key = idempotency_key
        self.job_id = job_id


class QueueFull(JobOperationError):
    """The configured queue depth (global or per tenant) is reached."""

    def __init__(self, queued: int, limit: int, *, tenant_id: str | None = None) -> None:
        scope = f"tenant {tenant_id}" if tenant_id else "the gateway"
        super().__init__(f"{scope} already has {queued} queued jobs (limit {limit}); retry later")
        self.queued = queued
        self.limit = limit
        self.tenant_id = tenant_id


class InvalidCursor(JobOperationError):
    """A list cursor that this store did not issue (or that was altered)."""

    def __init__(self, cursor: str) -> None:
        super().__init__(f"invalid list cursor {cursor[:40]!r}; start again without a cursor")
        self.cursor = cursor


class StoreError(JobOperationError):
    """The job store failed (driver error, database locked for too long, schema trouble)."""


class ConstraintViolation(StoreError):
    """A unique or foreign key constraint refused a write (a duplicate id or index)."""
