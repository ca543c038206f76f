"""``GET /v1/jobs/{job_id}/events``: a job's life as Server-Sent Events.

The stream is built on `JobEvents.watch`: the watch is opened *before* the job is read,
so a change committed in between is never missed. A job that is already terminal gets one
``end`` event and the stream closes. Silence is broken by ``: keep-alive`` comments so
proxies keep the connection open; a client that went away is noticed both by Starlette
(which cancels the stream) and by the loop itself between waits.

On shutdown the server calls `close_event_streams(app)`: every open stream sends a final
``shutdown`` event (without an ``id``, so the client's Last-Event-ID stays put) and
closes, and EventSource reconnects to whichever instance serves next. Without it, a
graceful shutdown would wait for every SSE client to leave.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum, auto
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import StreamingResponse

from comfy_gateway.api.auth_dependency import Context, Tenant
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.job_lookup import find_job
from comfy_gateway.api.sse_frames import (
    KEEP_ALIVE_FRAME,
    RETRY_FRAME,
    SHUTDOWN_FRAME,
    change_events,
    parse_last_event_id,
    snapshot_events,
)
from comfy_gateway.events import JobWatch
from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.jobs.model import Job

DEFAULT_KEEP_ALIVE_S = 15.0
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

router = APIRouter(tags=["jobs"])


@dataclass(frozen=True, kw_only=True)
class EventStreamControl:
    """Per app: how long a stream may stay silent, and the signal that closes them all."""

    keep_alive_s: float = DEFAULT_KEEP_ALIVE_S
    closing: asyncio.Event = field(default_factory=asyncio.Event)


def install_event_streams(app: FastAPI, *, keep_alive_s: float = DEFAULT_KEEP_ALIVE_S) -> None:
    app.state.event_streams = EventStreamControl(keep_alive_s=keep_alive_s)


def close_event_streams(app: FastAPI) -> None:
    """End every open stream of ``app`` with a ``shutdown`` event (call on SIGTERM)."""
    stream_control(app).closing.set()


def stream_control(app: FastAPI) -> EventStreamControl:
    control = getattr(app.state, "event_streams", None)
    if control is None:  # an app built without the factory: install the defaults
        install_event_streams(app)
        control = app.state.event_streams
    assert isinstance(control, EventStreamControl)
    return control


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    *,
    job_id: str,
    request: Request,
    tenant: Tenant,
    context: Context,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Stream ``status``, ``progress``, ``output`` and ``end`` events of one job."""
    await find_job(context.store, tenant, job_id)  # 404 before the stream starts
    stream = _job_stream(request, context, tenant, job_id, parse_last_event_id(last_event_id))
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


async def _job_stream(
    request: Request, context: ApiContext, tenant: str, job_id: str, seen_version: int | None
) -> AsyncIterator[str]:
    yield RETRY_FRAME
    async with context.events.watch(tenant, job_id) as watch:
        try:
            job = await context.store.get_job(tenant, job_id, with_workflow=False)
        except JobNotFound:
            return  # deleted between the check and the watch (retention sweep)
        # A terminal job always ends with `end`, even for a client that saw it already:
        # EventSource reconnects whenever a stream closes, and `end` is its cue to stop.
        if job.is_terminal or seen_version is None or job.version > seen_version:
            for event in snapshot_events(job):
                yield event.encode()
        if job.is_terminal:
            return
        async for frame in _follow(request, watch, job, stream_control(request.app)):
            yield frame


async def _follow(
    request: Request, watch: JobWatch, job: Job, control: EventStreamControl
) -> AsyncIterator[str]:
    """Frames for every change after ``job`` until it is terminal, the client left, or
    the server closes its streams."""
    while not await request.is_disconnected():
        try:
            current = await _next_change_unless_closing(watch, job.version, control)
        except JobNotFound:
            return
        if current is _CLOSING:
            yield SHUTDOWN_FRAME
            return
        if current is None:
            yield KEEP_ALIVE_FRAME
            continue
        for event in change_events(job, current):
            yield event.encode()
        if current.is_terminal:
            return
        job = current


class _Closing(Enum):
    """The streams are closing (a sentinel distinct from "no change yet")."""

    CLOSING = auto()


_CLOSING = _Closing.CLOSING


async def _next_change_unless_closing(
    watch: JobWatch, after_version: int, control: EventStreamControl
) -> Job | _Closing | None:
    """The next change, None after ``keep_alive_s`` of silence, or `_CLOSING`."""
    if control.closing.is_set():
        return _CLOSING
    change = asyncio.ensure_future(watch.next_change(after_version, control.keep_alive_s))
    closing = asyncio.ensure_future(control.closing.wait())
    try:
        await asyncio.wait({change, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        change.cancel()
        closing.cancel()
    # A change that arrived together with the shutdown is still worth sending.
    if change.done() and not change.cancelled():
        return change.result()
    return _CLOSING
