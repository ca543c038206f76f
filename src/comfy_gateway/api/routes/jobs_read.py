"""``GET /v1/jobs/{job_id}`` (optionally with outputs inlined as base64) and ``GET /v1/jobs``."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError

from comfy_gateway.api.auth_dependency import Context, Tenant, caller, documented_parameters
from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.job_body import job_body
from comfy_gateway.api.job_lookup import find_job
from comfy_gateway.api.routes.outputs import output_expired
from comfy_gateway.jobs.errors import InvalidCursor
from comfy_gateway.jobs.model import Job, JobOutput
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import BlobNotFound, BlobStore

MB = 1024 * 1024
#: Inlined outputs travel in one JSON body; past this, clients should download them.
INLINE_LIMIT_BYTES = 20 * MB
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

router = APIRouter(tags=["jobs"])
T = TypeVar("T")


def parse_status_filter(raw: str | None) -> frozenset[JobStatus] | None:
    """``"queued,running"`` → statuses; an unknown name is a 422 naming the valid ones."""
    if raw is None or not raw.strip():
        return None
    names = {part.strip().lower() for part in raw.split(",") if part.strip()}
    unknown = sorted(names - {status.value for status in JobStatus})
    if unknown:
        valid = ", ".join(status.value for status in JobStatus)
        raise ApiError(422, "invalid_status", f"unknown status {unknown[0]!r}; use one of: {valid}")
    return frozenset(JobStatus(name) for name in names)


def check_inline_size(job: Job) -> None:
    total = sum(output.size_bytes for output in job.outputs)
    if total > INLINE_LIMIT_BYTES:
        raise ApiError(
            413,
            "inline_too_large",
            f"the outputs total {total} bytes, over the {INLINE_LIMIT_BYTES} bytes that can "
            "be inlined; download them from their url instead",
            size_bytes=total,
            limit_bytes=INLINE_LIMIT_BYTES,
        )


async def read_whole_blob(blobs: BlobStore, job_id: str, output: JobOutput) -> bytes:
    try:
        return b"".join([chunk async for chunk in blobs.read(output.storage_key)])
    except BlobNotFound as exc:
        raise output_expired(job_id, output) from exc


async def inline_outputs(blobs: BlobStore, job: Job, body: dict[str, Any]) -> None:
    """Add ``base64`` (the file's bytes) to every output of ``body``."""
    check_inline_size(job)
    for output, listed in zip(job.outputs, body["outputs"], strict=True):
        data = await read_whole_blob(blobs, job.job_id, output)
        listed["base64"] = base64.b64encode(data).decode("ascii")


_INCLUDE: TypeAdapter[Literal["base64"] | None] = TypeAdapter(Literal["base64"] | None)


@router.get(
    "/v1/jobs/{job_id}",
    openapi_extra=documented_parameters(path=("job_id",), query=("include",)),
)
async def get_job(request: Request) -> JSONResponse:
    """The job body; ``?include=base64`` inlines every output (20 MB in all at most)."""
    context, tenant = await caller(request)  # not dependencies: see `caller`
    include = query_value(request, "include", _INCLUDE)
    job = await find_job(context.store, tenant, request.path_params["job_id"])
    body = job_body(job)
    if include == "base64":
        await inline_outputs(context.blobs, job, body)
    return JSONResponse(body)


def query_value(request: Request, name: str, adapter: TypeAdapter[T]) -> T:
    """A query parameter checked as FastAPI would (its 422 names ``query.<name>``)."""
    try:
        return adapter.validate_python(request.query_params.get(name))
    except ValidationError as exc:
        errors = [{**error, "loc": ("query", name, *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


@router.get("/v1/jobs")
async def list_jobs(
    tenant: Tenant,
    context: Context,
    status: Annotated[str | None, Query(description="comma-separated statuses")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    """The tenant's jobs, newest first, one page at a time."""
    statuses = parse_status_filter(status)
    try:
        page = await context.store.list_jobs(tenant, statuses, limit, cursor or None)
    except InvalidCursor as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from exc
    return {"jobs": [job_body(job) for job in page.jobs], "next_cursor": page.next_cursor}
