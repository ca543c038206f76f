"""The worker validates a job stored without requirements before ``POST /prompt``.

Such a job was accepted while no catalogue was known; the worker's catalogue of the
chosen backend refuses it without sending anything to ComfyUI, and a model installed
after the catalogue was fetched is found by refetching the stale class once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy_gateway.jobs.graph import prepare_graph
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job, NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import SqlJobStore
from comfy_gateway.validation import CatalogueCache
from integration.worker.harness import TENANT, catalogue_worker, sim_config
from support.simulator_process import SimulatorProcess

MODEL = "installed_later.safetensors"


def checkpoint_graph(ckpt_name: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt_name}},
        "2": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 1},
        },
        "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "p"}},
    }


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    yield simulator
    simulator.reset()  # installed models must not leak into other tests


async def store_job(store: SqlJobStore, graph: dict[str, Any]) -> str:
    """A job as the API stores it when no catalogue was known: no requirements."""
    job_id = new_job_id()
    prepared = prepare_graph(graph, job_id=job_id)
    await store.create_job(NewJob(job_id=job_id, tenant_id=TENANT, workflow=prepared.graph))
    return job_id


async def until(condition: Any, what: str, timeout_s: float = 20.0) -> Any:
    """Poll ``condition()`` (async) until it returns something truthy, with a deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (value := await condition()):
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)  # polling a condition, with a deadline
    return value


async def terminal(store: SqlJobStore, job_id: str) -> Job:
    async def finished() -> Job | None:
        job = await store.get_job(TENANT, job_id)
        return job if job.is_terminal else None

    job: Job = await until(finished, f"job {job_id} terminal")
    return job


async def catalogue_saved(data_dir: Path) -> None:
    async def saved() -> bool:
        return any((data_dir / "catalogues").glob("*.json"))

    await until(saved, "the worker fetched the backend's catalogue")


async def test_a_graph_the_catalogue_refuses_is_never_sent(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    async with catalogue_worker(sim.url, tmp_path) as (store, _):
        job_id = await store_job(store, checkpoint_graph("not_installed.safetensors"))
        job = await terminal(store, job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "workflow_invalid"
    assert job.error.node_errors is not None
    assert set(job.error.node_errors) == {"1"}
    assert job.error.node_errors["1"]["class_type"] == "CheckpointLoaderSimple"
    assert "'1' (CheckpointLoaderSimple) input 'ckpt_name'" in job.error.message
    assert "prompt_outputs_failed_validation" in job.error.message
    assert job.attempts == 0  # no attempt: POST /prompt was never made
    async with httpx.AsyncClient(base_url=sim.url, timeout=10.0, trust_env=False) as http:
        assert (await http.get("/_sim/executions")).json() == {"executions": []}
        assert (await http.get(f"/history/{job_id}")).json() == {}
        queue = (await http.get("/queue")).json()
    assert queue == {"queue_running": [], "queue_pending": []}


async def test_a_model_installed_after_the_catalogue_was_fetched_is_refetched(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    async with catalogue_worker(sim.url, tmp_path) as (store, data_dir):
        await catalogue_saved(data_dir)
        await sim_config(sim.url, models={"checkpoints": [MODEL]})
        job_id = await store_job(store, checkpoint_graph(MODEL))
        job = await terminal(store, job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.outputs
    saved = CatalogueCache(data_dir).load_all()
    assert [MODEL in c.installed_model_files("checkpoints") for c in saved.values()] == [True]


async def test_a_job_checked_at_submit_is_not_checked_again(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    # Requirements say the submit-time check passed (say, against another catalogue):
    # the worker sends it as it is, and ComfyUI's own validation has the last word.
    async with catalogue_worker(sim.url, tmp_path) as (store, data_dir):
        await catalogue_saved(data_dir)
        job_id = new_job_id()
        graph = prepare_graph(checkpoint_graph("not_installed.safetensors"), job_id=job_id).graph
        new_job = NewJob(job_id=job_id, tenant_id=TENANT, workflow=graph, requirements={})
        await store.create_job(new_job)
        job = await terminal(store, job_id)
        attempts = await store.list_attempts(TENANT, job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "workflow_invalid"
    assert [attempt.outcome for attempt in attempts] == ["failed"]  # it reached ComfyUI
