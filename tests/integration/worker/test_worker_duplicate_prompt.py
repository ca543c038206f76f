"""A backend that answers 409 to a duplicate prompt id (newer ComfyUI) already has the
prompt: the worker follows it instead of running it again."""

from __future__ import annotations

import asyncio

from comfy_gateway.jobs import JobStatus, NewJob, new_job_id
from comfy_gateway.jobs.graph import prepare_graph
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    WorkerHarness,
    executions,
    sim_config,
    sim_control,
)
from support.simulator_process import SimulatorProcess


async def _run_directly(url: str, prompt_id: str, graph: dict[str, object]) -> None:
    async with sim_control(url) as client:
        answer = await client.post("/prompt", json={"prompt": graph, "prompt_id": prompt_id})
        answer.raise_for_status()
        async with asyncio.timeout(10):
            while True:
                if (await client.get(f"/history/{prompt_id}")).json():
                    return
                await asyncio.sleep(0.02)  # polling a condition, with a deadline


async def test_a_409_for_our_prompt_id_is_followed_not_rerun(
    sim: SimulatorProcess, harness: WorkerHarness
) -> None:
    await sim_config(sim.url, reject_duplicate_prompt_ids=True)
    job_id = new_job_id()
    graph = prepare_graph(invert_graph(color=77), job_id=job_id).graph
    await _run_directly(sim.url, job_id, graph)  # an earlier try already ran it

    await harness.store.create_job(NewJob(job_id=job_id, tenant_id=TENANT, workflow=graph))
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert [output.filename for output in job.outputs] == ["inv_00001_.png"]
    ran = [entry for entry in await executions(sim.url) if entry["prompt_id"] == job_id]
    assert len(ran) == 1
