"""Through the API app (in-process): an expired output answers 410, an expired job 404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.auth import load_key_registry
from comfy_gateway.config import GatewaySettings
from comfy_gateway.events import InProcessJobEvents
from comfy_gateway.jobs.model import Job
from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.retention import RetentionPolicy, RetentionSweeper
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import ManualClock, SqlJobStore
from integration.api.conftest import ACME_KEY, BASE_URL, SettableBackendHealth
from integration.api.worker_side import OutputFile, WorkerSide
from integration.retention.retention_world import DAY_S

POLICY = RetentionPolicy(output_retention_s=7 * DAY_S, job_retention_s=30 * DAY_S)


@pytest.fixture
async def client(
    tmp_path: Path, store: SqlJobStore, blobs: LocalBlobStore
) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(data_dir=tmp_path / "data", api_keys=f"acme:{ACME_KEY}")
    context = ApiContext(
        settings=settings,
        store=store,
        blobs=blobs,
        events=InProcessJobEvents(),
        keys=load_key_registry(settings.api_keys, None, require_api_key=False),
        fetcher=SafeFetcher(policy=AddressPolicy.from_entries([])),
        health=SettableBackendHealth(),
    )
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"X-API-Key": ACME_KEY}
    ) as http:
        yield http


@pytest.fixture
async def finished_job(store: SqlJobStore, blobs: LocalBlobStore) -> Job:
    side = WorkerSide(store=store, blobs=blobs, events=InProcessJobEvents())
    job = await side.submit()
    return await side.complete(job.job_id, [OutputFile(filename="a.png", data=b"\x89PNG one")])


async def test_expired_output_is_410_and_its_job_still_lists_it(
    client: httpx.AsyncClient,
    finished_job: Job,
    store: SqlJobStore,
    blobs: LocalBlobStore,
    clock: ManualClock,
) -> None:
    url = f"/v1/jobs/{finished_job.job_id}/outputs/0"
    assert (await client.get(url)).content == b"\x89PNG one"
    sweeper = RetentionSweeper(store=store, blobs=blobs, policy=POLICY)
    clock.advance(7 * DAY_S - 1)
    await sweeper.sweep_once()
    assert (await client.get(url)).status_code == 200

    clock.advance(2)
    await sweeper.sweep_once()
    response = await client.get(url)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "output_expired"
    job = await client.get(f"/v1/jobs/{finished_job.job_id}")
    assert job.status_code == 200
    assert [output["filename"] for output in job.json()["outputs"]] == ["a.png"]


async def test_expired_job_is_404(
    client: httpx.AsyncClient,
    finished_job: Job,
    store: SqlJobStore,
    blobs: LocalBlobStore,
    clock: ManualClock,
) -> None:
    clock.advance(30 * DAY_S + 1)
    await RetentionSweeper(store=store, blobs=blobs, policy=POLICY).sweep_once()
    response = await client.get(f"/v1/jobs/{finished_job.job_id}")
    assert response.status_code == 404
    assert (await client.get(f"/v1/jobs/{finished_job.job_id}/outputs/0")).status_code == 404
