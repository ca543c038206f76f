"""GET /v1/jobs/{id}/events: snapshot, ordered events, Last-Event-ID, keep-alive,
terminal jobs, disconnects — with the job advanced through the store by the test."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.routes.events import close_event_streams
from integration.api.conftest import ACME_KEY
from integration.api.recording_events import RecordingJobEvents
from integration.api.streaming_asgi import StreamingCall, streaming_get
from integration.api.worker_side import OutputFile, WorkerSide

AUTH = {"X-API-Key": ACME_KEY}


def events_path(job_id: str) -> str:
    return f"/v1/jobs/{job_id}/events"


async def expect_event(call: StreamingCall, name: str) -> dict[str, object]:
    message = await call.next_event()
    assert message is not None, f"stream ended before {name!r}"
    assert message.event == name, f"expected {name!r}, got {message.event!r}"
    assert message.data is not None
    data = json.loads(message.data)
    assert isinstance(data, dict)
    data["_id"] = int(message.event_id or -1)
    return data


def event_id(data: dict[str, object]) -> int:
    value = data["_id"]
    assert isinstance(value, int)
    return value


async def test_headers_retry_and_snapshot_of_a_queued_job(
    app: FastAPI, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        assert call.status == 200
        assert call.headers["content-type"].startswith("text/event-stream")
        assert call.headers["cache-control"] == "no-cache"
        assert call.headers["x-accel-buffering"] == "no"
        first = await call.next_message()
        assert first is not None
        assert first.retry == 2000
        snapshot = await expect_event(call, "status")
        assert snapshot["status"] == "queued"
        assert snapshot["_id"] == job.version


async def test_a_job_through_its_life_in_order(
    app: FastAPI, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        assert (await expect_event(call, "status"))["status"] == "queued"
        await events.wait_for_watches(1)
        await worker_side.claim(job.job_id)  # a claim changes nothing a client sees
        running = await worker_side.start(job.job_id)
        status = await expect_event(call, "status")
        assert (status["status"], status["_id"]) == ("running", running.version)
        details = {"current_node": "1", "nodes_done": 1, "nodes_total": 2}
        await worker_side.progress(job.job_id, 50.0, details)
        progress = await expect_event(call, "progress")
        assert (progress["progress"], progress["progress_details"]) == (50.0, details)
        files = [OutputFile(filename="a.png", data=b"a"), OutputFile(filename="b.png", data=b"b")]
        done = await worker_side.complete(job.job_id, files)
        rest = await call.rest()
    names = [message.event for message in rest]
    assert names == ["status", "progress", "output", "output", "end"]
    assert {int(message.event_id or 0) for message in rest} == {done.version}
    outputs = [json.loads(message.data or "") for message in rest if message.event == "output"]
    assert [(o["index"], o["filename"]) for o in outputs] == [(0, "a.png"), (1, "b.png")]
    assert json.loads(rest[-1].data or "")["status"] == "completed"
    assert events.open_watches == 0


async def test_ids_increase_with_every_change(
    app: FastAPI, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        ids = [event_id(await expect_event(call, "status"))]
        await events.wait_for_watches(1)
        for value in (10.0, 20.0, 30.0):
            await worker_side.progress(job.job_id, value, {"step": int(value)})
            ids.append(event_id(await expect_event(call, "progress")))
    assert ids == sorted(ids)
    assert len(set(ids)) == 4


async def test_terminal_job_gets_one_end_and_the_stream_closes(
    app: FastAPI, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    failed = await worker_side.fail(job.job_id)
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        messages = await call.rest()
    assert [m.retry for m in messages if m.retry is not None] == [2000]
    named = [m for m in messages if m.event is not None]
    assert [m.event for m in named] == ["end"]
    assert int(named[0].event_id or 0) == failed.version
    assert json.loads(named[0].data or "")["error"]["code"] == "execution_error"


async def test_last_event_id_at_the_current_version_skips_the_snapshot(
    app: FastAPI, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    headers = {**AUTH, "Last-Event-ID": str(job.version)}
    async with streaming_get(app, events_path(job.job_id), headers=headers) as call:
        await events.wait_for_watches(1)
        running = await worker_side.start(job.job_id)
        first = await expect_event(call, "status")
    assert (first["status"], first["_id"]) == ("running", running.version)


async def test_last_event_id_older_than_the_job_gets_the_snapshot_first(
    app: FastAPI, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    running = await worker_side.start(job.job_id)
    headers = {**AUTH, "Last-Event-ID": str(job.version)}
    async with streaming_get(app, events_path(job.job_id), headers=headers) as call:
        snapshot = await expect_event(call, "status")
    assert (snapshot["status"], snapshot["_id"]) == ("running", running.version)


async def test_keep_alive_comments_break_the_silence(
    api_context: ApiContext, worker_side: WorkerSide
) -> None:
    fast_app = create_app(api_context, sse_keep_alive_s=0.05)
    job = await worker_side.submit()
    async with streaming_get(fast_app, events_path(job.job_id), headers=AUTH) as call:
        await expect_event(call, "status")
        comments: list[str | None] = []
        while len(comments) < 2:
            message = await call.next_message()
            assert message is not None
            assert message.event is None  # nothing happened to the job
            comments.append(message.comment)
    assert comments == ["keep-alive", "keep-alive"]


async def test_a_client_that_leaves_ends_the_stream_and_its_watch(
    app: FastAPI, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        await expect_event(call, "status")
        await events.wait_for_watches(1)
        call.disconnect()
        await call.finished()
        await events.wait_for_watches(0)


async def test_cancel_through_the_api_reaches_the_stream(
    app: FastAPI, client: httpx.AsyncClient, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    job = await worker_side.submit()
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        await expect_event(call, "status")
        await events.wait_for_watches(1)
        assert (await client.post(f"/v1/jobs/{job.job_id}/cancel")).status_code == 200
        rest = await call.rest()
    assert [m.event for m in rest] == ["status", "end"]
    assert json.loads(rest[-1].data or "")["status"] == "cancelled"


async def test_api_key_in_the_query_is_accepted(app: FastAPI, worker_side: WorkerSide) -> None:
    job = await worker_side.submit()
    await worker_side.fail(job.job_id)
    async with streaming_get(app, events_path(job.job_id), query={"api_key": ACME_KEY}) as call:
        assert call.status == 200
        assert (await expect_event(call, "end"))["status"] == "failed"


async def test_another_tenants_stream_is_404(
    other_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")
    response = await other_client.get(events_path(job.job_id))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "job_not_found")


async def test_a_stream_without_a_key_is_401(
    anon_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")
    response = await anon_client.get(events_path(job.job_id))
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


async def test_a_client_that_saw_the_end_still_gets_end_so_it_stops(
    app: FastAPI, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    failed = await worker_side.fail(job.job_id)
    headers = {**AUTH, "Last-Event-ID": str(failed.version)}
    async with streaming_get(app, events_path(job.job_id), headers=headers) as call:
        named = [m for m in await call.rest() if m.event is not None]
    assert [(m.event, m.event_id) for m in named] == [("end", str(failed.version))]


async def test_closing_the_streams_sends_shutdown_and_ends_every_stream(
    app: FastAPI, worker_side: WorkerSide, events: RecordingJobEvents
) -> None:
    jobs = [await worker_side.submit() for _ in range(2)]
    async with (
        streaming_get(app, events_path(jobs[0].job_id), headers=AUTH) as first,
        streaming_get(app, events_path(jobs[1].job_id), headers=AUTH) as second,
    ):
        for call in (first, second):
            await expect_event(call, "status")
        await events.wait_for_watches(2)
        close_event_streams(app)
        endings = [await call.rest() for call in (first, second)]
    for messages in endings:
        assert [(m.event, m.event_id) for m in messages] == [("shutdown", None)]
    await events.wait_for_watches(0)


async def test_a_stream_opened_after_closing_ends_at_once(
    app: FastAPI, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    close_event_streams(app)
    async with streaming_get(app, events_path(job.job_id), headers=AUTH) as call:
        named = [m.event for m in await call.rest() if m.event is not None]
    assert named == ["status", "shutdown"]
