"""Which SSE events a job change makes, and their wire form (pure)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from comfy_gateway.api.sse_frames import (
    KEEP_ALIVE_FRAME,
    RETRY_FRAME,
    SseEvent,
    change_events,
    parse_last_event_id,
    snapshot_events,
)
from comfy_gateway.jobs.model import JobError
from comfy_gateway.jobs.status import JobStatus
from unit.events.job_snapshots import JOB_ID, make_job, make_output


def names(events: list[SseEvent]) -> list[str]:
    return [event.event for event in events]


def test_wire_form_has_id_event_and_one_data_line() -> None:
    event = SseEvent(event="progress", data={"text": "two\nlines", "p": 1.5}, event_id=7)
    wire = event.encode()
    assert wire.endswith("\n\n")
    lines = wire.rstrip("\n").split("\n")
    assert lines[:2] == ["id: 7", "event: progress"]
    assert len(lines) == 3
    assert json.loads(lines[2].removeprefix("data: ")) == {"text": "two\nlines", "p": 1.5}


def test_control_frames() -> None:
    assert RETRY_FRAME == "retry: 2000\n\n"
    assert KEEP_ALIVE_FRAME.startswith(":")


def test_snapshot_of_an_active_job_is_a_status_event() -> None:
    [event] = snapshot_events(make_job(version=3, status=JobStatus.RUNNING))
    assert (event.event, event.event_id, event.data["status"]) == ("status", 3, "running")


def test_snapshot_of_a_terminal_job_is_one_end_event() -> None:
    [event] = snapshot_events(make_job(version=8, status=JobStatus.CANCELLED))
    assert (event.event, event.event_id, event.data["status"]) == ("end", 8, "cancelled")


def test_a_change_nobody_can_see_makes_no_event() -> None:
    before = make_job(version=1)
    after = make_job(version=2, claimed_by="worker-1")
    assert change_events(before, after) == []


def test_status_change_then_progress() -> None:
    before = make_job(version=1)
    after = make_job(version=2, status=JobStatus.RUNNING, progress=12.5)
    events = change_events(before, after)
    assert names(events) == ["status", "progress"]
    assert events[1].data == {"job_id": JOB_ID, "progress": 12.5, "progress_details": {}}
    assert {event.event_id for event in events} == {2}


def test_progress_details_alone_make_a_progress_event() -> None:
    before = make_job(version=4, status=JobStatus.RUNNING)
    after = dataclasses.replace(before, version=5, progress_details={"step": 2, "steps": 4})
    assert names(change_events(before, after)) == ["progress"]


def test_a_cancel_request_is_a_status_event() -> None:
    before = make_job(version=4, status=JobStatus.RUNNING)
    after = dataclasses.replace(before, version=5, cancel_requested=True)
    [event] = change_events(before, after)
    assert (event.event, event.data["cancel_requested"]) == ("status", True)


def test_only_new_outputs_are_announced_and_end_comes_last() -> None:
    first = make_output(0, "a.png")
    before = make_job(version=5, status=JobStatus.RUNNING, outputs=(first,))
    after = make_job(
        version=6,
        status=JobStatus.FAILED,
        outputs=(first, make_output(1, "b.png")),
        error=JobError(code="execution_error", message="boom"),
    )
    events = change_events(before, after)
    assert names(events) == ["status", "output", "end"]
    assert (events[1].data["index"], events[1].data["filename"]) == (1, "b.png")
    assert events[1].data["url"] == f"/v1/jobs/{JOB_ID}/outputs/1"
    assert events[2].data["error"]["code"] == "execution_error"


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("12", 12), (" 7 ", 7), ("abc", None), ("-3", None)]
)
def test_last_event_id(header: str | None, expected: int | None) -> None:
    assert parse_last_event_id(header) == expected
