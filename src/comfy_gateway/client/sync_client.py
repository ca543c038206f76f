"""`SyncGatewayClient`: the async client for code without an event loop.

Not a second implementation: every call runs the async `GatewayClient` on a private
``asyncio.Runner`` (one loop for the wrapper's life, so the connection pool is reused).
``stream_events`` steps the async generator one event at a time on that loop. Do not use
it from inside a running event loop; use `GatewayClient` there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from comfy_gateway.client.gateway_client import END_EVENT, GatewayClient
from comfy_gateway.client.job_view import JobView
from comfy_gateway.client.sse import JobEvent
from comfy_gateway.client.submission import Submission
from comfy_gateway.client.verified_write import DownloadedFile


class SyncGatewayClient:
    """Blocking twin of `GatewayClient`; same arguments, same methods, same errors."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        **options: Any,
    ) -> None:
        self._runner = asyncio.Runner()
        self._client = GatewayClient(base_url, api_key, transport, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._runner.run(self._client.aclose())
        finally:
            self._runner.close()

    def submit(self, submission: Submission, *, idempotency_key: str | None = None) -> JobView:
        return self._runner.run(self._client.submit(submission, idempotency_key=idempotency_key))

    def get_job(self, job_id: str) -> JobView:
        return self._runner.run(self._client.get_job(job_id))

    def cancel(self, job_id: str) -> JobView:
        return self._runner.run(self._client.cancel(job_id))

    def download_output(self, job: JobView, index: int, dest: Path) -> DownloadedFile:
        return self._runner.run(self._client.download_output(job, index, dest))

    def stream_events(
        self, job_id: str, last_event_id: str | None = None, *, reconnect: bool = True
    ) -> Generator[JobEvent, None, None]:
        """The job's events until its ``end``; leaving the loop early closes the stream."""
        events = self._client.stream_events(job_id, last_event_id, reconnect=reconnect)
        try:
            while True:
                try:
                    yield self._runner.run(_next_event(events))
                except StopAsyncIteration:
                    return
        finally:
            with contextlib.suppress(RuntimeError):  # the runner may already be closed
                self._runner.run(_close(events))

    def wait(self, job_id: str) -> JobView:
        """Block until the job is terminal; its final body."""
        with contextlib.closing(self.stream_events(job_id)) as events:
            for event in events:
                if event.event == END_EVENT:
                    return JobView.from_body(event.data)
        return self.get_job(job_id)


# Runner.run takes coroutines only, not the awaitables an async generator hands out.
async def _next_event(events: AsyncGenerator[JobEvent, None]) -> JobEvent:
    return await anext(events)


async def _close(events: AsyncGenerator[JobEvent, None]) -> None:
    await events.aclose()
