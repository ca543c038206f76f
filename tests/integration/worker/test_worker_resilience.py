"""Backends that are down, sockets that drop, workers that stop: every job runs once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
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
    sim_post,
    wait_pending_in_comfyui,
    worker_options,
)
from support.simulator_process import SimulatorProcess, run_simulator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_job_waits_for_a_down_backend_then_runs(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with running_worker(url, tmp_path) as harness:
        job_id = await harness.submit(invert_graph())
        await wait_until(lambda: harness.pool.backends()[0].state == "down")
        job = await harness.store.get_job(TENANT, job_id)
        assert (job.status, job.claimed_by, job.attempts) == (JobStatus.QUEUED, None, 0)
        assert not harness.pool.any_ready

        with contextlib.ExitStack() as stack:
            sim = await asyncio.to_thread(
                stack.enter_context,
                run_simulator(tmp_path / "late-sim", extra_args=["--port", str(port)]),
            )
            job = await harness.wait_terminal(job_id, timeout_s=30)
            ran = [e["prompt_id"] for e in await executions(sim.url)]

    assert job.status is JobStatus.COMPLETED, job.error
    assert ran == [job_id]


async def test_socket_drop_mid_run_completes_exactly_once(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 1.0})
    job_id = await harness.submit(invert_graph())
    await harness.wait_for(job_id, lambda job: job.progress_details.get("current_node") == "2")
    await sim_post(sim.url, "/_sim/drop-websockets")
    job = await harness.wait_terminal(job_id, timeout_s=20)

    assert job.status is JobStatus.COMPLETED, job.error
    assert len(job.outputs) == 1
    assert [e["prompt_id"] for e in await executions(sim.url)] == [job_id]
    assert harness.pool.members[0].connection is not None
    assert harness.pool.members[0].connection.reconnects >= 1


async def test_fifty_jobs_back_to_back_each_run_once(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    job_ids = [await harness.submit(invert_graph(color=n)) for n in range(50)]
    jobs = [await harness.wait_terminal(job_id, timeout_s=60) for job_id in job_ids]

    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * 50
    ran = Counter(e["prompt_id"] for e in await executions(sim.url))
    assert set(ran) == set(job_ids)
    assert set(ran.values()) == {1}


async def test_stopped_worker_releases_its_jobs_and_the_next_one_reattaches(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    await sim_config(sim.url, node_seconds_by_class={"ImageInvert": 2.0})
    options = worker_options(drain_timeout_s=0.2)
    async with running_worker(sim.url, tmp_path, options=options) as first:
        running = await first.submit(invert_graph(color=1))
        pending = await first.submit(invert_graph(color=2))
        await first.wait_for(running, lambda job: job.status is JobStatus.RUNNING)
        await wait_pending_in_comfyui(sim.url, pending)
    # The worker stopped: the pending prompt left ComfyUI, the running one kept going.
    async with sim_control(sim.url) as client:
        queue = (await client.get("/queue")).json()
    assert [item[1] for item in queue["queue_pending"]] == []
    assert [item[1] for item in queue["queue_running"]] == [running]
    async with running_worker(sim.url, tmp_path) as second:
        released = await second.store.get_job(TENANT, running)
        assert (released.status, released.claimed_by) == (JobStatus.QUEUED, None)
        assert released.prompt_id == running
        jobs = [await second.wait_terminal(job_id, timeout_s=30) for job_id in (running, pending)]

    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * 2
    ran = Counter(e["prompt_id"] for e in await executions(sim.url))
    assert ran == {running: 1, pending: 1}  # re-attached, never submitted twice
    assert [job.attempts for job in jobs] == [1, 1]  # releases on shutdown do not count


async def test_backend_crash_mid_run_requeues_the_job_and_it_runs_when_back(
    tmp_path: Path,
) -> None:
    port = free_port()
    args = ["--port", str(port), "--node-seconds-for", "ImageInvert=0.5"]
    async with running_worker(
        f"http://127.0.0.1:{port}", tmp_path, reconnect_budget_s=0.5
    ) as harness:
        with run_simulator(tmp_path / "sim-1", extra_args=args) as sim:
            await sim_post(sim.url, "/_sim/faults", {"kind": "exit", "class_type": "SaveImage"})
            job_id = await harness.submit(invert_graph())
            await harness.wait_for(job_id, lambda job: job.status is JobStatus.RUNNING)
            released = await harness.wait_for(
                job_id, lambda job: job.status is JobStatus.QUEUED, timeout_s=20
            )
            assert released.attempts == 1  # it had started: the try counts
            sim.process.wait(10)
        with contextlib.ExitStack() as stack:
            second = await asyncio.to_thread(
                stack.enter_context, run_simulator(tmp_path / "sim-2", extra_args=args)
            )
            job = await harness.wait_terminal(job_id, timeout_s=30)
            ran = [e["prompt_id"] for e in await executions(second.url)]

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.attempts == 2
    assert ran == [job_id]


async def wait_until(condition: object, timeout_s: float = 10.0) -> None:
    """Poll a cheap in-memory condition (the pool's state) until it holds."""
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.02)
