"""Handing a job the API has just accepted straight to a worker in the same process.

Normally a submit stores the job queued, the worker is woken, claims it in a second
transaction and records the attempt in a third before ``POST /prompt``. When a worker in
this process has a free slot on a connected backend that can run the job, it reserves
that slot *before* the job is stored; the store then inserts the job already claimed
(lease, fencing token, first attempt open) in the submit's own transaction, and the
worker starts it at once. The store inserts it so only while no other job waits to be
claimed, so the hand-off never jumps the queue; otherwise the job is stored queued as
always and the slot is given back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from comfy_gateway.jobs.model import Attempt, Claim, Job


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectClaim:
    """Who would hold the job and where its first attempt runs (prompt id = job id)."""

    worker_id: str
    lease_s: float
    backend: str
    client_id: str


class HandOffSlot(Protocol):
    """A worker slot held for one submit: ``start`` or ``give_back``, exactly once."""

    @property
    def claim_for(self) -> DirectClaim: ...

    def start(self, claim: Claim, attempt: Attempt) -> None:
        """The job was stored claimed as ``claim_for`` asked: run it now."""

    def give_back(self) -> None:
        """The job was stored unclaimed, replayed or not stored: free the slot."""


class JobHandOff(Protocol):
    """A worker that may take a job as it is stored."""

    def reserve(self, requirements: Mapping[str, Any] | None) -> HandOffSlot | None:
        """A slot for a job with these requirements (None: unknown), or None."""


def first_attempt(claim_for: DirectClaim, job_id: str, started_at: datetime) -> Attempt:
    """The attempt a job stored claimed starts with."""
    return Attempt(
        number=1,
        backend=claim_for.backend,
        prompt_id=job_id,
        client_id=claim_for.client_id,
        started_at=started_at,
    )


def handed_over(job: Job, claim_for: DirectClaim) -> tuple[Claim, Attempt] | None:
    """The claim and open attempt of a job the store kept for ``claim_for``; None when it
    stored the job unclaimed (something else was waiting)."""
    if job.claimed_by != claim_for.worker_id or job.lease_expires_at is None:
        return None
    claim = Claim(job=job, fencing_token=job.fencing_token, lease_expires_at=job.lease_expires_at)
    return claim, first_attempt(claim_for, job.job_id, job.created_at)
