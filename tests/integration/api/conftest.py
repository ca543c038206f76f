"""Shared fixtures of the API tests: a real SQLite store, a real local blob store and
in-process events behind the app, driven in-process over `httpx.ASGITransport`.

Tenants: ``acme`` (the `client` fixture) and ``beta`` (`other_client`); `anon_client`
sends no key. `worker_side` changes jobs the way the worker would — through the store's
worker-side methods, then `events.publish` — never by writing SQL.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext, BackendState
from comfy_gateway.auth import load_key_registry
from comfy_gateway.config import GatewaySettings
from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore, open_sqlite_store
from integration.api.recording_events import RecordingJobEvents
from integration.api.worker_side import WorkerSide

ACME_KEY = "acme-key-0123456789"
BETA_KEY = "beta-key-9876543210"
BASE_URL = "http://gateway.test"


@dataclass
class SettableBackendHealth:
    """A `BackendHealth` whose answers the test sets (stands in for the worker's pool)."""

    states: list[BackendState] = field(
        default_factory=lambda: [
            BackendState(url="http://127.0.0.1:8188", reachable=True, state="ready")
        ]
    )
    lazy: bool = False

    def backends(self) -> list[BackendState]:
        return list(self.states)

    def can_start_lazily(self) -> bool:
        return self.lazy


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(data_dir=tmp_path / "data", api_keys=f"acme:{ACME_KEY},beta:{BETA_KEY}")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "jobs.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqlJobStore]:
    job_store = await open_sqlite_store(db_path)
    try:
        yield job_store
    finally:
        await job_store.close()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def events() -> RecordingJobEvents:
    return RecordingJobEvents()


@pytest.fixture
def backend_health() -> SettableBackendHealth:
    return SettableBackendHealth()


@pytest.fixture
def api_context(
    settings: GatewaySettings,
    store: SqlJobStore,
    blobs: LocalBlobStore,
    events: RecordingJobEvents,
    backend_health: SettableBackendHealth,
) -> ApiContext:
    keys = load_key_registry(settings.api_keys, None, require_api_key=False)
    fetcher = SafeFetcher(policy=AddressPolicy.from_entries(settings.fetch_allow_list))
    return ApiContext(
        settings=settings,
        store=store,
        blobs=blobs,
        events=events,
        keys=keys,
        fetcher=fetcher,
        health=backend_health,
    )


@pytest.fixture
def app(api_context: ApiContext) -> FastAPI:
    return create_app(api_context)


def _client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, {"X-API-Key": ACME_KEY}) as http:
        yield http


@pytest.fixture
async def other_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, {"X-API-Key": BETA_KEY}) as http:
        yield http


@pytest.fixture
async def anon_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, {}) as http:
        yield http


@pytest.fixture
def worker_side(
    store: SqlJobStore, blobs: LocalBlobStore, events: RecordingJobEvents
) -> WorkerSide:
    return WorkerSide(store=store, blobs=blobs, events=events)


@pytest.fixture
async def server_url(app: FastAPI) -> AsyncIterator[str]:
    """The app served by uvicorn on a loopback socket, in the test's event loop."""
    # log_config=None: uvicorn leaves logging alone, so its access log reaches caplog.
    config = uvicorn.Config(app, lifespan="off", ws="none", log_config=None, access_log=True)
    server = uvicorn.Server(config)
    # A socket already listening: connections wait in its backlog until uvicorn accepts
    # them, so the test needs no "has it started yet?" polling.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
        listener.close()
