"""Cancelling a job wherever it is: in our queue, claimed, pending in ComfyUI, running."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from comfy_gateway.events import InProcessJobEvents
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import open_sqlite_store
from comfy_gateway.worker.held_job import HeldJob
from comfy_gateway.worker.job_execution import JobExecution
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    WorkerHarness,
    backend_pool_for,
    executions,
    sim_config,
    wait_pending_in_comfyui,
    worker_options,
)
from support.simulator_process import SimulatorProcess

SLOW = {"ImageInvert": 30.0}


async def test_cancel_running_interrupts_it(harness: WorkerHarness, sim: SimulatorProcess) -> None:
    await sim_config(sim.url, node_seconds_by_class=SLOW)
    job_id = await harness.submit(invert_graph())
    await harness.wait_for(job_id, lambda job: job.status is JobStatus.RUNNING)
    requested = await harness.cancel(job_id)
    assert requested.cancel_requested
    assert requested.status is JobStatus.RUNNING
    job = await harness.wait_terminal(job_id, timeout_s=15)

    assert job.status is JobStatus.CANCELLED
    [ran] = [e for e in await executions(sim.url) if e["prompt_id"] == job_id]
    assert ran["outcome"] == "interrupted"


async def test_cancel_pending_in_comfyui_deletes_it_from_the_queue(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class=SLOW)
    first = await harness.submit(invert_graph(color=1))
    await harness.wait_for(first, lambda job: job.status is JobStatus.RUNNING)
    second = await harness.submit(invert_graph(color=2))
    await wait_pending_in_comfyui(sim.url, second)  # queued behind the first in ComfyUI
    await harness.cancel(second)
    cancelled = await harness.wait_terminal(second, timeout_s=15)
    await harness.cancel(first)
    await harness.wait_terminal(first, timeout_s=15)

    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.started_at is None
    assert second not in [e["prompt_id"] for e in await executions(sim.url)]


async def test_cancel_of_a_job_still_in_our_queue_never_reaches_comfyui(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class=SLOW)
    running = await harness.submit(invert_graph(color=1))
    waiting = await harness.submit(invert_graph(color=2))
    queued = await harness.submit(invert_graph(color=3))  # no free slot: stays with us
    await harness.wait_for(running, lambda job: job.status is JobStatus.RUNNING)
    await harness.wait_for(waiting, lambda job: job.prompt_id is not None)
    job = await harness.cancel(queued)
    assert job.status is JobStatus.CANCELLED
    for job_id in (running, waiting):
        await harness.cancel(job_id)
        await harness.wait_terminal(job_id, timeout_s=15)

    assert queued not in [e["prompt_id"] for e in await executions(sim.url)]


async def test_claimed_job_with_cancel_requested_is_cancelled_without_queueing(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    """A cancel that arrived while the job was claimed but not yet queued in ComfyUI."""
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    pool = backend_pool_for(sim.url)
    job_id = new_job_id()
    try:
        await pool.start()
        await store.create_job(NewJob(job_id=job_id, tenant_id=TENANT, workflow=invert_graph()))
        claim = await store.claim_next_job("w", 30.0)
        assert claim is not None
        flagged = await store.request_cancel(TENANT, job_id)
        assert flagged.cancel_requested
        assert flagged.status is JobStatus.QUEUED
        held = HeldJob(replace(claim, job=flagged), store=store, events=InProcessJobEvents())
        left: list[bool] = []
        execution = JobExecution(
            held,
            pool.members[0],
            blobs=LocalBlobStore(tmp_path / "blobs"),
            options=worker_options(),
            on_backend_failure=pool.report_failure,
            on_prompt_left=lambda: left.append(True),
        )
        await asyncio.wait_for(execution.run(), 10)
        job = await store.get_job(TENANT, job_id)
        attempts = await store.list_attempts(TENANT, job_id)
    finally:
        await pool.aclose()
        await store.close()

    assert job.status is JobStatus.CANCELLED
    assert left == [True]
    assert attempts == ()  # never submitted
    assert job_id not in [e["prompt_id"] for e in await executions(sim.url)]
