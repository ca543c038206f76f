"""`InProcessJobEvents` that also tells a test when watches open and close, so a test
can wait for an SSE stream to be subscribed before it changes the job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from comfy_gateway.events import InProcessJobEvents, JobWatch
from comfy_gateway.jobs.model import Job


class RecordingJobEvents:
    def __init__(self) -> None:
        self._inner = InProcessJobEvents()
        self.open_watches = 0
        self.published: list[Job] = []
        self._changed = asyncio.Event()

    async def publish(self, job: Job) -> None:
        self.published.append(job)
        await self._inner.publish(job)

    def on_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        return self._inner.on_queued(listener)

    @asynccontextmanager
    async def watch(self, tenant_id: str, job_id: str) -> AsyncIterator[JobWatch]:
        async with self._inner.watch(tenant_id, job_id) as inner:
            self._count(+1)
            try:
                yield inner
            finally:
                # Synchronous on purpose: a cancelled stream cannot await in its cleanup.
                self._count(-1)

    def _count(self, delta: int) -> None:
        self.open_watches += delta
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_watches(self, count: int, timeout_s: float = 5.0) -> None:
        """Return once exactly ``count`` watches are open (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout_s):
            while self.open_watches != count:
                await self._changed.wait()
