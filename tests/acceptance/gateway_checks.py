"""Polling and inspection helpers: ask the gateway or the simulator until a condition holds.

Every wait polls a real observable (a job's status, the simulator's queue or execution
log) against a deadline, and fails with what it last saw.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, TypeVar

import httpx

from support.simulator_process import SimulatorProcess

T = TypeVar("T")
POLL_INTERVAL_S = 0.05
TERMINAL = frozenset({"completed", "failed", "cancelled"})


def wait_for(
    check: Callable[[], T | None],
    what: str,
    timeout: float = 20.0,
    interval: float = POLL_INTERVAL_S,
) -> T:
    """Call ``check`` until it returns something other than None, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)  # pacing between polls, not a stand-in for synchronisation


def get_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for_status(
    client: httpx.Client, job_id: str, statuses: Collection[str], timeout: float = 20.0
) -> dict[str, Any]:
    """The job's body once its status is one of ``statuses``."""
    seen: list[str] = []

    def check() -> dict[str, Any] | None:
        job = get_job(client, job_id)
        seen.append(job["status"])
        return job if job["status"] in statuses else None

    try:
        return wait_for(check, f"job {job_id} to reach {sorted(statuses)}", timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last statuses seen: {seen[-3:]}") from None


def submit(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/jobs as JSON; the 202 job body."""
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def simulator_queue(simulator: SimulatorProcess) -> tuple[list[str], list[str]]:
    """Prompt ids (running, pending) in the simulator's ComfyUI queue."""
    with simulator.control() as control:
        queue = control.get("/queue").json()
    return (
        [entry[1] for entry in queue["queue_running"]],
        [entry[1] for entry in queue["queue_pending"]],
    )


def executions(simulator: SimulatorProcess) -> list[dict[str, Any]]:
    """Every prompt the simulator started executing (survives history deletion)."""
    with simulator.control() as control:
        found: list[dict[str, Any]] = control.get("/_sim/executions").json()["executions"]
    return found


def execution_of(simulator: SimulatorProcess, prompt_id: str) -> dict[str, Any] | None:
    matches = [run for run in executions(simulator) if run["prompt_id"] == prompt_id]
    assert len(matches) <= 1, f"prompt {prompt_id} executed {len(matches)} times"
    return matches[0] if matches else None


def configure_simulator(simulator: SimulatorProcess, **durations: Any) -> None:
    """PUT /_sim/config (node_seconds, step_seconds, node_seconds_by_class)."""
    with simulator.control() as control:
        control.put("/_sim/config", json=durations).raise_for_status()


def simulator_file(simulator: SimulatorProcess, job_id: str, filename: str) -> Path:
    """The file the simulator wrote for this job (its prefix puts it under our job folder)."""
    roots = [simulator.data_dir / "output", simulator.data_dir / "temp"]
    found = [
        path
        for root in roots
        for path in root.rglob(filename)
        if f"comfy-gateway/{job_id}/" in path.as_posix() or root.name == "temp"
    ]
    assert len(found) == 1, f"expected one simulator file {filename} of job {job_id}: {found}"
    return found[0]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(client: httpx.Client, output: dict[str, Any]) -> bytes:
    response = client.get(output["url"])
    assert response.status_code == 200, response.text
    return response.content


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    """A ``status`` answer in the one error shape ``{"error": {"code", "message"}}``."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    error = response.json()["error"]
    assert isinstance(error["code"], str), error
    assert isinstance(error["message"], str), error
    if code is not None:
        assert error["code"] == code, error


def assert_address_refused(response: httpx.Response) -> None:
    """A 422 ``media_fetch_failed`` because the address guard refused the target, not
    because the connection failed (both share the code; only the message tells them apart)."""
    assert_error(response, 422, "media_fetch_failed")
    message = response.json()["error"]["message"]
    assert "refusing to connect" in message, message
