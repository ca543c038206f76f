"""Every error, whoever raises it (FastAPI, Starlette, auth, store), has one JSON shape."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from comfy_gateway.api.app import api_error_for
from comfy_gateway.jobs.domain_errors import UnfilledPlaceholder
from comfy_gateway.jobs.errors import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCursor,
    JobNotFound,
    QueueFull,
    StoreError,
)
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.status import JobStatus
from integration.api.conftest import BASE_URL


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)


async def test_unknown_route_is_404_in_our_shape(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_405_in_our_shape(client: httpx.AsyncClient) -> None:
    response = await client.put(f"/v1/jobs/{new_job_id()}")
    assert_error_shape(response, 405, "method_not_allowed")
    assert "allow" in response.headers


async def test_query_validation_is_422_in_our_shape(client: httpx.AsyncClient) -> None:
    error = assert_error_shape(
        await client.get("/v1/jobs", params={"limit": "x"}), 422, "invalid_request"
    )
    assert "limit" in str(error["message"])


async def test_auth_failure_is_401_in_our_shape(anon_client: httpx.AsyncClient) -> None:
    assert_error_shape(await anon_client.get("/v1/jobs"), 401, "unauthorized")


async def test_openapi_document_lists_our_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/outputs/{index}",
        "/v1/jobs/{job_id}/events",
        "/v1/jobs/{job_id}/cancel",
        "/health",
        "/ready",
    ):
        assert path in paths
    assert (await client.get("/docs")).status_code == 200


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (JobNotFound("j"), 404, "job_not_found"),
        (InvalidCursor("c"), 400, "invalid_cursor"),
        (IllegalTransition(JobStatus.COMPLETED, JobStatus.RUNNING), 409, "illegal_transition"),
        (QueueFull(10, 10), 429, "queue_full"),
        (IdempotencyKeyReused("k", "j"), 422, "idempotency_key_reused"),
        (UnfilledPlaceholder(["PROMPT"]), 422, "unfilled_placeholder"),
        (StoreError("database is locked"), 503, "store_unavailable"),
    ],
)
def test_domain_errors_that_reach_the_app_get_a_status_and_code(
    error: Exception, status: int, code: str
) -> None:
    api_error = api_error_for(error)
    assert (api_error.status_code, api_error.code) == (status, code)
    if isinstance(error, QueueFull):
        assert api_error.headers["Retry-After"].isdigit()
    if isinstance(error, StoreError):
        assert "locked" not in api_error.message  # driver detail stays in our logs


async def test_an_unexpected_exception_is_500_in_our_shape(app: FastAPI) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/test-only/explode", explode)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.get("/test-only/explode")
    error = assert_error_shape(response, 500, "internal_error")
    assert "secret" not in str(error["message"])
