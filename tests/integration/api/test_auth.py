"""Who may call: keys in three places, 401 with WWW-Authenticate, open mode, redaction."""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.log_redaction import (
    REDACTED_LOGGERS,
    ApiKeyRedactingFilter,
    redact_api_key,
)
from comfy_gateway.auth import KeyRegistry
from integration.api.conftest import ACME_KEY, BASE_URL
from integration.api.worker_side import WorkerSide


async def test_no_key_is_401_with_www_authenticate(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/jobs")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthorized"


async def test_wrong_key_is_401_invalid_token(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/jobs", headers={"X-API-Key": "not-a-key"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({"X-API-Key": ACME_KEY}, {}),
        ({"Authorization": f"Bearer {ACME_KEY}"}, {}),
        ({"Authorization": f"bearer   {ACME_KEY}"}, {}),
        ({}, {"api_key": ACME_KEY}),
    ],
    ids=["x-api-key", "bearer", "bearer-lowercase", "query"],
)
async def test_each_way_of_sending_the_key_reaches_the_tenant(
    anon_client: httpx.AsyncClient,
    worker_side: WorkerSide,
    headers: dict[str, str],
    params: dict[str, str],
) -> None:
    job = await worker_side.submit("acme")
    response = await anon_client.get(f"/v1/jobs/{job.job_id}", headers=headers, params=params)
    assert response.status_code == 200
    assert response.json()["job_id"] == job.job_id


async def test_other_authorization_schemes_are_not_keys(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/v1/jobs", headers={"Authorization": f"Basic {ACME_KEY}"})
    assert response.status_code == 401


async def test_open_mode_makes_every_caller_tenant_default(
    api_context: ApiContext, worker_side: WorkerSide
) -> None:
    open_app = create_app(dataclasses.replace(api_context, keys=KeyRegistry()))
    mine = await worker_side.submit("default")
    acme_job = await worker_side.submit("acme")
    transport = httpx.ASGITransport(app=open_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as anyone:
        listed = (await anyone.get("/v1/jobs")).json()["jobs"]
        foreign = await anyone.get(f"/v1/jobs/{acme_job.job_id}")
    assert [job["job_id"] for job in listed] == [mine.job_id]
    assert foreign.status_code == 404


def test_redact_api_key_replaces_only_the_value() -> None:
    text = 'GET /v1/jobs/1/events?x=1&api_key=s3cret&y=2 HTTP/1.1" 200'
    redacted = redact_api_key(text)
    assert "s3cret" not in redacted
    assert "x=1&api_key=[redacted]&y=2" in redacted


def test_filter_redacts_uvicorn_style_access_record_args() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/jobs/j/events?api_key=s3cret", "1.1", 200),
        None,
    )
    assert ApiKeyRedactingFilter().filter(record) is True
    assert "s3cret" not in record.getMessage()
    assert "api_key=[redacted]" in record.getMessage()


@pytest.fixture
def unredacted_loggers() -> None:
    """Loggers without our filter, so only the test's own app can have added it."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        for installed in [f for f in logger.filters if isinstance(f, ApiKeyRedactingFilter)]:
            logger.removeFilter(installed)


def test_the_app_installs_redaction_on_uvicorn_access_log(
    unredacted_loggers: None, api_context: ApiContext, caplog: pytest.LogCaptureFixture
) -> None:
    create_app(api_context)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s"', "127.0.0.1", "GET", f"/v1/jobs?api_key={ACME_KEY}"
        )
    assert ACME_KEY not in caplog.text
    assert "api_key=[redacted]" in caplog.text


async def test_a_real_access_log_line_never_shows_the_key(
    unredacted_loggers: None, server_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(f"{server_url}/v1/jobs", params={"api_key": ACME_KEY})
    assert response.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/v1/jobs?api_key=[redacted]" in line for line in lines), lines
    assert ACME_KEY not in caplog.text
