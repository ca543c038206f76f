"""The job domain: records, the status state machine, ids and errors (no I/O here)."""

from comfy_gateway.jobs.errors import (
    ConstraintViolation,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCursor,
    JobNotFound,
    JobOperationError,
    LeaseLost,
    QueueFull,
    StoreError,
)
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import (
    Attempt,
    Claim,
    Job,
    JobError,
    JobOutput,
    JobPage,
    MediaRef,
    NewJob,
)
from comfy_gateway.jobs.status import JobStatus, check_transition

__all__ = [
    "Attempt",
    "Claim",
    "ConstraintViolation",
    "IdempotencyKeyReused",
    "IllegalTransition",
    "InvalidCursor",
    "Job",
    "JobError",
    "JobNotFound",
    "JobOperationError",
    "JobOutput",
    "JobPage",
    "JobStatus",
    "LeaseLost",
    "MediaRef",
    "NewJob",
    "QueueFull",
    "StoreError",
    "check_transition",
    "new_job_id",
]
