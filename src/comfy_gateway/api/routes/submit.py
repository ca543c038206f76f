"""``POST /v1/jobs``: submit a workflow as JSON or multipart, optionally waiting for it.

The route is the I/O shell: it reads the body under its cap, validates it into a
`SubmitRequest` and hands it to the submit use-case; domain and store errors reach the
client through the app's error handlers. The body is read by hand rather than declared as
a FastAPI body parameter, because the cap must apply before anything is parsed.

A JSON body in the RunPod-style action form (``{"action": "wan22_i2v", …}``, also inside
``{"input": …}``) is a template request: it is rendered and then submitted exactly like
``POST /v1/templates/{name}/jobs``, through the same functions as any other submit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from comfy_gateway.api.auth_dependency import caller
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.intake.body import BodyKind, body_kind, read_json_body
from comfy_gateway.api.intake.idempotency import check_idempotency_key
from comfy_gateway.api.intake.multipart import MultipartLimits, open_multipart
from comfy_gateway.api.intake.submission import Submission, SubmitOutcome, submit_job
from comfy_gateway.api.job_body import job_body
from comfy_gateway.api.submit_models import SubmitRequest
from comfy_gateway.api.template_jobs import (
    TemplateRequest,
    prepare_template_request,
    template_registry,
)
from comfy_gateway.api.wait import job_location, wait_for_request, wait_timeout
from comfy_gateway.config import GatewaySettings
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job
from comfy_gateway.templates import is_action_form, parse_action_form

router = APIRouter(tags=["jobs"])

_REQUEST_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "JSON: {workflow, params, inputs, media, priority, timeout_s, webhook_url, wait, "
            "wait_timeout_s}. Multipart: a 'request' part holding that JSON (or a 'workflow' "
            "part holding just the graph) and one file part per media item, named by its "
            "filename. Or the action form of a template: {action: 'wan22_i2v', <template "
            "parameters>, <wait, priority, ...>}, optionally wrapped as {input: {...}}; '_' "
            "in the action stands for '-' in the template name (see GET /v1/templates)."
        ),
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "multipart/form-data": {"schema": {"type": "object"}},
        },
    }
}


def parse_submit_request(raw: Any) -> SubmitRequest:
    """Schema errors become FastAPI's 422, which the app answers in our error shape."""
    try:
        return SubmitRequest.model_validate(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def multipart_limits(settings: GatewaySettings) -> MultipartLimits:
    return MultipartLimits(
        body_bytes=settings.max_body_bytes,
        json_bytes=settings.max_json_body_bytes,
        media_items=settings.max_media_items,
        media_bytes=settings.max_media_bytes,
    )


@router.post(
    "/v1/jobs",
    status_code=202,
    summary="Submit a job",
    openapi_extra=_REQUEST_BODY_DOC,
    responses={
        200: {"description": "wait: the finished job; or an Idempotency-Key replay"},
        413: {"description": "body or media item over its size limit"},
        415: {"description": "neither application/json nor multipart/form-data"},
        429: {"description": "queue full; retry after Retry-After seconds"},
        504: {"description": "wait budget ran out; error.job_id names the job"},
    },
)
async def submit(request: Request) -> JSONResponse:
    context, tenant = await caller(request)  # not dependencies: see `caller`
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    job_id = new_job_id()
    # Watched before it is stored: a `wait` then starts from the stored job, unread.
    async with context.events.watch(tenant, job_id):
        parsed, outcome = await _submit_body(request, context, tenant, key, job_id)
        return await answer_submitted(request, context, tenant, parsed, outcome, job_id)


async def answer_submitted(  # noqa: PLR0917
    request: Request,
    context: ApiContext,
    tenant: str,
    parsed: SubmitRequest,
    outcome: SubmitOutcome,
    watched_job_id: str | None = None,
) -> JSONResponse:
    """202 (200 for a replay) with the job, or with ``wait`` the finished job or a 504.
    ``watched_job_id``: a job id the caller watched before the job was stored."""
    if parsed.wait:
        watched = outcome.created and outcome.job.job_id == watched_job_id
        known = outcome.job if watched else None
        return await _answer_after_wait(request, context, tenant, parsed, outcome, known)
    return _job_answer(outcome, status_code=202 if outcome.created else 200)


async def submit_template_request(
    context: ApiContext, tenant: str, prepared: TemplateRequest, key: str | None
) -> tuple[SubmitRequest, SubmitOutcome]:
    """A rendered template request through the one submit use-case."""
    parsed = parse_submit_request(prepared.body)
    submission = Submission(
        tenant_id=tenant,
        request=parsed,
        files=prepared.files,
        idempotency_key=key,
        resolved_params=prepared.resolved_params,
        hash_basis=prepared.hash_basis,
    )
    return parsed, await submit_job(context, submission)


async def _submit_body(
    request: Request, context: ApiContext, tenant: str, key: str | None, job_id: str
) -> tuple[SubmitRequest, SubmitOutcome]:
    settings = context.settings
    if body_kind(request.headers.get("content-type")) is BodyKind.JSON:
        raw = await read_json_body(request, settings.max_json_body_bytes)
        if is_action_form(raw):
            return await _submit_action(context, tenant, raw, key)
        parsed = parse_submit_request(raw)
        submission = Submission(
            tenant_id=tenant, request=parsed, idempotency_key=key, job_id=job_id
        )
        return parsed, await submit_job(context, submission)
    async with open_multipart(request, multipart_limits(settings)) as form:
        parsed = parse_submit_request(form.request)
        submission = Submission(
            tenant_id=tenant, request=parsed, files=form.files, idempotency_key=key, job_id=job_id
        )
        return parsed, await submit_job(context, submission)


async def _submit_action(
    context: ApiContext, tenant: str, raw: Any, key: str | None
) -> tuple[SubmitRequest, SubmitOutcome]:
    action = parse_action_form(raw)
    registry = template_registry(context)
    prepared = prepare_template_request(registry, action.template, action.params)
    return await submit_template_request(context, tenant, prepared, key)


async def _answer_after_wait(  # noqa: PLR0917
    request: Request,
    context: ApiContext,
    tenant: str,
    parsed: SubmitRequest,
    outcome: SubmitOutcome,
    known: Job | None,
) -> JSONResponse:
    job_id = outcome.job.job_id
    finished, budget = await wait_for_request(
        request, context, tenant, job_id, parsed.wait_timeout_s, known=known
    )
    if finished is None:
        raise wait_timeout(job_id, budget)
    return _job_answer(SubmitOutcome(job=finished, created=outcome.created), status_code=200)


def _job_answer(outcome: SubmitOutcome, *, status_code: int) -> JSONResponse:
    headers = {"Location": job_location(outcome.job.job_id)}
    if not outcome.created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(job_body(outcome.job), status_code=status_code, headers=headers)
