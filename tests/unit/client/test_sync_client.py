"""`SyncGatewayClient` runs the async client on its own loop: same answers, same errors,
events one at a time."""

from __future__ import annotations

import httpx
import pytest

from comfy_gateway.client import GatewayApiError, Submission, SyncGatewayClient

BASE = "http://gateway.test"


def handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if request.method == "POST" and path == "/v1/jobs":
        return httpx.Response(202, json={"job_id": "j1", "status": "queued"})
    if path == "/v1/jobs/j1/events":
        frames = (
            "retry: 0\n\n"
            'id: 1\nevent: status\ndata: {"job_id":"j1","status":"running"}\n\n'
            'id: 2\nevent: end\ndata: {"job_id":"j1","status":"completed"}\n\n'
        )
        return httpx.Response(200, content=frames.encode())
    if path == "/v1/jobs/j1":
        return httpx.Response(200, json={"job_id": "j1", "status": "running"})
    return httpx.Response(404, json={"error": {"code": "job_not_found", "message": "no job"}})


def make_client() -> SyncGatewayClient:
    return SyncGatewayClient(BASE, api_key="k", transport=httpx.MockTransport(handler))


def test_calls_block_and_answer() -> None:
    with make_client() as client:
        assert client.submit(Submission(workflow={})).job_id == "j1"
        assert client.get_job("j1").status == "running"
        with pytest.raises(GatewayApiError, match="job_not_found"):
            client.get_job("j2")


def test_events_arrive_one_by_one_and_wait_returns_the_end() -> None:
    with make_client() as client:
        seen = [(event.event, event.id) for event in client.stream_events("j1")]
        assert seen == [("status", "1"), ("end", "2")]
        assert client.wait("j1").status == "completed"


def test_leaving_the_stream_early_keeps_the_client_usable() -> None:
    with make_client() as client:
        for event in client.stream_events("j1"):
            assert event.event == "status"
            break
        assert client.get_job("j1").job_id == "j1"
