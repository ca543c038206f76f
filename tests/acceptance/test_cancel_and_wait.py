"""Cancel at every stage, and `wait` running out of budget, over real processes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from acceptance.gateway_checks import (
    TERMINAL,
    assert_error,
    configure_simulator,
    execution_of,
    get_job,
    simulator_queue,
    submit,
    wait_for,
    wait_for_status,
)
from acceptance.workflows import inverted_colour_graph, plain_image_graph, preview_only_graph
from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import SimulatorProcess

SLOW_S = 60.0


def _closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def gateway_without_backend(tmp_path: Path) -> Iterator[GatewayProcess]:
    with run_serve(tmp_path / "gateway", [_closed_port_url()]) as process:
        yield process


def test_cancel_a_queued_job_with_no_reachable_backend(
    gateway_without_backend: GatewayProcess,
) -> None:
    with gateway_without_backend.client() as client:
        job = submit(client, {"workflow": inverted_colour_graph(1)})
        assert job["status"] == "queued"
        response = client.post(f"/v1/jobs/{job['job_id']}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert get_job(client, job["job_id"])["status"] == "cancelled"
        assert_error(client.post(f"/v1/jobs/{job['job_id']}/cancel"), 409)


def _running_slow_job(client_gateway: GatewayProcess, sim: SimulatorProcess) -> str:
    """Submit a job whose ImageInvert takes a minute; its id once ComfyUI runs it."""
    configure_simulator(sim, node_seconds_by_class={"ImageInvert": SLOW_S})
    with client_gateway.client() as client:
        job_id: str = submit(client, {"workflow": inverted_colour_graph(2)})["job_id"]
        wait_for_status(client, job_id, {"running"})
    return job_id


def _cancel_running(gateway: GatewayProcess, sim: SimulatorProcess, job_id: str) -> None:
    with gateway.client() as client:
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 202, response.text
        job = wait_for_status(client, job_id, TERMINAL, timeout=15)
        assert job["status"] == "cancelled", job

    def interrupted() -> str | None:
        execution = execution_of(sim, job_id)
        return None if execution is None or execution["outcome"] == "running" else "ended"

    wait_for(interrupted, f"the simulator to end prompt {job_id}", timeout=15)
    execution = execution_of(sim, job_id)
    assert execution is not None
    assert execution["outcome"] == "interrupted", execution


def test_cancel_a_running_job_interrupts_comfyui(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    job_id = _running_slow_job(gateway, sim)
    _cancel_running(gateway, sim, job_id)


def test_cancel_a_job_pending_inside_comfyui(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    running_id = _running_slow_job(gateway, sim)
    with gateway.client() as client:
        pending_id = submit(client, {"workflow": plain_image_graph(3)})["job_id"]
        wait_for(
            lambda: True if pending_id in simulator_queue(sim)[1] else None,
            f"job {pending_id} to wait in the simulator's queue",
        )
        assert get_job(client, pending_id)["status"] == "queued"
        response = client.post(f"/v1/jobs/{pending_id}/cancel")
        wait_for(
            lambda: True if pending_id not in simulator_queue(sim)[1] else None,
            f"job {pending_id} to leave the simulator's queue",
        )
        assert wait_for_status(client, pending_id, TERMINAL)["status"] == "cancelled"
    _cancel_running(gateway, sim, running_id)
    assert execution_of(sim, pending_id) is None
    # Checked last so a wrong answer code does not hide whether the cancel itself worked:
    # API.md, "queued → 200 cancelled", and a prompt pending in ComfyUI is still queued.
    assert (response.status_code, response.json()["status"]) == (200, "cancelled"), response.text


def test_wait_budget_runs_out_with_504_then_the_job_completes(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    configure_simulator(sim, node_seconds_by_class={"PreviewImage": 1.5})
    with gateway.client() as client:
        body = {"workflow": preview_only_graph(0x445566), "wait": True, "wait_timeout_s": 0.3}
        response = client.post("/v1/jobs", json=body)
        assert_error(response, 504, "wait_timeout")
        job_id = response.json()["error"]["job_id"]
        assert response.headers["location"] == f"/v1/jobs/{job_id}"
        assert get_job(client, job_id)["status"] in {"queued", "running"}
        finished = wait_for_status(client, job_id, TERMINAL)
        assert finished["status"] == "completed", finished
        assert len(finished["outputs"]) == 1


def test_cancel_a_queued_job_behind_a_busy_backend(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    running_id = _running_slow_job(gateway, sim)
    with gateway.client() as client:
        pending_id = submit(client, {"workflow": inverted_colour_graph(4)})["job_id"]
        wait_for(
            lambda: True if pending_id in simulator_queue(sim)[1] else None,
            f"job {pending_id} to wait in the simulator's queue",
        )
        # At most one of our prompts waits in ComfyUI, so this one stays in our own queue.
        queued_id = submit(client, {"workflow": inverted_colour_graph(5)})["job_id"]
        assert queued_id not in simulator_queue(sim)[1]
        response = client.post(f"/v1/jobs/{queued_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        client.post(f"/v1/jobs/{pending_id}/cancel")
        assert wait_for_status(client, pending_id, TERMINAL)["status"] == "cancelled"
    _cancel_running(gateway, sim, running_id)
    assert execution_of(sim, queued_id) is None
    assert execution_of(sim, pending_id) is None
