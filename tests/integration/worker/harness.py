"""A real worker against a real simulator, a real SQLite store and a local blob store.

Jobs are created the way the API would: the graph goes through ``prepare_graph`` with
media wired to ``comfy-gateway/<sha256>.<ext>`` and the media bytes put in the blob store.
Tests wait for store states through ``JobEvents`` (the worker publishes every visible
write), never by sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from comfy_gateway.comfy import ReconnectPolicy
from comfy_gateway.events import InProcessJobEvents
from comfy_gateway.jobs.graph import prepare_graph
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job, MediaRef, NewJob
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore, open_sqlite_store
from comfy_gateway.validation import CatalogueCache
from comfy_gateway.worker import BackendPool, RetryBackoff, Worker, WorkerOptions
from comfy_gateway.worker.capabilities import BackendCatalogues

TENANT = "tenant-a"
Graph = dict[str, Any]


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclass
class WorkerHarness:
    store: SqlJobStore
    blobs: LocalBlobStore
    events: InProcessJobEvents
    pool: BackendPool
    worker: Worker

    async def submit(
        self,
        workflow: Graph,
        *,
        media: Mapping[str, bytes] | None = None,
        timeout_s: float = 3600.0,
        priority: int = 0,
    ) -> str:
        job_id = new_job_id()
        refs = [await self._stage_media(job_id, name, data) for name, data in (media or {}).items()]
        wiring = {ref.name: f"comfy-gateway/{ref.filename}" for ref in refs}
        prepared = prepare_graph(workflow, job_id=job_id, media_refs=wiring)
        new_job = NewJob(
            job_id=job_id,
            tenant_id=TENANT,
            workflow=prepared.graph,
            media=tuple(refs),
            timeout_s=timeout_s,
            priority=priority,
        )
        await self.store.create_job(new_job)
        return job_id

    async def _stage_media(self, job_id: str, name: str, data: bytes) -> MediaRef:
        sha = hashlib.sha256(data).hexdigest()
        ext = name.rsplit(".", 1)[-1]
        key = f"{TENANT}/media/{job_id}/{sha}.{ext}"
        await self.blobs.put(key, one_chunk(data), content_type=f"image/{ext}")
        return MediaRef(
            name=name,
            filename=f"{sha}.{ext}",
            content_type=f"image/{ext}",
            size_bytes=len(data),
            sha256=sha,
            storage_key=key,
        )

    async def wait_for(
        self, job_id: str, predicate: Callable[[Job], bool], timeout_s: float = 30.0
    ) -> Job:
        """The job once ``predicate`` holds; AssertionError after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        async with self.events.watch(TENANT, job_id) as watch:
            job = await self.store.get_job(TENANT, job_id)
            while not predicate(job):
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(f"job {job_id} never got there; last seen {job}")
                changed = await watch.next_change(job.version, min(remaining, 0.5))
                # Some writes (claims) publish nothing: read the store when nothing came.
                job = changed or await self.store.get_job(TENANT, job_id)
        return job

    async def wait_terminal(self, job_id: str, timeout_s: float = 30.0) -> Job:
        return await self.wait_for(job_id, lambda job: job.is_terminal, timeout_s)

    async def blob_bytes(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.blobs.read(key)])

    async def cancel(self, job_id: str) -> Job:
        """What the API's cancel route does: flag (or cancel) in the store, then publish."""
        job = await self.store.request_cancel(TENANT, job_id)
        await self.events.publish(job)
        return job


def worker_options(**overrides: Any) -> WorkerOptions:
    values: dict[str, Any] = {
        "worker_id": "test-worker",
        "lease_s": 3.0,
        "progress_persist_interval_s": 0.0,
        "claim_poll_interval_s": 0.02,
        "drain_timeout_s": 2.0,
    }
    return WorkerOptions(**{**values, **overrides})


def backend_pool_for(
    url: str | list[str], *, reconnect_budget_s: float = 10.0, client_token: str | None = None
) -> BackendPool:
    return BackendPool(
        [url] if isinstance(url, str) else url,
        reconnect_policy=ReconnectPolicy(initial=0.05, maximum=0.3, budget=reconnect_budget_s),
        retry=RetryBackoff(initial=0.1, maximum=0.3),
        client_token=client_token,
    )


@asynccontextmanager
async def running_worker(
    url: str | list[str],
    tmp_path: Path,
    *,
    options: WorkerOptions | None = None,
    reconnect_budget_s: float = 10.0,
    store: SqlJobStore | None = None,
    client_token: str | None = None,
    blobs: LocalBlobStore | None = None,
) -> AsyncIterator[WorkerHarness]:
    """A worker on ``url`` until the block ends; on its own store unless ``store`` is given
    (then the caller closes it)."""
    own_store = store is None
    store = store or await open_sqlite_store(tmp_path / "jobs.sqlite3")
    blobs = blobs or LocalBlobStore(tmp_path / "blobs")
    events = InProcessJobEvents()
    pool = backend_pool_for(url, reconnect_budget_s=reconnect_budget_s, client_token=client_token)
    worker = Worker(
        options or worker_options(), store=store, blobs=blobs, events=events, backends=pool
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield WorkerHarness(store, blobs, events, pool, worker)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            if own_store:
                await store.close()


def sim_control(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=10.0, trust_env=False)


async def executions(url: str) -> list[dict[str, Any]]:
    async with sim_control(url) as client:
        response = await client.get("/_sim/executions")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["executions"]
        return found


async def sim_post(url: str, path: str, body: Any = None) -> None:
    async with sim_control(url) as client:
        (await client.post(path, json=body)).raise_for_status()


async def sim_config(url: str, **config: Any) -> None:
    async with sim_control(url) as client:
        (await client.put("/_sim/config", json=config)).raise_for_status()


async def wait_pending_in_comfyui(url: str, prompt_id: str, timeout_s: float = 10.0) -> None:
    """Until ComfyUI's ``/queue`` lists ``prompt_id`` as pending (POST /prompt went through)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with sim_control(url) as client:
        while True:
            queue = (await client.get("/queue")).json()
            if prompt_id in [item[1] for item in queue["queue_pending"]]:
                return
            assert loop.time() < deadline, f"{prompt_id} never reached ComfyUI's queue"
            await asyncio.sleep(0.02)  # polling a condition, with a deadline


@asynccontextmanager
async def catalogue_worker(url: str, tmp_path: Path) -> AsyncIterator[tuple[SqlJobStore, Path]]:
    """A worker that keeps backend catalogues under ``tmp_path/data``: (store, data dir)."""
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    data_dir = tmp_path / "data"
    worker = Worker(
        worker_options(),
        store=store,
        blobs=LocalBlobStore(tmp_path / "blobs"),
        events=InProcessJobEvents(),
        backends=backend_pool_for(url),
        catalogues=BackendCatalogues(CatalogueCache(data_dir)),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield store, data_dir
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await store.close()
