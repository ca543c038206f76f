"""A job handed to an idle worker as it is stored (jobs/hand_off.py): no claim, its
attempt opened by the submit's own transaction, run once on the reserved backend."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.jobs.graph import prepare_graph
from comfy_gateway.jobs.hand_off import handed_over
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import NewJob
from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import invert_graph
from integration.worker.harness import TENANT, WorkerHarness, executions, running_worker
from support.simulator_process import SimulatorProcess


def new_job(color: int) -> NewJob:
    job_id = new_job_id()
    graph = prepare_graph(invert_graph(color=color), job_id=job_id, media_refs={}).graph
    return NewJob(job_id=job_id, tenant_id=TENANT, workflow=graph)


async def idle_after_one_job(harness: WorkerHarness) -> None:
    """Run one job the ordinary way: the claim that took it saw nothing behind it."""
    first = await harness.submit(invert_graph(color=1))
    assert (await harness.wait_terminal(first)).status is JobStatus.COMPLETED


async def test_an_idle_worker_runs_a_handed_over_job_once(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await idle_after_one_job(harness)
    slot = harness.worker.reserve(None)
    assert slot is not None
    assert slot.claim_for.backend == sim.url
    assert slot.claim_for.worker_id == "test-worker"

    job, created = await harness.store.create_job(new_job(2), claim_for=slot.claim_for)
    held = handed_over(job, slot.claim_for)
    assert created
    assert held is not None
    await harness.events.publish(job)
    slot.start(*held)
    done = await harness.wait_terminal(job.job_id)

    assert (done.status, done.attempts) == (JobStatus.COMPLETED, 1)
    [attempt] = await harness.store.list_attempts(TENANT, job.job_id)
    assert (attempt.started_at, attempt.outcome) == (job.created_at, "completed")
    ran = [e["prompt_id"] for e in await executions(sim.url)]
    assert ran.count(job.job_id) == 1


async def test_no_slot_while_work_may_wait_or_before_the_worker_runs(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    async with running_worker(sim.url, tmp_path) as harness:
        # Until a claim has found the queue empty, a new job may have to wait its turn.
        assert harness.worker.reserve(None) is None
        await idle_after_one_job(harness)
        slot = harness.worker.reserve(None)
        assert slot is not None
        [backend] = harness.pool.members
        assert backend.in_flight == 1  # the reservation holds the slot meanwhile
        slot.give_back()
        assert backend.in_flight == 0
        # Both slots of the backend reserved: no third.
        held = [harness.worker.reserve(None), harness.worker.reserve(None)]
        assert None not in held
        assert harness.worker.reserve(None) is None
        for slot in held:
            assert slot is not None
            slot.give_back()
    assert harness.worker.reserve(None) is None  # stopped


async def test_a_job_stored_unclaimed_gives_its_slot_back_and_waits_its_turn(
    harness: WorkerHarness,
) -> None:
    await idle_after_one_job(harness)
    slot = harness.worker.reserve(None)
    assert slot is not None
    # Another process queued a job meanwhile: the store keeps the new one unclaimed.
    await harness.store.create_job(new_job(3))
    job, _ = await harness.store.create_job(new_job(4), claim_for=slot.claim_for)

    assert handed_over(job, slot.claim_for) is None
    slot.give_back()
    await harness.events.publish(job)  # queued and unclaimed: the worker claims it
    assert (await harness.wait_terminal(job.job_id)).status is JobStatus.COMPLETED
