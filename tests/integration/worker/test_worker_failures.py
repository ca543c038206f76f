"""Jobs that fail, time out or are interrupted by someone else: the right error, once."""

from __future__ import annotations

from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import invert_graph
from integration.worker.harness import TENANT, WorkerHarness, executions, sim_config, sim_post
from support.simulator_process import SimulatorProcess


async def test_execution_error_fails_the_job_with_the_node_named(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_post(sim.url, "/_sim/faults", {"kind": "fail", "class_type": "ImageInvert"})
    job_id = await harness.submit(invert_graph())
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert (job.error.code, job.error.node_id, job.error.node_type) == (
        "execution_error",
        "2",
        "ImageInvert",
    )
    assert job.error.exception_type
    assert "Simulated failure" in job.error.message
    assert job.attempts == 1  # not retried
    assert [e["prompt_id"] for e in await executions(sim.url)] == [job_id]


async def test_invalid_workflow_fails_with_node_errors(harness: WorkerHarness) -> None:
    graph = invert_graph()
    del graph["1"]["inputs"]["width"]
    job_id = await harness.submit(graph)
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "workflow_invalid"
    assert job.error.node_errors is not None
    assert "1" in job.error.node_errors
    assert job.started_at is None


async def test_timeout_interrupts_the_prompt_and_fails_the_job(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 30.0})
    job_id = await harness.submit(invert_graph(), timeout_s=0.5)
    job = await harness.wait_terminal(job_id, timeout_s=15)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "timeout"
    [ran] = [e for e in await executions(sim.url) if e["prompt_id"] == job_id]
    assert ran["outcome"] == "interrupted"


async def test_interrupt_by_someone_else_fails_the_job_as_interrupted(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 30.0})
    job_id = await harness.submit(invert_graph())
    await harness.wait_for(job_id, lambda job: job.progress_details.get("current_node") == "2")
    await sim_post(sim.url, "/interrupt")  # a plain interrupt from another ComfyUI client
    job = await harness.wait_terminal(job_id, timeout_s=15)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "interrupted"
    # ComfyUI names the node it stopped at: the running one or the next it would run.
    assert job.error.node_id in {"2", "3"}
    attempts = await harness.store.list_attempts(TENANT, job_id)
    assert len(attempts) == 1
