"""`running` is stored a moment after the prompt starts: a prompt that ends sooner goes
from queued to its end in one write (with its start recorded); a longer one is seen
running while it runs."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    WorkerHarness,
    running_worker,
    sim_config,
    worker_options,
)
from support.simulator_process import SimulatorProcess


def record_statuses(harness: WorkerHarness) -> list[tuple[str, JobStatus]]:
    """Every (job id, status) the worker publishes from now on."""
    seen: list[tuple[str, JobStatus]] = []
    publish = harness.events.publish

    async def recording(job: Job) -> None:
        seen.append((job.job_id, job.status))
        await publish(job)

    harness.events.publish = recording  # type: ignore[method-assign]
    return seen


async def test_a_prompt_shorter_than_the_delay_ends_in_one_write(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    # The service's own defaults: the harness stores progress at once, which stores
    # `running` first (progress never precedes it).
    options = worker_options(progress_persist_interval_s=0.25, running_write_delay_s=5.0)
    async with running_worker(sim.url, tmp_path, options=options) as harness:
        seen = record_statuses(harness)
        job_id = await harness.submit(invert_graph(color=11))
        done = await harness.wait_terminal(job_id)

    assert done.status is JobStatus.COMPLETED
    assert [status for job, status in seen if job == job_id] == [JobStatus.COMPLETED]
    assert done.started_at is not None
    assert done.completed_at is not None
    assert done.created_at <= done.started_at <= done.completed_at
    assert done.attempts == 1


async def test_a_longer_prompt_is_seen_running_while_it_runs(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 0.5})
    seen = record_statuses(harness)
    job_id = await harness.submit(invert_graph(color=12))
    running = await harness.wait_for(job_id, lambda job: job.status is JobStatus.RUNNING)
    done = await harness.wait_terminal(job_id)

    assert [status for job, status in seen if job == job_id][:1] == [JobStatus.RUNNING]
    assert done.status is JobStatus.COMPLETED
    assert done.started_at == running.started_at
