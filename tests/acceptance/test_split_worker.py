"""`serve --no-worker` and `comfy-gateway worker` as two processes on one data folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acceptance.gateway_checks import (
    TERMINAL,
    configure_simulator,
    execution_of,
    submit,
    wait_for,
    wait_for_status,
)
from acceptance.workflows import inverted_colour_graph
from support.gateway_process import GatewayProcess, run_serve, run_worker
from support.simulator_process import SimulatorProcess


@pytest.fixture(scope="module")
def api(
    simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """The API process (no worker of its own) and, beside it, a worker process."""
    data_dir = tmp_path_factory.mktemp("split")
    with (
        run_serve(data_dir, [simulator.url], extra_args=["--no-worker"]) as api_process,
        run_worker(data_dir, [simulator.url]),
    ):
        yield api_process


def _read_events(client: httpx.Client, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every (event, data) of the job's SSE stream, until the server closes it."""
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_sse_stream_shows_progress_and_ends_with_end(
    api: GatewayProcess, sim: SimulatorProcess
) -> None:
    # Slow enough nodes that the API's store polling sees progress between them.
    configure_simulator(sim, node_seconds=0.6)
    with api.client() as client:
        job_id = submit(client, {"workflow": inverted_colour_graph(0x010203)})["job_id"]
        events = _read_events(client, job_id)
    names = [name for name, _ in events]
    assert names[-1] == "end", names
    assert names.count("end") == 1, names
    assert events[-1][1]["status"] == "completed", events[-1]
    progress = [data["progress"] for name, data in events if name == "progress"]
    assert progress, f"no progress event in {names}"
    assert progress == sorted(progress), progress
    assert any(0 < value < 100 for value in progress), progress


def test_wait_returns_the_completed_job(api: GatewayProcess, sim: SimulatorProcess) -> None:
    with api.client() as client:
        body = {"workflow": inverted_colour_graph(0x0A0B0C), "wait": True, "wait_timeout_s": 30}
        response = client.post("/v1/jobs", json=body)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "completed"
    assert len(job["outputs"]) == 1


def test_cancel_a_running_job_across_processes(api: GatewayProcess, sim: SimulatorProcess) -> None:
    configure_simulator(sim, node_seconds_by_class={"ImageInvert": 60.0})
    with api.client() as client:
        job_id = submit(client, {"workflow": inverted_colour_graph(0x0D0E0F)})["job_id"]
        wait_for_status(client, job_id, {"running"})
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 202, response.text
        assert wait_for_status(client, job_id, TERMINAL, timeout=15)["status"] == "cancelled"

    def ended() -> dict[str, Any] | None:
        execution = execution_of(sim, job_id)
        return None if execution is None or execution["outcome"] == "running" else execution

    assert wait_for(ended, f"prompt {job_id} to end")["outcome"] == "interrupted"
