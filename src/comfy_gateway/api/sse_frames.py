"""Server-Sent Events of a job (pure): which events a change makes, and their wire form.

Every event carries ``id:`` = the job's version, so a client reconnecting with
``Last-Event-ID`` resumes after the last snapshot it saw. Events:

- ``status``: the whole job body, when the status or the cancel request changed (and as
  the first snapshot);
- ``progress``: ``{job_id, progress, progress_details}`` when either moved;
- ``output``: one output body per output that appeared;
- ``end``: the whole job body once the job is terminal; the stream then closes;
- ``shutdown`` (no ``id``): the server is going away; reconnect elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from comfy_gateway.api.job_body import job_body, output_body
from comfy_gateway.jobs.model import Job

RETRY_MS = 2000
RETRY_FRAME = f"retry: {RETRY_MS}\n\n"
KEEP_ALIVE_FRAME = ": keep-alive\n\n"
#: No ``id:``: the client's Last-Event-ID must still name the last job version it saw.
SHUTDOWN_FRAME = 'event: shutdown\ndata: {"reason":"the server is shutting down; reconnect"}\n\n'


@dataclass(frozen=True, kw_only=True)
class SseEvent:
    """One event: its name, JSON data and id (the job version)."""

    event: str
    data: dict[str, Any]
    event_id: int

    def encode(self) -> str:
        # Compact JSON has no newline, so one ``data:`` line carries it whole.
        data = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False)
        return f"id: {self.event_id}\nevent: {self.event}\ndata: {data}\n\n"


def parse_last_event_id(header: str | None) -> int | None:
    """The version a reconnecting client last saw; None if absent or not ours."""
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


def _status_event(job: Job) -> SseEvent:
    return SseEvent(event="status", data=job_body(job), event_id=job.version)


def _end_event(job: Job) -> SseEvent:
    return SseEvent(event="end", data=job_body(job), event_id=job.version)


def _progress_event(job: Job) -> SseEvent:
    data = {
        "job_id": job.job_id,
        "progress": job.progress,
        "progress_details": job.progress_details,
    }
    return SseEvent(event="progress", data=data, event_id=job.version)


def snapshot_events(job: Job) -> list[SseEvent]:
    """What a client that knows nothing (or something older) gets first."""
    return [_end_event(job)] if job.is_terminal else [_status_event(job)]


def change_events(previous: Job, current: Job) -> list[SseEvent]:
    """The events that take a client from ``previous`` to ``current``, ``end`` last."""
    events: list[SseEvent] = []
    if (current.status, current.cancel_requested) != (previous.status, previous.cancel_requested):
        events.append(_status_event(current))
    moved = (current.progress, current.progress_details) != (
        previous.progress,
        previous.progress_details,
    )
    if moved:
        events.append(_progress_event(current))
    seen = {output.index for output in previous.outputs}
    for output in current.outputs:
        if output.index not in seen:
            data = {"job_id": current.job_id, **output_body(current.job_id, output)}
            events.append(SseEvent(event="output", data=data, event_id=current.version))
    if current.is_terminal:
        events.append(_end_event(current))
    return events
