"""A tiny stand-in for comfy-gateway's API (FastAPI), served by uvicorn on a loopback port
in a thread, so the CLI under test talks to it over real sockets.

It imitates the shapes of API.md (job body, SSE frames with ``id:``/``event:``/``retry:``,
output downloads, our error JSON) and records what the client sent. Each job plays a
script: the SSE events it emits (ids 1, 2, …), optionally cutting the first connection
after some events to exercise resuming with ``Last-Event-ID``.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

RETRY_MS = 10


def job_body(job_id: str, status: str, **fields: Any) -> dict[str, Any]:
    """A job body in API.md's shape; ``fields`` override the defaults."""
    body: dict[str, Any] = {
        "job_id": job_id,
        "status": status,
        "priority": 0,
        "created_at": "2026-11-22T18:40:01.123Z",
        "started_at": None,
        "completed_at": None,
        "progress": 0.0,
        "progress_details": None,
        "error": None,
        "outputs": [],
        "timings": {},
        "attempts": 0,
        "resolved_params": {},
    }
    return {**body, **fields}


def output_body(job_id: str, index: int, filename: str, content: bytes) -> dict[str, Any]:
    return {
        "index": index,
        "node_id": "9",
        "kind": "image",
        "filename": filename,
        "content_type": "image/png",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "temporary": False,
        "url": f"/v1/jobs/{job_id}/outputs/{index}",
    }


@dataclass(kw_only=True)
class JobScript:
    """What the fake does for the next submitted job."""

    events: list[tuple[str, dict[str, Any]]]
    files: dict[int, bytes] = field(default_factory=dict)
    drop_first_stream_after: int | None = None
    #: Keep the stream open after the events (a job that never ends) until the client goes.
    hold_open: bool = False


@dataclass(frozen=True, kw_only=True)
class RecordedSubmit:
    content_type: str
    authorization: str | None
    request: dict[str, Any]
    files: dict[str, bytes]
    file_part_names: list[str]


class StreamCut(Exception):
    """Raised inside the SSE body: uvicorn then drops the connection mid-response."""


class FakeGateway:
    """State of the fake API, readable from the test thread."""

    def __init__(self, job_id: str = "0193a5e0-0000-7000-8000-000000000001") -> None:
        self.job_id = job_id
        self.script = JobScript(events=[])
        self.submit_error: tuple[int, dict[str, Any]] | None = None
        self.submits: list[RecordedSubmit] = []
        self.stream_requests: list[tuple[str | None, str | None]] = []
        self.cancels: list[str] = []
        self.stream_opened = threading.Event()
        self.app = self._build_app()

    def final_body(self) -> dict[str, Any]:
        return self.script.events[-1][1] if self.script.events else job_body(self.job_id, "queued")

    def _build_app(self) -> FastAPI:
        app = FastAPI()
        app.post("/v1/jobs")(self._submit)
        app.get("/v1/jobs/{job_id}")(self._get)
        app.get("/v1/jobs/{job_id}/events")(self._events)
        app.get("/v1/jobs/{job_id}/outputs/{index}")(self._output)
        app.post("/v1/jobs/{job_id}/cancel")(self._cancel)
        return app

    async def _submit(self, request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        files: dict[str, bytes] = {}
        part_names: list[str] = []
        if content_type.startswith("multipart/form-data"):
            async with request.form() as form:
                body = json.loads(str(form["request"]))
                for name, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        part_names.append(name)
                        files[value.filename or ""] = await value.read()
        else:
            body = await request.json()
        self.submits.append(
            RecordedSubmit(
                content_type=content_type.split(";")[0],
                authorization=request.headers.get("authorization"),
                request=body,
                files=files,
                file_part_names=part_names,
            )
        )
        if self.submit_error is not None:
            return JSONResponse(self.submit_error[1], status_code=self.submit_error[0])
        return JSONResponse(job_body(self.job_id, "queued"), status_code=202)

    async def _get(self, job_id: str) -> JSONResponse:
        return JSONResponse(self.final_body())

    async def _cancel(self, job_id: str) -> JSONResponse:
        self.cancels.append(job_id)
        return JSONResponse(job_body(job_id, "running", cancel_requested=True), status_code=202)

    async def _output(self, job_id: str, index: int) -> Response:
        return Response(self.script.files[index], media_type="application/octet-stream")

    async def _events(self, job_id: str, request: Request) -> StreamingResponse:
        last = request.headers.get("last-event-id")
        self.stream_requests.append((last, request.headers.get("authorization")))
        first_connection = len(self.stream_requests) == 1
        cut_after = self.script.drop_first_stream_after if first_connection else None
        frames = self._frames(int(last) if last else 0, cut_after)
        return StreamingResponse(frames, media_type="text/event-stream")

    async def _frames(self, after_id: int, cut_after: int | None) -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        self.stream_opened.set()
        sent = 0
        for event_id, (name, data) in enumerate(self.script.events, start=1):
            if event_id <= after_id:
                continue
            if cut_after is not None and sent == cut_after:
                raise StreamCut
            yield ": keep-alive\n\n"
            yield f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"
            sent += 1
        if self.script.hold_open:
            await anyio.sleep_forever()  # Starlette cancels this when the client leaves


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL. The socket listens
    before the thread starts, so the first request waits in its backlog, never fails."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan="off", ws="none", log_level="critical", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
