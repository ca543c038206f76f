"""The job body of API.md (202 on submit, 200 on get/wait, items of a list)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from comfy_gateway.jobs.model import Job, JobError, JobOutput, WebhookStatus


def format_time(moment: datetime | None) -> str | None:
    """RFC 3339, UTC, milliseconds, ``Z``."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def output_url(job_id: str, index: int) -> str:
    return f"/v1/jobs/{job_id}/outputs/{index}"


def error_body(error: JobError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    body: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "node_id": error.node_id,
        "node_type": error.node_type,
        "exception_type": error.exception_type,
    }
    if error.node_errors is not None:
        body["node_errors"] = error.node_errors
    return body


def output_body(job_id: str, output: JobOutput, url: str | None = None) -> dict[str, Any]:
    return {
        "index": output.index,
        "node_id": output.node_id,
        "kind": output.kind,
        "filename": output.filename,
        "content_type": output.content_type,
        "size_bytes": output.size_bytes,
        "sha256": output.sha256,
        "temporary": output.temporary,
        "url": url or output_url(job_id, output.index),
    }


def webhook_body(job: Job) -> dict[str, Any] | None:
    """Where the job's webhook delivery stands (``None``: the job has no webhook)."""
    if job.webhook_url is None:
        return None
    delivery = job.webhook_delivery
    return {
        "url": job.webhook_url,
        "status": (delivery.status if delivery else WebhookStatus.PENDING).value,
        "attempts": delivery.attempts if delivery else 0,
        "last_error": delivery.last_error if delivery else None,
    }


def job_body(job: Job) -> dict[str, Any]:
    """The public job body: no workflow, inputs, lease or fencing details."""
    return {
        "job_id": job.job_id,
        "status": job.status.value,
        "priority": job.priority,
        "created_at": format_time(job.created_at),
        "started_at": format_time(job.started_at),
        "completed_at": format_time(job.completed_at),
        "progress": job.progress,
        "progress_details": job.progress_details,
        "error": error_body(job.error),
        "outputs": [output_body(job.job_id, output) for output in job.outputs],
        "timings": job.timings,
        "attempts": job.attempts,
        "resolved_params": job.resolved_params,
        "cancel_requested": job.cancel_requested,
        "version": job.version,
        "webhook": webhook_body(job),
    }
