"""Jobs that end with a webhook to deliver, made through the store's own API."""

from __future__ import annotations

from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import SqlJobStore
from integration.store.job_builders import make_new_job

TENANT = "tenant-a"


async def finished_job_with_webhook(
    store: SqlJobStore, url: str, status: JobStatus = JobStatus.COMPLETED
) -> str:
    """A job that went through claim and ``finish_job``: one outbox row for ``url``."""
    job, _ = await store.create_job(make_new_job(TENANT, webhook_url=url))
    claim = await store.claim_next_job("worker-webhooks", 30.0)
    assert claim is not None
    assert claim.job.job_id == job.job_id
    if status is not JobStatus.CANCELLED:
        await store.record_attempt_start(job.job_id, claim.fencing_token, "gpu0", job.job_id, "c")
        await store.mark_running(job.job_id, claim.fencing_token)
    await store.finish_job(job.job_id, claim.fencing_token, status)
    return job.job_id
