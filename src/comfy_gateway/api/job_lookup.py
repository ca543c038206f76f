"""Finding a tenant's job for a request: unknown, malformed or foreign ids are all 404."""

from __future__ import annotations

from comfy_gateway.api.errors import ApiError
from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.jobs.ids import is_job_id
from comfy_gateway.jobs.model import Job
from comfy_gateway.store.interface import JobStore


def job_not_found(job_id: str) -> ApiError:
    # The same answer for every reason, so a caller cannot probe other tenants' ids.
    return ApiError(404, "job_not_found", f"job {job_id[:64]!r} not found")


async def find_job(store: JobStore, tenant_id: str, job_id: str) -> Job:
    """The job, or a 404 `ApiError`; a malformed id never reaches the store."""
    if not is_job_id(job_id):
        raise job_not_found(job_id)
    try:
        return await store.get_job(tenant_id, job_id, with_workflow=False)
    except JobNotFound as exc:
        raise job_not_found(job_id) from exc
