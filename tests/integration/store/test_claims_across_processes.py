"""Claims stay exclusive when the claimers are separate OS processes on one database."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from comfy_gateway.store import JobStore
from integration.store.job_builders import make_new_job
from integration.store.store_factories import StoreFactory

WORKER_SCRIPT = Path(__file__).with_name("claim_worker.py")
TESTS_DIR = Path(__file__).resolve().parents[2]  # on sys.path, as pytest's pythonpath
PROCESSES = 3
JOBS = 60
STEP_TIMEOUT_S = 30.0


def _child_pythonpath() -> str:
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([str(TESTS_DIR), inherited] if inherited else [str(TESTS_DIR)])


async def _start_worker(
    factory: StoreFactory, location: str, worker_id: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER_SCRIPT),
        factory.name,
        location,
        worker_id,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": _child_pythonpath()},
    )


async def _read_line(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), STEP_TIMEOUT_S)
    return line.decode().strip()


async def _collect_claims(process: asyncio.subprocess.Process) -> list[str]:
    claimed = []
    while (line := await _read_line(process)) != "done":
        kind, job_id, _token = line.split()
        assert kind == "claimed", line
        claimed.append(job_id)
    assert await asyncio.wait_for(process.wait(), STEP_TIMEOUT_S) == 0
    return claimed


async def test_processes_claiming_together_never_share_a_job(
    store: JobStore, store_factory: StoreFactory, store_location: str
) -> None:
    job_ids = {(await store.create_job(make_new_job()))[0].job_id for _ in range(JOBS)}
    workers = [
        await _start_worker(store_factory, store_location, f"proc-{n}") for n in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert await _read_line(worker) == "ready"
        for worker in workers:  # all are open and waiting: release them together
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            await worker.stdin.drain()
        per_worker = await asyncio.gather(*(_collect_claims(worker) for worker in workers))
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

    every_claim = [job_id for claims in per_worker for job_id in claims]
    assert sorted(every_claim) == sorted(job_ids)  # each job exactly once
    assert await store.claim_next_job("late-worker", 30.0) is None


async def test_processes_opening_a_fresh_database_together_all_succeed(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    # Each process runs the migrations on open; they must not trip over each other.
    (tmp_path / "fresh").mkdir()
    location = store_factory.new_location(tmp_path / "fresh")
    workers = [await _start_worker(store_factory, location, f"proc-{n}") for n in range(3)]
    try:
        for worker in workers:
            assert await _read_line(worker) == "ready"
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
        per_worker = await asyncio.gather(*(_collect_claims(worker) for worker in workers))
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
                await worker.wait()

    assert per_worker == [[], [], []]
    reopened = await store_factory.open(location, None)
    try:
        assert (await reopened.count_active()).queued == 0
    finally:
        await reopened.close()
