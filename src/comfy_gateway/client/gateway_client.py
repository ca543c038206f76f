"""`GatewayClient`: the async client of comfy-gateway's own API (not of ComfyUI).

One ``httpx.AsyncClient`` underneath; pass ``transport`` to run against an in-process app
(``httpx.ASGITransport``) or a mock. The API key goes out as ``Authorization: Bearer``
and only to the API's own origin: an output URL on another host (a presigned bucket URL,
or a redirect to one) never sees it, and httpx drops that header on cross-origin
redirects as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Generator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from comfy_gateway.client.errors import GatewayUnreachable
from comfy_gateway.client.http_answers import RETRYABLE_STATUSES, api_error, job_from_json
from comfy_gateway.client.job_view import JobView
from comfy_gateway.client.output_names import output_file_names, path_inside
from comfy_gateway.client.sse import JobEvent, SseDecoder, job_event
from comfy_gateway.client.submission import MEDIA_PART, REQUEST_PART, MediaFile, Submission
from comfy_gateway.client.verified_write import DownloadedFile, ExpectedContent, write_verified

END_EVENT = "end"
DEFAULT_RETRY_MS = 2000
_CHUNK_BYTES = 1 << 20


class _ApiKeyAuth(httpx.Auth):
    """Adds the key to requests for the API's own origin, and to nothing else."""

    def __init__(self, api_key: str, origin: httpx.URL) -> None:
        self._api_key = api_key
        self._origin = origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == _origin(self._origin):
            request.headers["Authorization"] = f"Bearer {self._api_key}"
        yield request


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _job_path(job_id: str, *rest: str) -> str:
    return "/".join(["/v1/jobs", quote(job_id, safe=""), *rest])


class _StreamInterrupted(Exception):
    """This connection of an event stream ended early; the reason says how."""


class GatewayClient:
    """Submit jobs, read them, follow their events, cancel them, download their outputs."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        timeout_s: float = 30.0,
        stream_idle_timeout_s: float = 60.0,
        reconnect_attempts: int = 5,
        max_reconnect_delay_s: float = 30.0,
    ) -> None:
        root = httpx.URL(base_url.rstrip("/") + "/")
        auth = _ApiKeyAuth(api_key, root) if api_key else None
        self._http = httpx.AsyncClient(
            base_url=root, auth=auth, transport=transport, timeout=timeout_s
        )
        # The server sends a keep-alive every 15 s, so a longer silence means a dead link.
        self._stream_timeout = httpx.Timeout(timeout_s, read=stream_idle_timeout_s)
        self._reconnect_attempts = reconnect_attempts
        self._max_reconnect_delay_s = max_reconnect_delay_s

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(
        self, submission: Submission, *, idempotency_key: str | None = None
    ) -> JobView:
        """``POST /v1/jobs``: JSON, or multipart when there are media files. With an
        ``idempotency_key`` a retried submit returns the first job instead of a second."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        if not submission.media:
            body = submission.request_body()
            answer = await self._send("POST", "/v1/jobs", json=body, headers=headers)
            return job_from_json(answer.text)
        with contextlib.ExitStack() as stack:
            files = _media_parts(stack, submission.media)
            data = {REQUEST_PART: submission.request_part()}
            answer = await self._send("POST", "/v1/jobs", data=data, files=files, headers=headers)
        return job_from_json(answer.text)

    async def get_job(self, job_id: str) -> JobView:
        """``GET /v1/jobs/{job_id}``."""
        return job_from_json((await self._send("GET", _job_path(job_id))).text)

    async def cancel(self, job_id: str) -> JobView:
        """``POST /v1/jobs/{job_id}/cancel``: the job as it is after the request (a running
        one is still ``running`` with its cancel requested)."""
        return job_from_json((await self._send("POST", _job_path(job_id, "cancel"))).text)

    async def stream_events(
        self, job_id: str, last_event_id: str | None = None, *, reconnect: bool = True
    ) -> AsyncGenerator[JobEvent, None]:
        """The job's events until its ``end``; a dropped stream is resumed with
        ``Last-Event-ID`` after the delay the server asked for (``retry:``)."""
        failures = 0
        retry_ms = DEFAULT_RETRY_MS
        while True:
            decoder = SseDecoder(last_event_id)
            decoder.retry_ms = retry_ms
            try:
                # aclosing: leaving at ``end`` must close the connection now, not at GC.
                async with contextlib.aclosing(self._events_once(job_id, decoder)) as events:
                    async for event in events:
                        failures = 0
                        last_event_id = event.id
                        yield event
                        if event.event == END_EVENT:
                            return
                reason = "the event stream ended before the job did"
            except _StreamInterrupted as exc:
                reason = str(exc)
            retry_ms = retry_ms if decoder.retry_ms is None else decoder.retry_ms
            failures += 1
            if not reconnect or failures > self._reconnect_attempts:
                raise GatewayUnreachable(f"events of job {job_id}: {reason}")
            await asyncio.sleep(min(retry_ms / 1000, self._max_reconnect_delay_s))

    async def _events_once(
        self, job_id: str, decoder: SseDecoder
    ) -> AsyncGenerator[JobEvent, None]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if decoder.last_event_id is not None:
            headers["Last-Event-ID"] = decoder.last_event_id
        url = _job_path(job_id, "events")
        try:
            async with self._http.stream(
                "GET", url, headers=headers, timeout=self._stream_timeout
            ) as response:
                await _raise_for_stream_status(response)
                async for line in response.aiter_lines():
                    event = decoder.feed_line(line)
                    if event is not None:
                        yield job_event(event)
        except httpx.TransportError as exc:
            raise _StreamInterrupted(_describe(exc)) from exc

    async def download_output(self, job: JobView, index: int, dest: Path) -> DownloadedFile:
        """Stream output ``index`` to ``dest`` (a file, or a folder to put it in under its
        sanitised name), checked against the job's size and sha256."""
        output = job.output(index)
        target = dest
        if await asyncio.to_thread(dest.is_dir):
            target = path_inside(dest, output_file_names(job.outputs)[index])
        expected = ExpectedContent(size_bytes=output.size_bytes, sha256=output.sha256)
        try:
            async with self._http.stream("GET", output.url, follow_redirects=True) as response:
                if response.is_error:
                    text = (await response.aread()).decode(errors="replace")
                    raise api_error(response.status_code, text)
                return await write_verified(response.aiter_bytes(_CHUNK_BYTES), target, expected)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"download of output {index}: {_describe(exc)}") from exc

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise GatewayUnreachable(f"{method} {url}: {_describe(exc)}") from exc
        if response.is_error:
            raise api_error(response.status_code, response.text)
        return response


async def _raise_for_stream_status(response: httpx.Response) -> None:
    if not response.is_error:
        return
    error = api_error(response.status_code, (await response.aread()).decode(errors="replace"))
    if response.status_code in RETRYABLE_STATUSES:
        raise _StreamInterrupted(str(error))
    raise error


def _media_parts(
    stack: contextlib.ExitStack, media: Sequence[MediaFile]
) -> list[tuple[str, tuple[str, Any, str]]]:
    """Open every file for httpx to stream (it reads them in chunks, never whole)."""
    return [
        (MEDIA_PART, (item.name, stack.enter_context(item.path.open("rb")), item.content_type))
        for item in media
    ]


def _describe(exc: httpx.TransportError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
