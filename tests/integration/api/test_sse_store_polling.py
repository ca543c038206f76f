"""SSE with the worker in "another process": a second store on the same SQLite file
changes the job and publishes nothing; `StorePollingJobEvents` finds the changes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.events import InProcessJobEvents
from comfy_gateway.events.store_polling import StorePollingJobEvents
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore, open_sqlite_store
from integration.api.conftest import ACME_KEY
from integration.api.streaming_asgi import streaming_get
from integration.api.worker_side import OutputFile, WorkerSide


@pytest.fixture
async def worker_store(db_path: Path, store: SqlJobStore) -> AsyncIterator[SqlJobStore]:
    """The worker's own connection to the database the API reads (``store`` made it)."""
    other = await open_sqlite_store(db_path)
    try:
        yield other
    finally:
        await other.close()


@pytest.fixture
def polling_app(api_context: ApiContext, store: SqlJobStore) -> FastAPI:
    events = StorePollingJobEvents(store, poll_interval_s=0.02)
    return create_app(dataclasses.replace(api_context, events=events))


@pytest.fixture
def remote_worker(worker_store: SqlJobStore, blobs: LocalBlobStore) -> WorkerSide:
    # Its publishes go nowhere the API listens: only the database carries the changes.
    return WorkerSide(store=worker_store, blobs=blobs, events=InProcessJobEvents())


async def test_changes_made_elsewhere_reach_the_stream_by_polling(
    polling_app: FastAPI, remote_worker: WorkerSide
) -> None:
    job = await remote_worker.submit()
    path = f"/v1/jobs/{job.job_id}/events"
    async with streaming_get(polling_app, path, headers={"X-API-Key": ACME_KEY}) as call:
        first = await call.next_event()
        assert first is not None
        assert first.event == "status"
        await remote_worker.start(job.job_id)
        running = await call.next_event()
        assert running is not None
        assert (running.event, json.loads(running.data or "")["status"]) == (
            "status",
            "running",
        )
        done = await remote_worker.complete(job.job_id, [OutputFile(filename="a.png", data=b"a")])
        rest = [m for m in await call.rest() if m.event is not None]
    assert [m.event for m in rest] == ["status", "progress", "output", "end"]
    assert rest[-1].event_id == str(done.version)
