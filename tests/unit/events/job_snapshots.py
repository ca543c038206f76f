"""Job snapshots for unit tests (no store): every field filled, a few chosen."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from comfy_gateway.jobs.model import Job, JobOutput
from comfy_gateway.jobs.status import JobStatus

JOB_ID = "0193a5f0-0000-7000-8000-000000000001"


def make_job(version: int = 1, status: JobStatus = JobStatus.QUEUED, **changes: Any) -> Job:
    job = Job(
        job_id=JOB_ID,
        tenant_id="acme",
        status=status,
        priority=0,
        created_at=datetime(2026, 11, 22, 18, 40, 1, 123456, tzinfo=UTC),
        started_at=None,
        completed_at=None,
        progress=0.0,
        progress_details={},
        error=None,
        outputs=(),
        timings={},
        attempts=0,
        resolved_params={},
        workflow=None,
        media=(),
        timeout_s=3600.0,
        webhook_url=None,
        version=version,
        cancel_requested=False,
        claimed_by=None,
        lease_expires_at=None,
        fencing_token=0,
        prompt_id=None,
        backend=None,
    )
    return dataclasses.replace(job, **changes)


def make_output(index: int, filename: str = "out.png") -> JobOutput:
    return JobOutput(
        index=index,
        node_id="9",
        kind="image",
        filename=filename,
        subfolder="",
        content_type="image/png",
        size_bytes=10,
        sha256="0" * 64,
        temporary=False,
        storage_key=f"acme/{JOB_ID}/{index}-{filename}",
    )
