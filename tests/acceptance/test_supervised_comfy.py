"""A supervised ComfyUI (the simulator under ``--comfy-cmd``), with real processes.

The simulator is started lazily by the first job; ``kill -9`` of it mid-job makes the
supervisor restart it and the worker retry the job, the crash on record in its attempt.
Attempts are read from the store file after ``serve`` stopped (the API shows only their
count).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from acceptance.gateway_checks import TERMINAL, submit, wait_for, wait_for_status
from acceptance.workflows import inverted_colour_graph
from comfy_gateway.auth import DEFAULT_TENANT
from comfy_gateway.jobs.model import Attempt
from comfy_gateway.store import open_sqlite_store
from comfy_gateway.supervisor.pidfile import read_pidfile
from support.gateway_process import run_serve

SIMULATOR_CMD = (
    f"{sys.executable} -m comfy_gateway simulate --port {{port}} --data-dir {{data_dir}}"
    " --node-seconds 1.0"
)


def _backends(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/health")
    assert response.status_code == 200, response.text
    backends: list[dict[str, Any]] = response.json()["backends"]
    return backends


def _pid_of_simulator(pidfile: Path, other_than: int | None = None) -> int:
    def check() -> int | None:
        record = read_pidfile(pidfile)
        return record.pid if record is not None and record.pid != other_than else None

    return wait_for(check, f"a pid in {pidfile}", timeout=30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _attempts(data_dir: Path, job_id: str) -> tuple[Attempt, ...]:
    store = await open_sqlite_store(data_dir / "comfy-gateway.sqlite3")
    try:
        return await store.list_attempts(DEFAULT_TENANT, job_id)
    finally:
        await store.close()


def test_kill_9_of_the_supervised_simulator_mid_job_retries_the_job(tmp_path: Path) -> None:
    pidfile = tmp_path / "comfyui" / "comfyui.pid"
    with (
        run_serve(tmp_path, [], extra_args=["--comfy-cmd", SIMULATOR_CMD]) as gateway,
        gateway.client() as client,
    ):
        assert [b["state"] for b in _backends(client)] == ["stopped"]
        assert client.get("/ready").status_code == 200  # startable on demand counts
        assert not pidfile.exists()  # lazy: nothing runs before the first job

        job_id = submit(client, {"workflow": inverted_colour_graph(9)})["job_id"]
        wait_for_status(client, job_id, {"running"}, timeout=30)
        first_pid = _pid_of_simulator(pidfile)
        os.kill(first_pid, signal.SIGKILL)

        job = wait_for_status(client, job_id, TERMINAL, timeout=60)
        assert job["status"] == "completed", gateway.log_tail()
        assert job["attempts"] == 2
        assert len(job["outputs"]) == 1
        second_pid = _pid_of_simulator(pidfile, other_than=first_pid)
        [backend] = _backends(client)
        assert (backend["state"], backend["reachable"]) == ("ready", True)
        assert "supervised ComfyUI comfyui" not in str(backend)  # no crash text in /health

    assert not _alive(second_pid), "serve must stop its supervised ComfyUI"
    first, second = asyncio.run(_attempts(tmp_path, job_id))
    assert (first.outcome, second.outcome) == ("retried", "completed")
    assert first.detail is not None
    assert f"exited with code -{signal.SIGKILL.value}" in first.detail
    assert "--- launch 1:" in first.detail  # the log tail came with it
