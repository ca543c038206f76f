"""Taking over jobs of a worker that died: re-attach, collect, retry or give up; fencing.

A "dead worker" is played by hand on the store (claim, attempt row, maybe the prompt
posted to the simulator), then the store's manual clock runs its lease out and a real
worker starts on the same store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.jobs.errors import LeaseLost
from comfy_gateway.jobs.graph import prepare_graph
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import ManualClock, SqlJobStore, open_sqlite_store
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    executions,
    running_worker,
    sim_config,
    sim_control,
    sim_post,
    worker_options,
)
from support.simulator_process import SimulatorProcess

DEAD_LEASE_S = 30.0
DEAD_CLIENT = "cgw-dead-worker"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqlJobStore]:
    opened = await open_sqlite_store(tmp_path / "jobs.sqlite3", clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


async def queued_job(store: SqlJobStore, color: int = 0) -> tuple[str, dict[str, Any]]:
    job_id = new_job_id()
    graph = prepare_graph(invert_graph(color=color), job_id=job_id, media_refs={}).graph
    await store.create_job(NewJob(job_id=job_id, tenant_id=TENANT, workflow=graph))
    return job_id, graph


async def dead_worker_holds(store: SqlJobStore, sim_url: str, job_id: str, *, started: bool) -> int:
    """Claim the job and record its attempt as a worker would, then "die"; its token."""
    claim = await store.claim_next_job("dead-worker", DEAD_LEASE_S)
    assert claim is not None
    assert claim.job.job_id == job_id
    await store.record_attempt_start(job_id, claim.fencing_token, sim_url, job_id, DEAD_CLIENT)
    if started:
        await store.mark_running(job_id, claim.fencing_token)
    return claim.fencing_token


async def post_prompt(sim_url: str, job_id: str, graph: dict[str, Any]) -> None:
    body = {"prompt": graph, "prompt_id": job_id, "client_id": DEAD_CLIENT}
    await sim_post(sim_url, "/prompt", body)


async def wait_in_simulator(sim_url: str, job_id: str, where: str) -> None:
    """Until the prompt is running (``where="running"``) or in ``/history``."""
    async with sim_control(sim_url) as client:
        for _ in range(500):
            if where == "running":
                queue = (await client.get("/queue")).json()
                if job_id in [item[1] for item in queue["queue_running"]]:
                    return
            elif job_id in (await client.get(f"/history/{job_id}")).json():
                return
            await client.get("/system_stats")  # one round trip paces the next look
    raise AssertionError(f"prompt {job_id} never got {where} in the simulator")


async def ran(sim_url: str) -> list[str]:
    return [entry["prompt_id"] for entry in await executions(sim_url)]


async def test_a_dead_workers_running_prompt_is_reattached_not_run_again(
    sim: SimulatorProcess, tmp_path: Path, store: SqlJobStore, clock: ManualClock
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 1.0})
    job_id, graph = await queued_job(store)
    old_token = await dead_worker_holds(store, sim.url, job_id, started=True)
    await post_prompt(sim.url, job_id, graph)
    await wait_in_simulator(sim.url, job_id, "running")
    clock.advance(DEAD_LEASE_S + 1)

    async with running_worker(sim.url, tmp_path, store=store) as harness:
        job = await harness.wait_terminal(job_id, timeout_s=30)
        attempts = await store.list_attempts(TENANT, job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert len(job.outputs) == 1
    assert await ran(sim.url) == [job_id]
    assert job.attempts == 1
    assert [(a.number, a.outcome, a.prompt_id) for a in attempts] == [(1, "completed", job_id)]
    assert attempts[0].client_id != DEAD_CLIENT  # the follower's own socket
    with pytest.raises(LeaseLost):
        await store.heartbeat(job_id, old_token, DEAD_LEASE_S)


async def test_a_prompt_that_finished_while_nobody_watched_is_collected(
    sim: SimulatorProcess, tmp_path: Path, store: SqlJobStore, clock: ManualClock
) -> None:
    job_id, graph = await queued_job(store)
    await dead_worker_holds(store, sim.url, job_id, started=False)
    await post_prompt(sim.url, job_id, graph)
    await wait_in_simulator(sim.url, job_id, "history")
    clock.advance(DEAD_LEASE_S + 1)

    async with running_worker(sim.url, tmp_path, store=store) as harness:
        job = await harness.wait_terminal(job_id, timeout_s=30)

    assert job.status is JobStatus.COMPLETED, job.error
    assert len(job.outputs) == 1
    assert job.attempts == 1
    assert await ran(sim.url) == [job_id]


async def test_a_job_whose_holder_died_before_posting_is_submitted_once_uncounted(
    sim: SimulatorProcess, tmp_path: Path, store: SqlJobStore, clock: ManualClock
) -> None:
    job_id, _ = await queued_job(store)
    await dead_worker_holds(store, sim.url, job_id, started=False)
    clock.advance(DEAD_LEASE_S + 1)

    async with running_worker(sim.url, tmp_path, store=store) as harness:
        job = await harness.wait_terminal(job_id, timeout_s=30)
        attempts = await store.list_attempts(TENANT, job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.attempts == 1
    assert [a.outcome for a in attempts] == ["abandoned", "completed"]
    assert await ran(sim.url) == [job_id]


async def test_a_running_prompt_comfyui_forgot_is_retried_with_the_crash_recorded(
    sim: SimulatorProcess, tmp_path: Path, store: SqlJobStore, clock: ManualClock
) -> None:
    # Started under the dead worker, then ComfyUI restarted: the prompt is nowhere.
    job_id, _ = await queued_job(store)
    await dead_worker_holds(store, sim.url, job_id, started=True)
    clock.advance(DEAD_LEASE_S + 1)

    async with running_worker(sim.url, tmp_path, store=store) as harness:
        job = await harness.wait_terminal(job_id, timeout_s=30)
        attempts = await store.list_attempts(TENANT, job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.attempts == 2
    assert [a.outcome for a in attempts] == ["retried", "completed"]
    assert "vanished" in (attempts[0].detail or "")
    assert await ran(sim.url) == [job_id]


async def test_a_lost_prompt_fails_the_job_once_its_attempts_are_used_up(
    sim: SimulatorProcess, tmp_path: Path, store: SqlJobStore, clock: ManualClock
) -> None:
    job_id, _ = await queued_job(store)
    await dead_worker_holds(store, sim.url, job_id, started=True)
    clock.advance(DEAD_LEASE_S + 1)

    options = worker_options(max_attempts=1)
    async with running_worker(sim.url, tmp_path, store=store, options=options) as harness:
        job = await harness.wait_terminal(job_id, timeout_s=30)
        attempts = await store.list_attempts(TENANT, job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "backend_unavailable"
    assert "gave up after 1 attempts" in job.error.message
    assert [(a.outcome, a.detail) for a in attempts] == [("failed", "backend_unavailable")]
    assert await ran(sim.url) == []


async def test_a_worker_whose_lease_was_taken_over_cannot_write_any_more(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    # Two workers on one database, each with its own clock: B's clock is an hour ahead,
    # so A's lease always looks expired to B, and B's never to A. A plays a worker that
    # stalled past its lease; B takes the job over while A is still following it.
    path = tmp_path / "jobs.sqlite3"
    clock_a = ManualClock()
    clock_b = ManualClock(clock_a.now() + timedelta(hours=1))
    store_a = await open_sqlite_store(path, clock=clock_a)
    store_b = await open_sqlite_store(path, clock=clock_b)
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 1.5})
    options_a = worker_options(worker_id="worker-a", lease_s=30.0, prompts_per_backend=1)
    options_b = worker_options(worker_id="worker-b", lease_s=30.0)
    try:
        async with running_worker(
            sim.url, tmp_path, store=store_a, options=options_a, client_token="a"
        ) as a:
            job_id = await a.submit(invert_graph())
            await a.wait_for(job_id, lambda job: job.status is JobStatus.RUNNING)
            token_a = a.worker.executions[job_id][0].held.token
            async with running_worker(
                sim.url, tmp_path, store=store_b, options=options_b, client_token="b"
            ) as b:
                job = await b.wait_terminal(job_id, timeout_s=30)
                await a.wait_for(job_id, lambda _: job_id not in a.worker.executions)
                with pytest.raises(LeaseLost):
                    await store_a.update_progress(job_id, token_a, 50.0, {})
                with pytest.raises(LeaseLost):
                    await store_a.release_job(job_id, token_a, count_attempt=False)
                attempts = await store_b.list_attempts(TENANT, job_id)
    finally:
        await store_a.close()
        await store_b.close()

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.claimed_by is None
    assert await ran(sim.url) == [job_id]
    assert [(a.number, a.outcome) for a in attempts] == [(1, "completed")]
    assert attempts[0].client_id.startswith("cgw-b-")  # B resumed A's attempt
