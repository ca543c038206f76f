"""The job lifecycle: statuses and the table of legal moves between them.

Claiming a job does not change its status (a claimed job is still ``queued`` until
ComfyUI starts executing its prompt), so claims are not transitions here.
"""

from __future__ import annotations

from enum import StrEnum

from comfy_gateway.jobs.errors import IllegalTransition


class JobStatus(StrEnum):
    """Where a job is in its life; the last three are terminal."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return not self.is_terminal


TERMINAL_STATUSES: frozenset[JobStatus] = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}
)

# queued→failed covers jobs that expire or that no backend supports; running→queued is a
# retry (an attempt counted) or a release on shutdown (not counted).
LEGAL_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.QUEUED, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def can_transition(old: JobStatus, new: JobStatus) -> bool:
    """Whether the state machine allows ``old`` → ``new``."""
    return new in LEGAL_TRANSITIONS[old]


def check_transition(old: JobStatus, new: JobStatus, *, job_id: str | None = None) -> None:
    """Raise :class:`IllegalTransition` unless ``old`` → ``new`` is a legal move."""
    if not can_transition(old, new):
        raise IllegalTransition(old, new, job_id=job_id)
