"""`GatewayClient` over httpx's MockTransport (no sockets): where the key goes, how error
answers become `GatewayApiError`, and how an event stream resumes after it ends early."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from comfy_gateway.client import (
    GatewayApiError,
    GatewayClient,
    GatewayUnreachable,
    JobView,
    OutputIntegrityError,
    Submission,
)

BASE = "http://gateway.test:8000"
JOB = {"job_id": "j1", "status": "queued", "outputs": []}

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, api_key: str | None = "secret") -> GatewayClient:
    return GatewayClient(
        BASE, api_key=api_key, transport=httpx.MockTransport(handler), max_reconnect_delay_s=0
    )


async def test_key_goes_as_bearer_to_the_api_only(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("authorization")))
        return httpx.Response(200, content=b"abc")

    job = JobView.from_body(
        {
            "job_id": "j1",
            "status": "completed",
            "outputs": [
                {"index": 0, "filename": "a.bin", "url": "/v1/jobs/j1/outputs/0"},
                {"index": 1, "filename": "b.bin", "url": "https://bucket.test/b?sig=1"},
            ],
        }
    )
    async with client_for(handler) as client:
        await client.download_output(job, 0, tmp_path)
        await client.download_output(job, 1, tmp_path)
    assert seen == [
        (f"{BASE}/v1/jobs/j1/outputs/0", "Bearer secret"),
        ("https://bucket.test/b?sig=1", None),
    ]
    assert (tmp_path / "b.bin").read_bytes() == b"abc"


async def test_submit_without_media_posts_json() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json=JOB)

    async with client_for(handler, api_key=None) as client:
        job = await client.submit(Submission(workflow={"1": {}}, priority=3))
        await client.submit(
            Submission(workflow={}, timeout_s=60, webhook_url="https://hook.test/x"),
            idempotency_key="once",
        )
    assert job.job_id == "j1"
    first, second = sent
    assert first.headers["content-type"] == "application/json"
    assert "idempotency-key" not in first.headers
    assert "authorization" not in first.headers
    assert first.content == b'{"workflow":{"1":{}},"priority":3}'
    assert second.headers["idempotency-key"] == "once"
    assert json.loads(second.content) == {
        "workflow": {},
        "priority": 0,
        "timeout_s": 60,
        "webhook_url": "https://hook.test/x",
    }


async def test_error_answer_becomes_gateway_api_error() -> None:
    body = {"error": {"code": "job_finished", "message": "already completed", "job_id": "j1"}}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json=body)

    async with client_for(handler) as client:
        with pytest.raises(GatewayApiError) as caught:
            await client.cancel("j1")
    error = caught.value
    assert (error.status, error.code, error.message) == (409, "job_finished", "already completed")
    assert error.body == body
    assert error.details == {"job_id": "j1"}


async def test_foreign_error_body_keeps_status_and_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad   Gateway</html>")

    async with client_for(handler) as client:
        with pytest.raises(GatewayApiError) as caught:
            await client.get_job("j1")
    assert (caught.value.code, caught.value.message) == ("http_502", "<html>Bad Gateway</html>")


async def test_connection_failure_becomes_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with client_for(handler) as client:
        with pytest.raises(GatewayUnreachable, match="refused"):
            await client.get_job("j1")


async def test_job_ids_are_quoted_into_the_path() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json=JOB)

    async with client_for(handler) as client:
        await client.get_job("../health")
    assert paths == ["/v1/jobs/..%2Fhealth"]


def sse(*frames: str) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content="".join(frames).encode()
    )


async def test_stream_resumes_with_last_event_id_after_an_early_end() -> None:
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("last-event-id"))
        if len(asked) == 1:
            return sse("retry: 0\n\n", 'id: 4\nevent: status\ndata: {"status":"running"}\n\n')
        return sse('id: 6\nevent: end\ndata: {"status":"completed"}\n\n')

    async with client_for(handler) as client:
        events = [event async for event in client.stream_events("j1", last_event_id="2")]
    assert asked == ["2", "4"]
    assert [(event.event, event.id) for event in events] == [("status", "4"), ("end", "6")]


async def test_stream_gives_up_after_its_reconnect_budget() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503, json={"error": {"code": "unavailable", "message": "busy"}})

    client = GatewayClient(
        BASE, transport=httpx.MockTransport(handler), reconnect_attempts=2, max_reconnect_delay_s=0
    )
    async with client:
        with pytest.raises(GatewayUnreachable, match="busy"):
            _ = [event async for event in client.stream_events("j1")]
    assert len(calls) == 3  # the first try and two reconnects


async def test_stream_of_an_unknown_job_fails_at_once() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(404, json={"error": {"code": "job_not_found", "message": "no"}})

    async with client_for(handler) as client:
        with pytest.raises(GatewayApiError, match="job_not_found"):
            _ = [event async for event in client.stream_events("j1")]
    assert calls == [1]


async def test_download_with_a_wrong_sha256_leaves_no_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"tampered")

    job = JobView.from_body(
        {
            "job_id": "j1",
            "status": "completed",
            "outputs": [{"index": 0, "filename": "a.png", "url": "/o/0", "sha256": "0" * 64}],
        }
    )
    async with client_for(handler) as client:
        with pytest.raises(OutputIntegrityError, match="sha256"):
            await client.download_output(job, 0, tmp_path / "a.png")
    assert [path async for path in anyio.Path(tmp_path).iterdir()] == []
