"""The sweeper task `serve` and `worker` start beside the worker."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from comfy_gateway.config import GatewaySettings
from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.retention.background import start_retention_sweeper
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.retention.retention_world import DAY_S, RetentionWorld


async def until_gone(store: SqlJobStore, tenant: str, job_id: str) -> None:
    while True:
        try:
            await store.get_job(tenant, job_id)
        except JobNotFound:
            return
        await asyncio.sleep(0.01)


async def test_the_task_sweeps_at_start_and_stops_with_the_worker(
    tmp_path: Path, world: RetentionWorld, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    old = await world.finished()
    world.clock.advance(30 * DAY_S + 1)
    settings = GatewaySettings(data_dir=tmp_path, sweep_interval_s=3600)
    stop = asyncio.Event()
    task = start_retention_sweeper(settings, store, blobs, stop)
    assert task is not None
    await asyncio.wait_for(until_gone(store, "acme", old.job.job_id), 10)
    assert not task.done()  # waiting for its next interval
    stop.set()
    await asyncio.wait_for(task, 5)
    assert not (blobs.root / "acme" / old.job.job_id).exists()


async def test_a_store_without_retention_queries_runs_no_task(
    tmp_path: Path, blobs: LocalBlobStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "comfy_gateway.retention"):
        task = start_retention_sweeper(GatewaySettings(), object(), blobs, asyncio.Event())
    assert task is None
    assert "nothing expires" in caplog.text
