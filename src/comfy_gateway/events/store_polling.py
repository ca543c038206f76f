"""`JobEvents` for an API and a worker in different processes: poll the store.

A watch reads the job every ``poll_interval_s`` (≤ 250 ms) and reports it once its
version is above the one asked for. Publishers in *this* process still wake watchers at
once through an in-process channel, so a cancel made by this API is seen without waiting
for the next poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from comfy_gateway.events.in_process import InProcessJobEvents
from comfy_gateway.events.interface import JobWatch
from comfy_gateway.jobs.model import Job
from comfy_gateway.store.interface import JobStore

DEFAULT_POLL_INTERVAL_S = 0.2


class _PollingWatch:
    def __init__(
        self, store: JobStore, tenant_id: str, job_id: str, local: JobWatch, interval_s: float
    ) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._job_id = job_id
        self._local = local
        self._interval_s = interval_s

    async def next_change(self, after_version: int, timeout_s: float) -> Job | None:
        """Raises `JobNotFound` if the job disappears (deleted by retention)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            job = await self._store.get_job(self._tenant_id, self._job_id, with_workflow=False)
            if job.version > after_version:
                return job
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            wait_s = min(self._interval_s, remaining)
            pushed = await self._local.next_change(after_version, wait_s)
            if pushed is not None:
                return pushed


class StorePollingJobEvents:
    """Watches poll the store; publishes reach this process's watchers immediately."""

    def __init__(
        self, store: JobStore, *, poll_interval_s: float = DEFAULT_POLL_INTERVAL_S
    ) -> None:
        if poll_interval_s <= 0:
            raise ValueError(f"poll_interval_s must be positive, not {poll_interval_s}")
        self._store = store
        self._poll_interval_s = poll_interval_s
        self._local = InProcessJobEvents()

    async def publish(self, job: Job) -> None:
        await self._local.publish(job)

    def on_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Only this process's publishes: jobs queued elsewhere are found by polling."""
        return self._local.on_queued(listener)

    @asynccontextmanager
    async def watch(self, tenant_id: str, job_id: str) -> AsyncIterator[_PollingWatch]:
        async with self._local.watch(tenant_id, job_id) as local:
            yield _PollingWatch(self._store, tenant_id, job_id, local, self._poll_interval_s)
