"""`GatewayClient` against the real API app (SQLite store, local blobs, in-process
events) served by uvicorn on a loopback socket: the shapes the fake imitates are the
shapes the routes answer. The worker's part is played through the store (`WorkerSide`).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from comfy_gateway.client import (
    GatewayApiError,
    GatewayClient,
    JobEvent,
    MediaFile,
    Submission,
)
from integration.api.conftest import (  # noqa: F401 - fixtures the tests below use
    ACME_KEY,
    api_context,
    app,
    backend_health,
    blobs,
    db_path,
    events,
    server_url,
    settings,
    store,
    worker_side,
)
from integration.api.recording_events import RecordingJobEvents
from integration.api.worker_side import OutputFile, WorkerSide

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WORKFLOW = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "cat.png"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}},
}

EMPTY_IMAGE_WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1}},
    "2": WORKFLOW["2"],
}


async def _collect(client: GatewayClient, job_id: str) -> list[JobEvent]:
    return [event async for event in client.stream_events(job_id)]


async def test_submit_follow_and_download(
    server_url: str,  # noqa: F811
    worker_side: WorkerSide,  # noqa: F811
    events: RecordingJobEvents,  # noqa: F811
    tmp_path: Path,
) -> None:
    cat = tmp_path / "cat.png"
    cat.write_bytes(PNG)
    result = b"result image bytes"
    async with GatewayClient(server_url, api_key=ACME_KEY) as client:
        job = await client.submit(
            Submission(workflow=WORKFLOW, media=[MediaFile.from_path(cat)], priority=3)
        )
        assert job.status == "queued"
        following = asyncio.create_task(_collect(client, job.job_id))
        await events.wait_for_watches(1)  # the stream is open: it will see every change
        await worker_side.start(job.job_id)
        details = {"current_node": "1", "nodes_done": 0, "nodes_total": 2}
        await worker_side.progress(job.job_id, 25.0, details)
        await worker_side.complete(job.job_id, [OutputFile(filename="out_00001_.png", data=result)])
        seen = await asyncio.wait_for(following, 10)
        final = await client.get_job(job.job_id)
        saved = await client.download_output(final, 0, tmp_path)

    assert seen[-1].event == "end"
    assert seen[-1].data["status"] == "completed"
    assert any(event.event == "progress" for event in seen)
    ids = [int(event.id or 0) for event in seen]
    assert ids == sorted(ids)
    assert final.outputs[0].sha256 == hashlib.sha256(result).hexdigest()
    assert saved.path == (tmp_path / "out_00001_.png").resolve()
    assert saved.path.read_bytes() == result


async def test_cancel_and_error_shape(
    server_url: str,  # noqa: F811
    worker_side: WorkerSide,  # noqa: F811
) -> None:
    async with GatewayClient(server_url, api_key=ACME_KEY) as client:
        job = await client.submit(Submission(workflow=EMPTY_IMAGE_WORKFLOW))
        cancelled = await client.cancel(job.job_id)
        assert cancelled.status == "cancelled"
        with pytest.raises(GatewayApiError) as caught:
            await client.cancel(job.job_id)
        assert (caught.value.status, caught.value.code) == (409, "job_finished")
        with pytest.raises(GatewayApiError) as missing:
            await client.get_job("no-such-job")
        assert missing.value.status == 404


async def test_wrong_key_is_an_api_error(server_url: str) -> None:  # noqa: F811
    async with GatewayClient(server_url, api_key="wrong") as client:
        with pytest.raises(GatewayApiError) as caught:
            await client.get_job("x")
    assert caught.value.status == 401
