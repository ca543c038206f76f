"""GET /health and GET /ready: what anonymous and authenticated callers see, and when the
process is ready."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext, BackendState
from comfy_gateway.jobs.errors import StoreError
from comfy_gateway.store.interface import ActiveCounts, JobStore
from integration.api.conftest import BASE_URL, SettableBackendHealth
from integration.api.worker_side import WorkerSide

DOWN = BackendState(url="http://127.0.0.1:8188", reachable=False, state="crashed", detail="x")


class ClosedStore:
    """A store that no longer answers, as a closed one should.

    (A real `SqlJobStore` cannot play this: its ``close()`` only empties the connection
    pool and the next call reconnects; and pulling its database file away leaks an
    aiosqlite thread from the failed connect, which breaks a later test. Both reported.)
    """

    async def count_active(self, tenant_id: str | None = None) -> ActiveCounts:
        raise StoreError("the job store is closed")


@pytest.fixture
async def closed_store_client(api_context: ApiContext) -> AsyncIterator[httpx.AsyncClient]:
    store = cast(JobStore, ClosedStore())
    app = create_app(dataclasses.replace(api_context, store=store))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


async def test_health_for_anonymous_callers_has_no_backend_details(
    anon_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    running = await worker_side.submit("acme")
    await worker_side.start(running.job_id)
    await worker_side.submit("acme")
    await worker_side.submit("beta")
    response = await anon_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "comfy": True, "queue": {"queued": 2, "running": 1}}


async def test_health_with_a_wrong_key_is_still_200_without_details(
    anon_client: httpx.AsyncClient,
) -> None:
    response = await anon_client.get("/health", headers={"X-API-Key": "wrong"})
    assert response.status_code == 200
    assert "backends" not in response.json()


async def test_health_for_authenticated_callers_lists_backends(
    client: httpx.AsyncClient, backend_health: SettableBackendHealth
) -> None:
    backend_health.states = [
        BackendState(url="http://gpu0:8188", reachable=True, state="ready"),
        BackendState(url="http://gpu1:8188", reachable=False, state="crashed", detail="boom"),
    ]
    body = (await client.get("/health")).json()
    assert body["comfy"] is True
    assert body["backends"] == [
        {"url": "http://gpu0:8188", "reachable": True, "state": "ready", "detail": None},
        {"url": "http://gpu1:8188", "reachable": False, "state": "crashed", "detail": "boom"},
    ]


async def test_health_says_comfy_false_when_no_backend_is_reachable(
    anon_client: httpx.AsyncClient, backend_health: SettableBackendHealth
) -> None:
    backend_health.states = [DOWN]
    body = (await anon_client.get("/health")).json()
    assert (body["ok"], body["comfy"]) == (True, False)


async def test_health_stays_200_when_the_store_is_gone(
    closed_store_client: httpx.AsyncClient,
) -> None:
    response = await closed_store_client.get("/health")
    assert response.status_code == 200
    assert response.json()["queue"] is None


async def test_ready_when_store_and_a_backend_answer(
    anon_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    for _ in range(3):  # queue depth never affects readiness
        await worker_side.submit()
    response = await anon_client.get("/ready")
    assert response.status_code == 200
    assert response.json()["ready"] is True


async def test_not_ready_without_a_usable_backend(
    anon_client: httpx.AsyncClient, backend_health: SettableBackendHealth
) -> None:
    backend_health.states = [DOWN]
    response = await anon_client.get("/ready")
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["store"], error["backend"]) == ("not_ready", True, False)
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("states", [[DOWN], []], ids=["down", "none-running"])
async def test_ready_when_a_backend_can_start_lazily(
    anon_client: httpx.AsyncClient,
    backend_health: SettableBackendHealth,
    states: list[BackendState],
) -> None:
    backend_health.states = states
    backend_health.lazy = True
    assert (await anon_client.get("/ready")).status_code == 200


async def test_not_ready_when_the_store_does_not_answer(
    closed_store_client: httpx.AsyncClient,
) -> None:
    response = await closed_store_client.get("/ready")
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["code"], error["store"], error["backend"]) == ("not_ready", False, True)
