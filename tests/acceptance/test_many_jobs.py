"""500 concurrent submissions: every job runs exactly once on the backend, nothing else runs."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from acceptance.gateway_checks import executions, wait_for
from acceptance.workflows import Graph
from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import SimulatorProcess

JOBS = 500
CONNECTIONS = 64


@pytest.fixture
def gateway_of_its_own(sim: SimulatorProcess, tmp_path: Path) -> Iterator[GatewayProcess]:
    with run_serve(tmp_path / "gateway", [sim.url]) as process:
        yield process


def _tiny_graph(index: int) -> Graph:
    # A distinct colour per job, so ComfyUI's cache cannot make two prompts one.
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 1, "height": 1, "batch_size": 1, "color": index},
        },
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "many"}},
    }


async def _submit_all(gateway: GatewayProcess) -> list[str]:
    async with gateway.async_client(max_connections=CONNECTIONS) as client:

        async def submit_one(index: int) -> str:
            response = await client.post("/v1/jobs", json={"workflow": _tiny_graph(index)})
            assert response.status_code == 202, response.text
            job_id: str = response.json()["job_id"]
            return job_id

        return await asyncio.gather(*(submit_one(index) for index in range(JOBS)))


def _completed_ids(client: httpx.Client) -> set[str]:
    response = client.get("/v1/jobs", params={"status": "completed", "limit": 500})
    assert response.status_code == 200, response.text
    return {job["job_id"] for job in response.json()["jobs"]}


def _unfinished(client: httpx.Client) -> int:
    response = client.get("/v1/jobs", params={"status": "queued,running,failed,cancelled"})
    assert response.status_code == 200, response.text
    return len(response.json()["jobs"])


def test_500_concurrent_submissions_each_run_exactly_once(
    gateway_of_its_own: GatewayProcess, sim: SimulatorProcess
) -> None:
    started = time.monotonic()
    job_ids = asyncio.run(_submit_all(gateway_of_its_own))
    assert len(set(job_ids)) == JOBS
    with gateway_of_its_own.client() as client:
        done = wait_for(
            lambda: True if len(_completed_ids(client)) == JOBS else None,
            f"{JOBS} completed jobs",
            timeout=90,
            interval=0.5,  # listing 500 jobs is not free; do not steal the worker's CPU
        )
        assert done
        assert _completed_ids(client) == set(job_ids)
        assert _unfinished(client) == 0
    ran = Counter(run["prompt_id"] for run in executions(sim))
    assert set(ran) == set(job_ids), set(ran) ^ set(job_ids)
    assert [prompt for prompt, count in ran.items() if count != 1] == []
    print(f"{JOBS} jobs submitted and completed in {time.monotonic() - started:.1f}s")
