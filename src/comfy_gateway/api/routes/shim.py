"""The shim-compatible API: ``POST /run`` and ``GET /status/{job_id}``.

Clients written for an older shim in front of ComfyUI call these. A ``/run`` form is
turned into an ordinary submit and handed to the same use-case as ``POST /v1/jobs``
(same keys, tenancy, caps, media rules and queue limits); only the answers keep the old
shapes (see `shim_shapes`). The graph comes from a ``workflow`` part, from a
``workflow_path`` inside the template folders, or from the configured default.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from comfy_gateway.api.auth_dependency import Context, Tenant
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.intake.body import BodyKind, body_kind, parse_json
from comfy_gateway.api.intake.idempotency import check_idempotency_key
from comfy_gateway.api.intake.multipart import FilePart, media_files, open_form, part_text
from comfy_gateway.api.intake.submission import Submission, SubmitOutcome, submit_job
from comfy_gateway.api.job_lookup import find_job
from comfy_gateway.api.routes.submit import multipart_limits, parse_submit_request
from comfy_gateway.api.shim_shapes import (
    WORKFLOW_FIELD,
    RunOptions,
    job_answer,
    queued_answer,
    run_options,
    timeout_answer,
    workflow_of_document,
)
from comfy_gateway.api.wait import job_location, wait_for_request
from comfy_gateway.templates.errors import TemplateNotFound
from comfy_gateway.templates.paths import check_relative_path

#: Placeholder values come as plain fields, so allow more than ``/v1/jobs``' handful.
MAX_FORM_FIELDS = 64

router = APIRouter(tags=["shim"])

_FORM_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "Multipart form: 'workflow' (an API-format graph as a JSON file or field) or "
            "'workflow_path' (a file inside the template folders), else the configured "
            "default workflow; 'wait' (default true) and 'wait_timeout_s'; an 'image' file "
            "wired at __INPUT_IMAGE_FILENAME__; every other field fills the placeholder of "
            "its upper-case name ('prompt' fills __PROMPT__)."
        ),
        "content": {"multipart/form-data": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/run",
    summary="Run a workflow (shim-compatible)",
    openapi_extra=_FORM_DOC,
    responses={
        200: {"description": "{job_id, status} without wait; {job_id, status, outputs} after"},
        403: {"description": "workflow_path resolves outside the template folders"},
        404: {"description": "workflow_path names no file"},
        422: {"description": "no workflow given and no default configured"},
        504: {"description": "{message, job_id}: the wait budget ran out; the job goes on"},
    },
)
async def run(request: Request, tenant: Tenant, context: Context) -> JSONResponse:
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    if body_kind(request.headers.get("content-type")) is not BodyKind.MULTIPART:
        raise ApiError(415, "unsupported_media_type", "/run takes multipart/form-data")
    options, outcome = await _submit_form(request, context, tenant, key)
    if not options.wait:
        return JSONResponse(queued_answer(outcome.job))
    return await _answer_after_wait(request, context, tenant, options, outcome)


@router.get("/status/{job_id}", summary="A job's status and outputs (shim-compatible)")
async def status(job_id: str, request: Request, tenant: Tenant, context: Context) -> dict[str, Any]:
    job = await find_job(context.store, tenant, job_id)
    return job_answer(job, str(request.base_url))


async def _submit_form(
    request: Request, context: ApiContext, tenant: str, key: str | None
) -> tuple[RunOptions, SubmitOutcome]:
    limits = multipart_limits(context.settings)
    async with open_form(request, limits, max_fields=MAX_FORM_FIELDS) as form:
        files = media_files(form)
        options = run_options(_plain_fields(form), _media_names_by_field(form, files))
        workflow = await _workflow(form, options, context)
        parsed = parse_submit_request(
            {
                "workflow": workflow,
                "params": options.params,
                "wait": options.wait,
                "wait_timeout_s": options.wait_timeout_s,
            }
        )
        submission = Submission(tenant_id=tenant, request=parsed, files=files, idempotency_key=key)
        return options, await submit_job(context, submission)


def _plain_fields(form: FormData) -> Iterator[tuple[str, str]]:
    """The text fields; a ``workflow`` sent as text is the graph, not a placeholder."""
    for name, value in form.multi_items():
        if isinstance(value, str) and name != WORKFLOW_FIELD:
            yield name, value


def _media_names_by_field(form: FormData, files: tuple[FilePart, ...]) -> dict[str, str]:
    """Each media file's media name, by the form field it came in."""
    by_field: dict[str, str] = {}
    for field_name, value in form.multi_items():
        part = next((part for part in files if part.upload is value), None)
        if part is None:
            continue
        if field_name in by_field:
            raise ApiError(
                422,
                "invalid_request",
                f"form field {field_name[:80]!r} holds more than one file",
                field=field_name[:200],
            )
        by_field[field_name] = part.name
    return by_field


async def _workflow(form: FormData, options: RunOptions, context: ApiContext) -> Any:
    """The graph to run: the ``workflow`` part, else ``workflow_path``, else the default."""
    parts = form.getlist(WORKFLOW_FIELD)
    if parts and options.workflow_path is not None:
        raise ApiError(422, "invalid_request", "give either 'workflow' or 'workflow_path'")
    if len(parts) > 1:
        raise ApiError(422, "invalid_request", "give one 'workflow' part")
    if parts:
        return parse_json(await part_text(parts[0]), what="the 'workflow' part")
    if options.workflow_path is not None:
        return workflow_of_document(await _read_workflow_path(context, options.workflow_path))
    default = context.settings.default_workflow
    if default is None:
        raise ApiError(
            422,
            "workflow_required",
            "send a 'workflow' part or a 'workflow_path'; no default workflow is configured",
        )
    return await _read_default_workflow(default)


async def _read_workflow_path(context: ApiContext, relative: str) -> Any:
    """The file's JSON; template errors (403 escape, 404 missing) reach the app's handler."""
    registry = context.templates
    if registry is None:
        # No folders configured: an escape is still refused as one before "not found".
        check_relative_path(relative)
        raise TemplateNotFound(relative)
    return await anyio.to_thread.run_sync(registry.read_path, relative)


async def _read_default_workflow(path: Path) -> Any:
    try:
        return json.loads(await anyio.Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Our configuration's fault, not the client's: a 500 that names no path.
        raise ApiError(
            500,
            "default_workflow_unreadable",
            "the configured default workflow cannot be read as JSON",
        ) from exc


async def _answer_after_wait(
    request: Request,
    context: ApiContext,
    tenant: str,
    options: RunOptions,
    outcome: SubmitOutcome,
) -> JSONResponse:
    job_id = outcome.job.job_id
    finished, budget = await wait_for_request(
        request, context, tenant, job_id, options.wait_timeout_s
    )
    if finished is None:
        return JSONResponse(
            timeout_answer(job_id, budget),
            status_code=504,
            headers={"Location": job_location(job_id)},
        )
    return JSONResponse(job_answer(finished, str(request.base_url)))


__all__ = ["MAX_FORM_FIELDS", "router"]
