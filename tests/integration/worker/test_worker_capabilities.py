"""The worker claims only jobs its backends can run, against the simulator's catalogue.

Requirements are stored with each job (the API computes them at submit); here they are
computed the same way, with the validation package and the simulator's ``/object_info``.
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
from comfy_gateway.jobs.model import NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import SqlJobStore
from comfy_gateway.validation import NodeCatalogue, check_graph
from integration.worker.harness import TENANT, catalogue_worker, sim_config
from support.simulator_process import SimulatorProcess

MODEL = "late_arrival.safetensors"


def checkpoint_graph(ckpt_name: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt_name}},
        "2": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 1},
        },
        "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "c"}},
    }


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    yield simulator
    simulator.reset()  # the models this test installed must not leak into others


async def catalogue_of(url: str) -> NodeCatalogue:
    async with httpx.AsyncClient(base_url=url, timeout=10.0, trust_env=False) as client:
        return NodeCatalogue.from_object_info((await client.get("/object_info")).json())


async def store_job(store: SqlJobStore, graph: dict[str, Any], needs: dict[str, Any]) -> str:
    job_id = new_job_id()
    prepared = prepare_graph(graph, job_id=job_id)
    job = NewJob(job_id=job_id, tenant_id=TENANT, workflow=prepared.graph, requirements=needs)
    await store.create_job(job)
    return job_id


async def wait_terminal(store: SqlJobStore, job_id: str, timeout_s: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        job = await store.get_job(TENANT, job_id)
        if job.is_terminal:
            return job
        assert loop.time() < deadline, f"job {job_id} still {job.status}"
        await asyncio.sleep(0.05)  # polling a condition, with a deadline


async def test_model_installed_after_start_is_found_without_restart(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    async with catalogue_worker(sim.url, tmp_path) as (store, data_dir):
        first = await store_job(store, checkpoint_graph("x.png"), {"node_classes": ["SaveImage"]})
        refused = await wait_terminal(store, first)  # ComfyUI's 400: no such checkpoint
        assert refused.status is JobStatus.FAILED
        assert refused.error.code == "workflow_invalid"
        assert refused.error.node_errors
        assert list((data_dir / "catalogues").glob("*.json")), "catalogue not saved"

        await sim_config(sim.url, models={"checkpoints": [MODEL]})
        graph = checkpoint_graph(MODEL)
        checked = check_graph(graph, await catalogue_of(sim.url))
        assert checked.ok, checked.node_errors
        needs = checked.requirements
        assert needs.model_files == {"checkpoints": frozenset({MODEL})}
        job_id = await store_job(store, graph, needs.to_json())

        job = await wait_terminal(store, job_id)
        assert job.status is JobStatus.COMPLETED, job.error
        assert job.outputs


async def test_a_class_no_backend_has_fails_unsupported_backend(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    async with catalogue_worker(sim.url, tmp_path) as (store, _):
        graph = checkpoint_graph(MODEL)
        needs = {"node_classes": ["SaveImage", "NoSuchNodeClass"], "model_files": {}}
        job_id = await store_job(store, graph, needs)

        job = await wait_terminal(store, job_id)

    assert job.status is JobStatus.FAILED
    assert job.error.code == "unsupported_backend"
    assert "NoSuchNodeClass" in job.error.message
    assert sim.url in job.error.message
    assert job.attempts == 0  # never sent to ComfyUI
