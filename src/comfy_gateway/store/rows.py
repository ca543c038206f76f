"""Conversions between database rows and the domain records (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from comfy_gateway.jobs.hand_off import DirectClaim
from comfy_gateway.jobs.model import (
    Attempt,
    Job,
    JobError,
    JobOutput,
    MediaRef,
    NewJob,
    WebhookDelivery,
    WebhookStatus,
)
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.interface import OutboxEntry

Row = Mapping[Any, Any]  # SQLAlchemy row mappings are keyed by names and columns


def new_job_values(new_job: NewJob) -> dict[str, Any]:
    """The columns a submitted job starts with (times and version set by the store)."""
    return {
        "job_id": new_job.job_id,
        "tenant_id": new_job.tenant_id,
        "status": JobStatus.QUEUED.value,
        "priority": new_job.priority,
        "started_at": None,
        "completed_at": None,
        "progress": 0.0,
        "progress_details": {},
        "error": None,
        "timings": {},
        "attempts": 0,
        "resolved_params": new_job.resolved_params,
        "workflow": new_job.workflow,
        "media": [asdict(item) for item in new_job.media],
        "timeout_s": new_job.timeout_s,
        "webhook_url": new_job.webhook_url,
        "requirements": new_job.requirements,
        "version": 1,
        "cancel_requested": False,
        "claimed_by": None,
        "lease_expires_at": None,
        "fencing_token": 0,
        "prompt_id": None,
        "backend": None,
    }


def claimed_values(claim_for: DirectClaim, job_id: str, now: datetime) -> dict[str, Any]:
    """The columns of a job stored already claimed, its first attempt open."""
    return {
        "claimed_by": claim_for.worker_id,
        "lease_expires_at": now + timedelta(seconds=claim_for.lease_s),
        "fencing_token": 1,
        "prompt_id": job_id,
        "backend": claim_for.backend,
        "attempts": 1,
    }


def error_to_json(error: JobError | None) -> dict[str, Any] | None:
    """The JSON kept in the ``error`` column; keys with no value are left out."""
    if error is None:
        return None
    return {key: value for key, value in asdict(error).items() if value is not None}


def error_from_json(data: Mapping[str, Any] | None) -> JobError | None:
    return None if data is None else JobError(**data)


def output_values(job_id: str, output: JobOutput) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "output_index": output.index,
        "node_id": output.node_id,
        "kind": output.kind,
        "filename": output.filename,
        "subfolder": output.subfolder,
        "content_type": output.content_type,
        "size_bytes": output.size_bytes,
        "sha256": output.sha256,
        "temporary": output.temporary,
        "storage_key": output.storage_key,
    }


def output_from_row(row: Row) -> JobOutput:
    return JobOutput(
        index=row["output_index"],
        node_id=row["node_id"],
        kind=row["kind"],
        filename=row["filename"],
        subfolder=row["subfolder"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        temporary=bool(row["temporary"]),
        storage_key=row["storage_key"],
    )


def attempt_from_row(row: Row) -> Attempt:
    return Attempt(
        number=row["number"],
        backend=row["backend"],
        prompt_id=row["prompt_id"],
        client_id=row["client_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        outcome=row["outcome"],
        detail=row["detail"],
    )


def job_from_row(row: Row, outputs: Iterable[JobOutput]) -> Job:
    """A :class:`Job` from its row; ``workflow`` is ``None`` when the row lacks it."""
    return Job(
        job_id=row["job_id"],
        tenant_id=row["tenant_id"],
        status=JobStatus(row["status"]),
        priority=row["priority"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
        progress=row["progress"],
        progress_details=row["progress_details"],
        error=error_from_json(row["error"]),
        outputs=tuple(sorted(outputs, key=lambda output: output.index)),
        timings=row["timings"],
        attempts=row["attempts"],
        resolved_params=row["resolved_params"],
        workflow=row.get("workflow"),
        media=tuple(MediaRef(**item) for item in row["media"]),
        timeout_s=row["timeout_s"],
        webhook_url=row["webhook_url"],
        version=row["version"],
        cancel_requested=bool(row["cancel_requested"]),
        claimed_by=row["claimed_by"],
        lease_expires_at=row["lease_expires_at"],
        fencing_token=row["fencing_token"],
        prompt_id=row["prompt_id"],
        backend=row["backend"],
        webhook_delivery=webhook_delivery_from_row(row),
        requirements=row.get("requirements"),
    )


def webhook_delivery_from_row(row: Row) -> WebhookDelivery | None:
    """The job's webhook state; a job with a URL but no state yet is pending."""
    if row["webhook_url"] is None:
        return None
    status = row.get("webhook_status")
    return WebhookDelivery(
        status=WebhookStatus(status) if status else WebhookStatus.PENDING,
        attempts=row.get("webhook_attempts") or 0,
        last_error=row.get("webhook_last_error"),
    )


def outbox_entry_from_row(row: Row) -> OutboxEntry:
    return OutboxEntry(
        entry_id=row["id"],
        job_id=row["job_id"],
        tenant_id=row["tenant_id"],
        url=row["url"],
        event=row["event"],
        payload=row["payload"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        attempts=row["attempts"],
        delivered_at=row["delivered_at"],
    )
