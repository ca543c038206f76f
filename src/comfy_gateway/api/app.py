"""The app factory: one `ApiContext` in, the whole HTTP API out.

Errors raised below the routes (store, domain) that a route did not turn into an answer
itself are mapped here, so every one of them still reaches the client in the one error
shape instead of a bare 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.errors import ApiError, error_response, install_error_handlers
from comfy_gateway.api.job_lookup import job_not_found
from comfy_gateway.api.log_redaction import install_log_redaction
from comfy_gateway.api.routes import (
    cancel,
    events,
    health,
    jobs_read,
    outputs,
    shim,
    submit,
    templates,
)
from comfy_gateway.jobs.domain_errors import GraphEditError
from comfy_gateway.jobs.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCursor,
    JobNotFound,
    QueueFull,
    StoreError,
)
from comfy_gateway.templates import TemplateError

QUEUE_FULL_RETRY_AFTER_S = 5

logger = logging.getLogger(__name__)


def api_error_for(exc: Exception) -> ApiError:
    """The answer for a domain or store error that reached the app unhandled."""
    if isinstance(exc, JobNotFound):
        return job_not_found(exc.job_id)
    if isinstance(exc, InvalidCursor):
        return ApiError(400, "invalid_cursor", str(exc))
    if isinstance(exc, IllegalTransition):
        return ApiError(409, "illegal_transition", str(exc))
    if isinstance(exc, QueueFull):
        headers = {"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)}
        return ApiError(429, "queue_full", str(exc), headers=headers)
    if isinstance(exc, IdempotencyKeyReused):
        return ApiError(422, "idempotency_key_reused", str(exc), job_id=exc.job_id)
    if isinstance(exc, GraphEditError):
        return ApiError(exc.http_status, exc.code, exc.message, **exc.details)
    assert isinstance(exc, StoreError)
    return ApiError(503, "store_unavailable", "the job store is not answering; retry later")


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, StoreError):
        # The client gets a plain 503; the driver's words go to our log only.
        logger.error("store error on %s %s: %s", request.method, request.url.path, exc)
    return error_response(api_error_for(exc))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette logs the exception and re-raises it after this answer is sent; the
    # client only learns that it was our fault, in the usual shape.
    return error_response(ApiError(500, "internal_error", "an unexpected error occurred"))


async def _template_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TemplateError)
    return JSONResponse(exc.as_error_body(), status_code=exc.http_status)


def install_domain_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TemplateError, _template_error)
    for error_type in (
        JobNotFound,
        InvalidCursor,
        IllegalTransition,
        QueueFull,
        IdempotencyKeyReused,
        GraphEditError,
        StoreError,
    ):
        app.add_exception_handler(error_type, _domain_error)
    app.add_exception_handler(Exception, _unexpected_error)


def create_app(context: ApiContext, *, sse_keep_alive_s: float = 15.0) -> FastAPI:
    """The API over ``context``; OpenAPI at ``/openapi.json``, docs at ``/docs``."""
    app = FastAPI(
        title="comfy-gateway",
        summary="A reliable job API in front of ComfyUI workflows.",
        version="0.1.0",
        docs_url="/docs",
    )
    app.state.context = context
    events.install_event_streams(app, keep_alive_s=sse_keep_alive_s)
    install_error_handlers(app)
    install_domain_error_handlers(app)
    install_log_redaction()
    for module in (submit, jobs_read, outputs, events, cancel, health, templates, shim):
        app.include_router(module.router)
    templates.install_template_openapi(app, context)
    return app
