"""``/v1/templates``: list and describe templates, and submit a job from one.

A template submit renders the template and then goes through the submit route's own
functions (`submit_template_request`, `answer_submitted`), so auth, tenancy, limits,
Idempotency-Key, ``wait`` and its 504 behave exactly as on ``POST /v1/jobs``.

The OpenAPI document is rebuilt from the registry on every request for it (the registry
may have been reloaded on SIGHUP): each template gets a request schema in
``components.schemas`` and a path of its own, ``/v1/templates/<name>/jobs``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from comfy_gateway.api.auth_dependency import Context, Tenant
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.intake.body import BodyKind, body_kind, read_json_body
from comfy_gateway.api.intake.idempotency import check_idempotency_key
from comfy_gateway.api.intake.multipart import FilePart, open_form
from comfy_gateway.api.intake.submission import SubmitOutcome
from comfy_gateway.api.routes.submit import (
    answer_submitted,
    multipart_limits,
    submit_template_request,
)
from comfy_gateway.api.submit_models import MAX_PRIORITY, SubmitRequest
from comfy_gateway.api.template_jobs import prepare_template_request, template_registry
from comfy_gateway.templates import (
    InvalidParameterValue,
    Template,
    TemplateRegistry,
    describe_template,
    parameters_json_schema,
)

router = APIRouter(tags=["templates"])

SUBMIT_PATH = "/v1/templates/{name}/jobs"
#: Plain fields of a multipart template submit: its parameters and the reserved options.
MAX_FORM_FIELDS = 64

#: The reserved fields of a template submit body, as JSON Schema.
RESERVED_OPTIONS_SCHEMA: dict[str, dict[str, Any]] = {
    "wait": {"type": "boolean", "default": False, "description": "answer when the job ends"},
    "wait_timeout_s": {"type": "number", "minimum": 0, "description": "wait budget (s)"},
    "priority": {"type": "integer", "minimum": -MAX_PRIORITY, "maximum": MAX_PRIORITY},
    "webhook_url": {"type": "string", "maxLength": 2048},
    "outputs": {"description": "reserved; accepted and currently ignored"},
    "timeout_s": {"type": "number", "exclusiveMinimum": 0},
}

_SUBMIT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": (
            "A flat JSON object: the template's parameters (see GET /v1/templates/{name}, or "
            "the per-template paths of this document) plus the reserved wait, "
            "wait_timeout_s, priority, webhook_url, outputs and timeout_s. Media "
            "parameters take base64 text, a data: URI or an http(s) URL. Or multipart: "
            "one field per parameter or option, a media parameter as a file part named "
            "after it."
        ),
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "multipart/form-data": {"schema": {"type": "object"}},
        },
    }
}


@router.get("/v1/templates", summary="List templates")
async def list_templates(tenant: Tenant, context: Context) -> dict[str, Any]:
    registry = template_registry(context)
    return {"templates": [describe_template(template) for template in registry.templates()]}


@router.get("/v1/templates/{name}", summary="Describe a template (parameters as JSON Schema)")
async def get_template(name: str, tenant: Tenant, context: Context) -> dict[str, Any]:
    return describe_template(template_registry(context).get(name))


@router.post(
    SUBMIT_PATH,
    status_code=202,
    summary="Submit a job from a template",
    openapi_extra=_SUBMIT_DOC,
    responses={
        200: {"description": "wait: the finished job; or an Idempotency-Key replay"},
        403: {"description": "a template name that is a path"},
        404: {"description": "no template of that name"},
        422: {"description": "unknown, missing or invalid parameter (error.parameter)"},
        429: {"description": "queue full; retry after Retry-After seconds"},
        504: {"description": "wait budget ran out; error.job_id names the job"},
    },
)
async def submit_from_template(
    name: str, request: Request, tenant: Tenant, context: Context
) -> JSONResponse:
    key = check_idempotency_key(request.headers.get("idempotency-key"))
    registry = template_registry(context)
    registry.get(name)  # an unknown name is a 404 (a path a 403) whatever the body holds
    if body_kind(request.headers.get("content-type")) is BodyKind.JSON:
        body = await _flat_json_body(request, context)
        prepared = prepare_template_request(registry, name, body)
        parsed, outcome = await submit_template_request(context, tenant, prepared, key)
    else:
        parsed, outcome = await _submit_form(request, context, tenant, name, key)
    return await answer_submitted(request, context, tenant, parsed, outcome)


async def _submit_form(
    request: Request, context: ApiContext, tenant: str, name: str, key: str | None
) -> tuple[SubmitRequest, SubmitOutcome]:
    limits = multipart_limits(context.settings)
    async with open_form(request, limits, max_fields=MAX_FORM_FIELDS) as form:
        fields, uploads = form_values(form)
        registry = template_registry(context)
        prepared = prepare_template_request(registry, name, fields, uploads=uploads)
        return await submit_template_request(context, tenant, prepared, key)


def form_values(form: FormData) -> tuple[dict[str, str], dict[str, FilePart]]:
    """Text fields by name, and file parts by field name (a name given twice is a 422)."""
    fields: dict[str, str] = {}
    uploads: dict[str, FilePart] = {}
    for field_name, value in form.multi_items():
        if field_name in fields or field_name in uploads:
            raise InvalidParameterValue(field_name, "given twice")
        if isinstance(value, str):
            fields[field_name] = value
        elif value.filename or value.size:  # an empty file input of an HTML form is absent
            content_type = value.headers.get("content-type")
            uploads[field_name] = FilePart(
                name=value.filename or field_name, content_type=content_type, upload=value
            )
    return fields, uploads


async def _flat_json_body(request: Request, context: ApiContext) -> dict[str, Any]:
    raw = await read_json_body(request, context.settings.max_json_body_bytes)
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid_request", "the body must be a JSON object of parameters")
    return raw


def template_request_schema(template: Template) -> dict[str, Any]:
    """The body schema of one template's submit: its parameters plus the reserved options."""
    schema = parameters_json_schema(template)
    schema["properties"] = {**schema["properties"], **RESERVED_OPTIONS_SCHEMA}
    return schema


def schema_component_name(template: Template) -> str:
    return f"TemplateJob_{template.name}"


def add_template_documents(document: dict[str, Any], registry: TemplateRegistry) -> None:
    """Add every template's request schema and its own submit path to ``document``."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generic = document.get("paths", {}).get(SUBMIT_PATH, {}).get("post", {})
    for template in registry.templates():
        component = schema_component_name(template)
        schemas[component] = template_request_schema(template)
        document["paths"][SUBMIT_PATH.replace("{name}", template.name)] = {
            "post": _template_operation(generic, template, component)
        }


def _template_operation(
    generic: dict[str, Any], template: Template, component: str
) -> dict[str, Any]:
    operation = copy.deepcopy(generic)
    operation["summary"] = f"Submit a {template.name} job"
    operation["description"] = template.description
    operation["operationId"] = f"submit_template_{template.name.replace('-', '_')}"
    operation["parameters"] = [
        param for param in operation.get("parameters", []) if param.get("name") != "name"
    ]
    reference = {"$ref": f"#/components/schemas/{component}"}
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": reference}},
    }
    return operation


def install_template_openapi(app: FastAPI, context: ApiContext) -> None:
    """Make ``app.openapi()`` include the templates the registry holds right now."""
    base_openapi: Callable[[], dict[str, Any]] = app.openapi

    def openapi_with_templates() -> dict[str, Any]:
        document = copy.deepcopy(base_openapi())  # the base is cached; ours is not
        add_template_documents(document, template_registry(context))
        return document

    app.openapi = openapi_with_templates  # type: ignore[method-assign]
