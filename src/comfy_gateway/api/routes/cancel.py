"""``POST /v1/jobs/{job_id}/cancel`` and its alias ``DELETE /v1/jobs/{job_id}``.

A queued job nobody holds is cancelled at once (200). A queued job a worker holds (claimed,
perhaps already waiting in ComfyUI's queue) is still queued to the client, so the answer
waits briefly for the worker to pull it back (it deletes the prompt from ComfyUI's
queue) and is 200 once it is cancelled; a running job gets a cancel request the worker
acts on by interrupting it (202). A finished job cannot be cancelled (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from comfy_gateway.api.auth_dependency import Context, Tenant
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.job_body import job_body
from comfy_gateway.api.job_lookup import find_job, job_not_found
from comfy_gateway.api.wait import wait_until_terminal
from comfy_gateway.jobs.errors import IllegalTransition, JobNotFound
from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus

router = APIRouter(tags=["jobs"])
#: How long a cancel of a claimed, still-queued job waits for the worker to drop it.
CLAIMED_CANCEL_GRACE_S = 5.0

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "cancelled at once"},
    202: {"description": "cancel requested; the worker stops the job"},
    409: {"description": "the job already finished"},
}


def already_finished(job_id: str, status: JobStatus) -> ApiError:
    return ApiError(
        409,
        "job_finished",
        f"job {job_id} is already {status.value} and cannot be cancelled",
        job_id=job_id,
        status=status.value,
    )


async def cancel_job(context: ApiContext, tenant: str, job_id: str) -> JSONResponse:
    """Ask the store to cancel, tell watchers, answer 200 or 202 with the job body."""
    job = await find_job(context.store, tenant, job_id)
    try:
        job = await context.store.request_cancel(tenant, job_id)
    except JobNotFound as exc:
        raise job_not_found(job_id) from exc
    except IllegalTransition as exc:
        raise already_finished(job.job_id, exc.old) from exc
    await context.events.publish(job)
    if job.status is JobStatus.QUEUED:
        job = await _await_worker_cancel(context, tenant, job)
    status = 200 if job.status is JobStatus.CANCELLED else 202
    return JSONResponse(job_body(job), status_code=status)


async def _await_worker_cancel(context: ApiContext, tenant: str, job: Job) -> Job:
    finished = await wait_until_terminal(
        context.events, context.store, tenant, job.job_id, CLAIMED_CANCEL_GRACE_S
    )
    return finished or job


@router.post("/v1/jobs/{job_id}/cancel", responses=_RESPONSES)
async def cancel(job_id: str, tenant: Tenant, context: Context) -> JSONResponse:
    """Cancel a job."""
    return await cancel_job(context, tenant, job_id)


@router.delete("/v1/jobs/{job_id}", responses=_RESPONSES)
async def delete_job(job_id: str, tenant: Tenant, context: Context) -> JSONResponse:
    """Alias of ``POST /v1/jobs/{job_id}/cancel``."""
    return await cancel_job(context, tenant, job_id)
