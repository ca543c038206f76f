"""POST /v1/jobs/{id}/cancel and DELETE /v1/jobs/{id} in every state of a job."""

from __future__ import annotations

import httpx
import pytest

from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.store import SqlJobStore
from integration.api.recording_events import RecordingJobEvents
from integration.api.worker_side import WorkerSide


@pytest.fixture(params=["POST", "DELETE"])
def method(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _cancel(client: httpx.AsyncClient, job_id: str, method: str) -> httpx.Response:
    if method == "POST":
        return await client.post(f"/v1/jobs/{job_id}/cancel")
    return await client.delete(f"/v1/jobs/{job_id}")


async def test_queued_job_is_cancelled_at_once(
    client: httpx.AsyncClient,
    worker_side: WorkerSide,
    store: SqlJobStore,
    events: RecordingJobEvents,
    method: str,
) -> None:
    job = await worker_side.submit()
    response = await _cancel(client, job.job_id, method)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    stored = await store.get_job("acme", job.job_id)
    assert stored.status.value == "cancelled"
    assert events.published[-1].version == stored.version
    assert await store.claim_next_job("w", 30) is None


async def test_claimed_job_gets_a_cancel_request(
    client: httpx.AsyncClient, worker_side: WorkerSide, store: SqlJobStore, method: str
) -> None:
    job = await worker_side.submit()
    await worker_side.claim(job.job_id)
    response = await _cancel(client, job.job_id, method)
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["cancel_requested"]) == ("queued", True)
    assert (await store.get_job("acme", job.job_id)).cancel_requested


async def test_running_job_gets_a_cancel_request_the_worker_sees(
    client: httpx.AsyncClient,
    worker_side: WorkerSide,
    store: SqlJobStore,
    events: RecordingJobEvents,
    method: str,
) -> None:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    response = await _cancel(client, job.job_id, method)
    assert response.status_code == 202
    assert response.json()["status"] == "running"
    token = worker_side.claims[job.job_id].fencing_token
    assert (await store.heartbeat(job.job_id, token, 30)).cancel_requested
    assert events.published[-1].cancel_requested


@pytest.mark.parametrize("end", ["completed", "failed", "cancelled"])
async def test_terminal_job_is_409(
    client: httpx.AsyncClient, worker_side: WorkerSide, end: str, method: str
) -> None:
    job = await worker_side.submit()
    if end == "completed":
        await worker_side.start(job.job_id)
        await worker_side.complete(job.job_id)
    elif end == "failed":
        await worker_side.fail(job.job_id)
    else:
        assert (await _cancel(client, job.job_id, method)).status_code == 200
    response = await _cancel(client, job.job_id, method)
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["status"]) == ("job_finished", end)


async def test_cancel_of_another_tenants_job_is_404_and_changes_nothing(
    other_client: httpx.AsyncClient, worker_side: WorkerSide, store: SqlJobStore, method: str
) -> None:
    job = await worker_side.submit("acme")
    response = await _cancel(other_client, job.job_id, method)
    assert response.status_code == 404
    assert (await store.get_job("acme", job.job_id)).status.value == "queued"


@pytest.mark.parametrize("job_id", ["nope", new_job_id()])
async def test_cancel_of_unknown_job_is_404(
    client: httpx.AsyncClient, job_id: str, method: str
) -> None:
    response = await _cancel(client, job_id, method)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_cancel_without_a_key_is_401(
    anon_client: httpx.AsyncClient, worker_side: WorkerSide, method: str
) -> None:
    job = await worker_side.submit()
    response = await _cancel(anon_client, job.job_id, method)
    assert response.status_code == 401
