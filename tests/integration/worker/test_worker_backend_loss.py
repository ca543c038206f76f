"""ComfyUI dies under a worker: the job waiting in its queue goes back at once, the running
one waits for the backend, is found gone after the restart, and runs again (counted, the
crash in its attempt row); everything ends up executed once on the new ComfyUI."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    executions,
    running_worker,
    wait_pending_in_comfyui,
    worker_options,
)
from integration.worker.test_worker_resilience import free_port
from support.simulator_process import run_simulator


async def test_comfyui_death_requeues_waiting_at_once_and_retries_the_running_job(
    tmp_path: Path,
) -> None:
    port = free_port()
    args = ["--port", str(port), "--node-seconds-for", "ImageInvert=2"]
    options = worker_options(worker_id="survivor", lease_s=30.0)
    # A long reconnect budget: the running job must wait for its backend, not be released.
    async with running_worker(
        f"http://127.0.0.1:{port}", tmp_path, options=options, reconnect_budget_s=60.0
    ) as harness:
        with run_simulator(tmp_path / "sim-1", extra_args=args) as first:
            running = await harness.submit(invert_graph(color=1))
            await harness.wait_for(running, lambda job: job.status is JobStatus.RUNNING)
            waiting = await harness.submit(invert_graph(color=2))
            await wait_pending_in_comfyui(first.url, waiting)
            first.process.kill()
            first.process.wait(10)

        given_back = await harness.wait_for(
            waiting, lambda job: job.claimed_by is None, timeout_s=10
        )
        still_held = await harness.store.get_job(TENANT, running)
        assert (given_back.status, given_back.attempts) == (JobStatus.QUEUED, 0)
        assert given_back.prompt_id == waiting  # kept: a look-up comes before any resubmit
        assert (still_held.status, still_held.claimed_by) == (JobStatus.RUNNING, "survivor")
        assert harness.pool.backends()[0].reachable is False

        with contextlib.ExitStack() as stack:
            second = await asyncio.to_thread(
                stack.enter_context, run_simulator(tmp_path / "sim-2", extra_args=args)
            )
            jobs = [
                await harness.wait_terminal(job_id, timeout_s=30) for job_id in (running, waiting)
            ]
            ran = [entry["prompt_id"] for entry in await executions(second.url)]
        attempts = await harness.store.list_attempts(TENANT, running)

    assert [job.status for job in jobs] == [JobStatus.COMPLETED] * 2, [j.error for j in jobs]
    assert [job.attempts for job in jobs] == [2, 1]
    assert [a.outcome for a in attempts] == ["retried", "completed"]
    assert "vanished" in (attempts[0].detail or "")
    assert sorted(ran) == sorted([running, waiting])
