"""One prompt running and one waiting behind it per backend; the rest stays with us."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    WorkerHarness,
    executions,
    running_worker,
    sim_config,
    sim_control,
    wait_pending_in_comfyui,
)
from support.simulator_process import SimulatorProcess


async def test_next_prompt_waits_inside_comfyui_and_the_third_in_our_queue(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 30.0})
    first = await harness.submit(invert_graph(color=1))
    second = await harness.submit(invert_graph(color=2))
    third = await harness.submit(invert_graph(color=3))
    await harness.wait_for(first, lambda job: job.status is JobStatus.RUNNING)
    await wait_pending_in_comfyui(sim.url, second)
    async with sim_control(sim.url) as client:
        queue = (await client.get("/queue")).json()

    assert [item[1] for item in queue["queue_running"]] == [first]
    [pending] = queue["queue_pending"]
    assert pending[1] == second
    assert pending[3]["comfy_gateway"] == {"job_id": second, "attempt": 1}
    assert pending[3]["client_id"].startswith("cgw-")
    waiting = await harness.store.get_job(TENANT, second)
    assert waiting.status is JobStatus.QUEUED  # waiting inside ComfyUI is still queued
    held_back = await harness.store.get_job(TENANT, third)
    assert (held_back.claimed_by, held_back.prompt_id) == (None, None)
    for job_id in (first, second, third):
        await harness.cancel(job_id)
    for job_id in (first, second, third):
        assert (await harness.wait_terminal(job_id, timeout_s=15)).status is JobStatus.CANCELLED


async def test_jobs_spread_over_two_backends(
    sim: SimulatorProcess, fresh_simulator: SimulatorProcess, tmp_path: Path
) -> None:
    for backend in (sim, fresh_simulator):
        await sim_config(backend.url, node_seconds_by_class={"ImageInvert": 0.3})
    async with running_worker([sim.url, fresh_simulator.url], tmp_path) as harness:
        job_ids = [await harness.submit(invert_graph(color=n)) for n in range(4)]
        jobs = [await harness.wait_terminal(job_id) for job_id in job_ids]
        assert [state.reachable for state in harness.pool.backends()] == [True, True]

    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * 4
    on_first = {e["prompt_id"] for e in await executions(sim.url)}
    on_second = {e["prompt_id"] for e in await executions(fresh_simulator.url)}
    assert on_first
    assert on_second
    assert on_first | on_second == set(job_ids)
    assert not on_first & on_second
    assert {job.backend for job in jobs} == {sim.url, fresh_simulator.url}
