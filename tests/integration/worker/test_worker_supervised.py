"""The worker with a supervised backend: the simulator run by ``SupervisedComfy``.

Lazy start on the first job; a ``kill -9`` of the supervised process mid-job retries the
running job (counted, the crash in its attempt) and gives the waiting one back uncounted;
a job out of attempts fails with the crash and the process's last output in its error.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from comfy_gateway.comfy import ReconnectPolicy
from comfy_gateway.events import InProcessJobEvents
from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import open_sqlite_store
from comfy_gateway.supervisor import (
    LaunchSpec,
    RestartPolicy,
    SupervisedComfy,
    SupervisorOptions,
    SupervisorState,
)
from comfy_gateway.worker import BackendPool, RetryBackoff, Worker
from comfy_gateway.worker.supervised_backend import SupervisedBackend
from integration.worker.graphs import invert_graph
from integration.worker.harness import (
    TENANT,
    WorkerHarness,
    wait_pending_in_comfyui,
    worker_options,
)

SIMULATOR_CMD = (
    f"{shlex.quote(sys.executable)} -m comfy_gateway simulate --port {{port}}"
    " --data-dir {data_dir} --node-seconds 0.5"
)
WAIT_S = 30.0


def _supervised(tmp_path: Path, *, lazy: bool) -> SupervisedBackend:
    options = SupervisorOptions(
        startup_timeout_s=WAIT_S, restart=RestartPolicy(initial_s=0.05, maximum_s=0.2)
    )
    supervisor = SupervisedComfy(
        LaunchSpec(comfy_cmd=SIMULATOR_CMD), work_dir=tmp_path / "comfyui", options=options
    )
    policy = ReconnectPolicy(initial=0.05, maximum=0.3, budget=10.0)
    return SupervisedBackend(supervisor, policy=policy, lazy=lazy)


@asynccontextmanager
async def supervised_worker(
    tmp_path: Path, max_attempts: int = 3, *, lazy: bool = True
) -> AsyncIterator[WorkerHarness]:
    """A worker whose only backend is a supervised simulator; stopped after."""
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    events = InProcessJobEvents()
    backend = _supervised(tmp_path, lazy=lazy)
    pool = BackendPool([], supervised=[backend], retry=RetryBackoff(initial=0.1, maximum=0.3))
    options = worker_options(max_attempts=max_attempts)
    blobs = LocalBlobStore(tmp_path / "blobs")
    worker = Worker(options, store=store, blobs=blobs, events=events, backends=pool)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield WorkerHarness(store, blobs, events, pool, worker)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 15)
            await pool.stop_supervised()
        finally:
            await store.close()


def _member(harness: WorkerHarness) -> SupervisedBackend:
    [member] = harness.pool.supervised
    return member


def _kill_9(member: SupervisedBackend) -> None:
    pid = member.supervisor.pid
    assert pid is not None, "the supervised simulator is not running"
    os.kill(pid, signal.SIGKILL)


def _running(job: Job) -> bool:
    return job.status is JobStatus.RUNNING


async def test_the_first_job_starts_the_supervised_backend(tmp_path: Path) -> None:
    async with supervised_worker(tmp_path) as harness:
        member = _member(harness)
        assert member.supervisor.state is SupervisorState.STOPPED
        assert harness.pool.can_start_lazily()
        assert [state.state for state in harness.pool.backends()] == ["stopped"]

        job = await harness.wait_terminal(await harness.submit(invert_graph()), WAIT_S)

        assert job.status is JobStatus.COMPLETED, job.error
        assert (job.attempts, member.supervisor.launches) == (1, 1)
        [state] = harness.pool.backends()
        assert (state.state, state.reachable, state.url) == ("ready", True, member.url)
    assert member.supervisor.state is SupervisorState.STOPPED
    assert member.supervisor.pid is None


async def test_a_crash_retries_the_running_job_and_releases_the_waiting_one(
    tmp_path: Path,
) -> None:
    async with supervised_worker(tmp_path) as harness:
        member = _member(harness)
        running_id = await harness.submit(invert_graph(color=1))
        await harness.wait_for(running_id, _running, WAIT_S)
        waiting_id = await harness.submit(invert_graph(color=2))
        await wait_pending_in_comfyui(member.url, waiting_id)
        _kill_9(member)

        running = await harness.wait_terminal(running_id, WAIT_S)
        waiting = await harness.wait_terminal(waiting_id, WAIT_S)
        attempts = await harness.store.list_attempts(TENANT, running_id)

    assert (running.status, waiting.status) == (JobStatus.COMPLETED, JobStatus.COMPLETED)
    assert (running.attempts, waiting.attempts) == (2, 1)
    assert member.supervisor.launches == 2
    assert [attempt.outcome for attempt in attempts] == ["retried", "completed"]
    detail = attempts[0].detail or ""
    assert f"exited with code -{signal.SIGKILL.value}" in detail
    assert "--- launch 1:" in detail


async def test_a_crash_on_the_last_attempt_fails_the_job_with_the_log_tail(
    tmp_path: Path,
) -> None:
    async with supervised_worker(tmp_path, max_attempts=1) as harness:
        member = _member(harness)
        job_id = await harness.submit(invert_graph())
        await harness.wait_for(job_id, _running, WAIT_S)
        _kill_9(member)
        job = await harness.wait_terminal(job_id, WAIT_S)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "backend_unavailable"
    assert "crashed" in job.error.message
    assert "--- launch 1:" in job.error.message


async def test_an_eager_backend_is_connected_before_any_job(tmp_path: Path) -> None:
    async with supervised_worker(tmp_path, lazy=False) as harness:
        member = _member(harness)
        assert not member.claimable  # eager: no job is claimed to start it
        await harness.pool.start_supervised()
        await member.supervisor.wait_for_state(SupervisorState.READY, timeout_s=WAIT_S)
        async with asyncio.timeout(WAIT_S):
            while not member.ready:  # noqa: ASYNC110 - the pool's maintenance connects it
                await asyncio.sleep(0.02)  # polling a condition, with a deadline
        job = await harness.wait_terminal(await harness.submit(invert_graph()), WAIT_S)
    assert job.status is JobStatus.COMPLETED, job.error
    assert member.supervisor.launches == 1
