"""``wait``: 200 with the job once it is terminal, or 504 carrying the job id.

The test plays the worker through the store (`worker_side`) once the submit's watch is
open, so nothing depends on timing except the budgets that are meant to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest

from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import SqlJobStore
from integration.api.conftest import ACME_KEY
from integration.api.recording_events import RecordingJobEvents
from integration.api.submit_fixtures import image_workflow, settings_fixture  # noqa: F401
from integration.api.worker_side import OutputFile, WorkerSide


def waiting_body(**fields: Any) -> dict[str, Any]:
    return {"workflow": image_workflow("plain.png"), "wait": True, **fields}


async def submitted_job_id(events: RecordingJobEvents) -> str:
    """The job of the pending submit, once its wait is watching it (two watches: the
    submit's own, opened before the job is stored, and the wait's)."""
    await events.wait_for_watches(2)
    return events.published[-1].job_id


async def test_wait_answers_200_when_the_job_completes(
    client: httpx.AsyncClient, events: RecordingJobEvents, worker_side: WorkerSide
) -> None:
    pending = asyncio.create_task(client.post("/v1/jobs", json=waiting_body()))
    job_id = await submitted_job_id(events)
    await worker_side.start(job_id)
    await worker_side.complete(job_id, [OutputFile(filename="out.png", data=b"png")])
    response = await pending

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["job_id"], body["status"]) == (job_id, "completed")
    assert [output["filename"] for output in body["outputs"]] == ["out.png"]
    assert response.headers["location"] == f"/v1/jobs/{job_id}"


async def test_wait_sees_a_job_that_ended_before_the_wait_began(
    client: httpx.AsyncClient, events: RecordingJobEvents, worker_side: WorkerSide
) -> None:
    # The worker finishes the job inside the submit's own publish, before the wait has
    # looked at it: the wait starts from the stored (queued) job without reading it
    # again, so only the watch opened before the job was stored can tell it ended.
    publish = events.publish
    finished: list[str] = []

    async def publish_then_finish(job: Job) -> None:
        await publish(job)
        if job.status is JobStatus.QUEUED and not finished:
            finished.append(job.job_id)
            await worker_side.start(job.job_id)
            await worker_side.complete(job.job_id, [OutputFile(filename="o.png", data=b"x")])

    events.publish = publish_then_finish  # type: ignore[method-assign]
    response = await client.post("/v1/jobs", json=waiting_body(wait_timeout_s=5))

    assert response.status_code == 200, response.text
    assert (response.json()["job_id"], response.json()["status"]) == (finished[0], "completed")


async def test_wait_answers_200_for_a_failed_job_too(
    client: httpx.AsyncClient, events: RecordingJobEvents, worker_side: WorkerSide
) -> None:
    pending = asyncio.create_task(client.post("/v1/jobs", json=waiting_body()))
    job_id = await submitted_job_id(events)
    await worker_side.fail(job_id)
    response = await pending

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"]["code"] == "execution_error"


async def test_wait_budget_out_answers_504_with_the_job_id(
    client: httpx.AsyncClient, store: SqlJobStore, events: RecordingJobEvents
) -> None:
    response = await client.post("/v1/jobs", json=waiting_body(wait_timeout_s=0.05))

    assert response.status_code == 504, response.text
    error = response.json()["error"]
    job_id = error["job_id"]
    assert error["code"] == "wait_timeout"
    assert response.headers["location"] == f"/v1/jobs/{job_id}"
    job = await store.get_job("acme", job_id)
    assert (job.status, job.cancel_requested) == (JobStatus.QUEUED, False)
    assert events.open_watches == 0


@pytest.mark.parametrize("settings", [{"max_wait_s": 0.05}], indirect=True)
async def test_wait_timeout_is_clamped_to_the_configured_maximum(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/jobs", json=waiting_body(wait_timeout_s=3600))

    assert response.status_code == 504
    assert "within 0.05 s" in response.json()["error"]["message"]


async def test_a_client_leaving_a_wait_does_not_cancel_the_job(
    client: httpx.AsyncClient, store: SqlJobStore, events: RecordingJobEvents
) -> None:
    pending = asyncio.create_task(client.post("/v1/jobs", json=waiting_body()))
    job_id = await submitted_job_id(events)
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await events.wait_for_watches(0)

    job = await store.get_job("acme", job_id)
    assert (job.status, job.cancel_requested) == (JobStatus.QUEUED, False)
    assert pending.cancelled()


async def test_a_replay_with_wait_answers_the_finished_first_job(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    headers = {"Idempotency-Key": "wait-replay"}
    first = await client.post("/v1/jobs", json=waiting_body(wait=False), headers=headers)
    job_id = first.json()["job_id"]
    await worker_side.complete(job_id)
    replay = await client.post("/v1/jobs", json=waiting_body(), headers=headers)

    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert (replay.json()["job_id"], replay.json()["status"]) == (job_id, "completed")


async def test_a_disconnect_ends_the_wait_at_once_and_leaves_the_job(
    app: Any, store: SqlJobStore, events: RecordingJobEvents
) -> None:
    # Driven as raw ASGI: httpx's transport cannot hang up while a response is pending.
    body = json.dumps(waiting_body(wait_timeout_s=600)).encode()
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    incoming.put_nowait({"type": "http.request", "body": body, "more_body": False})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return await incoming.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    serving = asyncio.create_task(app(submit_scope(len(body)), receive, send))
    job_id = await submitted_job_id(events)
    incoming.put_nowait({"type": "http.disconnect"})
    async with asyncio.timeout(5):  # far below the 600 s budget
        await serving

    assert events.open_watches == 0
    job = await store.get_job("acme", job_id)
    assert (job.status, job.cancel_requested) == (JobStatus.QUEUED, False)
    assert sent[0]["status"] == 504


def submit_scope(length: int) -> dict[str, Any]:
    headers = [
        (b"host", b"gateway.test"),
        (b"content-type", b"application/json"),
        (b"content-length", str(length).encode()),
        (b"x-api-key", ACME_KEY.encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/jobs",
        "raw_path": b"/v1/jobs",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("gateway.test", 80),
    }
