"""The SSE stream over a real socket (uvicorn in this event loop): headers and chunks as a
browser gets them, and a client that closes its connection ends the server's watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from integration.api.conftest import ACME_KEY
from integration.api.recording_events import RecordingJobEvents
from integration.api.worker_side import WorkerSide


async def read_until(lines: AsyncIterator[str], wanted: str) -> list[str]:
    seen = []
    async with asyncio.timeout(5):
        async for line in lines:
            seen.append(line)
            if wanted in line:
                return seen
    raise AssertionError(f"stream ended before {wanted!r}: {seen}")


async def test_stream_over_a_socket_and_disconnect(
    server_url: str, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    url = f"{server_url}/v1/jobs/{job.job_id}/events"
    async with (
        httpx.AsyncClient(timeout=5) as http,
        http.stream("GET", url, params={"api_key": ACME_KEY}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        lines = response.aiter_lines()
        seen = await read_until(lines, '"status":"queued"')
        assert seen[0] == "retry: 2000"
        assert seen[-2] == "event: status"
        await events.wait_for_watches(1)
        running = await worker_side.start(job.job_id)
        after = await read_until(lines, '"status":"running"')
        assert after[-3:-1] == [f"id: {running.version}", "event: status"]
    # The client has closed the connection: the server must notice and drop its watch.
    await events.wait_for_watches(0)
