"""``GET /status/{job_id}``, the keys and tenancy of the shim's routes, and ``/health``."""

from __future__ import annotations

import json

import httpx
import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.conftest import ACME_KEY, BASE_URL
from integration.api.submit_fixtures import assert_nothing_stored
from integration.api.worker_side import WORKFLOW, OutputFile, WorkerSide

WORKFLOW_PART = ("workflow", ("flow.json", json.dumps(WORKFLOW), "application/json"))
NO_WAIT = ("wait", (None, "false"))


async def test_status_of_a_queued_job(client: httpx.AsyncClient, worker_side: WorkerSide) -> None:
    job = await worker_side.submit("acme")

    response = await client.get(f"/status/{job.job_id}")

    assert response.status_code == 200
    assert response.json() == {"job_id": job.job_id, "status": "queued", "outputs": {}}


async def test_status_of_a_running_job(client: httpx.AsyncClient, worker_side: WorkerSide) -> None:
    job = await worker_side.submit("acme")
    await worker_side.start(job.job_id)

    response = await client.get(f"/status/{job.job_id}")

    assert response.json()["status"] == "running"


async def test_status_of_a_completed_job_lists_its_files_by_node(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")
    produced = [
        OutputFile(filename="a.png", data=b"a"),
        OutputFile(filename="b.mp4", data=b"b", kind="video"),
    ]
    await worker_side.complete(job.job_id, produced)

    response = await client.get(f"/status/{job.job_id}")

    body = response.json()
    assert (body["job_id"], body["status"]) == (job.job_id, "completed")
    files = body["outputs"]["2"]["images"]
    assert [entry["filename"] for entry in files] == ["a.png", "b.mp4"]
    assert [entry["url"] for entry in files] == [
        f"{BASE_URL}/v1/jobs/{job.job_id}/outputs/{index}" for index in (0, 1)
    ]
    assert body["outputs"]["2"]["animated"] == [True]


async def test_status_of_a_cancelled_job(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")
    await client.post(f"/v1/jobs/{job.job_id}/cancel")

    response = await client.get(f"/status/{job.job_id}")

    assert response.json()["status"] == "cancelled"


@pytest.mark.parametrize("job_id", ["nope", "job_01J0000000000000000000000"])
async def test_status_of_an_unknown_job_is_404(client: httpx.AsyncClient, job_id: str) -> None:
    response = await client.get(f"/status/{job_id}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_status_of_another_tenants_job_is_404(
    other_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")

    response = await other_client.get(f"/status/{job.job_id}")

    assert response.status_code == 404


async def test_run_and_status_need_a_key(
    anon_client: httpx.AsyncClient,
    worker_side: WorkerSide,
    store: SqlJobStore,
) -> None:
    job = await worker_side.submit("acme")

    run = await anon_client.post("/run", files=[WORKFLOW_PART, NO_WAIT])
    status = await anon_client.get(f"/status/{job.job_id}")
    wrong = await anon_client.get(f"/status/{job.job_id}", headers={"X-API-Key": "wrong"})

    assert [run.status_code, status.status_code, wrong.status_code] == [401, 401, 401]
    assert run.json()["error"]["code"] == "unauthorized"
    assert [j.job_id for j in (await store.list_jobs("acme")).jobs] == [job.job_id]


async def test_a_query_key_works_and_the_job_belongs_to_its_tenant(
    anon_client: httpx.AsyncClient, other_client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    run = await anon_client.post(f"/run?api_key={ACME_KEY}", files=[WORKFLOW_PART, NO_WAIT])
    job_id = run.json()["job_id"]

    status = await anon_client.get(f"/status/{job_id}", params={"api_key": ACME_KEY})
    foreign = await other_client.get(f"/status/{job_id}")

    assert run.status_code == 200, run.text
    assert status.json()["status"] == "queued"
    assert foreign.status_code == 404
    assert (await store.get_job("acme", job_id)).tenant_id == "acme"


async def test_health_answers_ok_and_comfy(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["comfy"] is True  # the fixture's one backend is reachable


async def test_a_refused_run_stores_nothing(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    response = await client.post("/run", files=[NO_WAIT, ("workflow", (None, "{not json"))])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize(("path", "status"), [("../x.json", 403), ("x.json", 404)])
async def test_workflow_path_without_template_folders(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.post("/run", files=[NO_WAIT, ("workflow_path", (None, path))])

    assert response.status_code == status, response.text
