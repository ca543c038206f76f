"""The job as the domain sees it: frozen, keyword-only records with no I/O.

JSON-shaped fields (workflow, params, details, timings) are plain dicts so they can be
serialised as they are; treat them as read-only. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from comfy_gateway.jobs.status import JobStatus

DEFAULT_TIMEOUT_S = 3600.0


@dataclass(frozen=True, kw_only=True, slots=True)
class JobError:
    """Why a job failed (or was cancelled), in the API's ``error`` shape."""

    code: str
    message: str
    node_id: str | None = None
    node_type: str | None = None
    exception_type: str | None = None
    node_errors: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class JobOutput:
    """One stored output file; ``index`` is 0-based and stable for the job's life."""

    index: int
    node_id: str
    kind: str
    filename: str
    subfolder: str
    content_type: str
    size_bytes: int
    sha256: str
    temporary: bool
    storage_key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MediaRef:
    """An input media item staged for upload; the bytes live at ``storage_key``, never in
    the database. ``filename`` is the ``<sha256>.<ext>`` name ComfyUI receives."""

    name: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    """One try at running a job on a backend (its own row in the store)."""

    number: int
    backend: str
    prompt_id: str
    client_id: str
    started_at: datetime
    ended_at: datetime | None = None
    outcome: str | None = None
    detail: str | None = None


class WebhookStatus(StrEnum):
    """Where the delivery of a job's webhook stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookDelivery:
    """The delivery state of a job's webhook (a job without ``webhook_url`` has none)."""

    status: WebhookStatus
    attempts: int
    last_error: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class NewJob:
    """What a submit stores: the job id is made by the caller, because the graph it
    carries already names it (``filename_prefix`` is rewritten to include it)."""

    job_id: str
    tenant_id: str
    workflow: dict[str, Any]
    priority: int = 0
    resolved_params: dict[str, Any] = field(default_factory=dict)
    media: tuple[MediaRef, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S
    webhook_url: str | None = None
    #: Node classes and model files the graph needs (``GraphRequirements.to_json()``);
    #: None when no node catalogue was known at submit.
    requirements: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    """A job as stored.

    ``version`` grows by one with every change a client could see (SSE event ids use
    it); heartbeats that only extend a lease do not bump it. ``workflow`` is ``None``
    when the job was loaded by a list, which leaves the graph out.
    """

    job_id: str
    tenant_id: str
    status: JobStatus
    priority: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    progress: float
    progress_details: dict[str, Any]
    error: JobError | None
    outputs: tuple[JobOutput, ...]
    timings: dict[str, int]
    attempts: int
    resolved_params: dict[str, Any]
    workflow: dict[str, Any] | None
    media: tuple[MediaRef, ...]
    timeout_s: float
    webhook_url: str | None
    version: int
    cancel_requested: bool
    claimed_by: str | None
    lease_expires_at: datetime | None
    fencing_token: int
    prompt_id: str | None
    backend: str | None
    webhook_delivery: WebhookDelivery | None = None
    #: What the graph needs to run (see ``NewJob.requirements``); None when unknown.
    requirements: dict[str, Any] | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """A worker's lease on a job: every later worker write must carry ``fencing_token``."""

    job: Job
    fencing_token: int
    lease_expires_at: datetime
    #: Whether the claim saw another claimable job behind this one (a hint: the worker
    #: claims again at once only then, instead of making an empty claim).
    more_waiting: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class JobPage:
    """One page of a job list, newest first; ``next_cursor`` is ``None`` on the last."""

    jobs: tuple[Job, ...]
    next_cursor: str | None
