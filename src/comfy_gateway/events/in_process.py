"""`JobEvents` inside one process: publishers wake watchers through an asyncio.Condition."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus

logger = logging.getLogger(__name__)


@dataclass
class _Channel:
    # A fresh Event per publish: waiters wake on the one they saw. No lock and no
    # asyncio.wait_for, whose 3.11 version can swallow a cancel that races a wake-up.
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    latest: Job | None = None
    watchers: int = 0

    def advance(self, job: Job) -> None:
        if self.latest is None or job.version > self.latest.version:
            self.latest = job
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()


class _InProcessWatch:
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    async def next_change(self, after_version: int, timeout_s: float) -> Job | None:
        channel = self._channel
        try:
            async with asyncio.timeout(timeout_s):
                while channel.latest is None or channel.latest.version <= after_version:
                    await channel.changed.wait()
        except TimeoutError:
            return None
        return channel.latest


class InProcessJobEvents:
    """Snapshots handed from publisher to watchers in memory; nothing kept unwatched."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, str], _Channel] = {}
        self._queue_listeners: list[Callable[[], None]] = []

    async def publish(self, job: Job) -> None:
        channel = self._channels.get((job.tenant_id, job.job_id))
        if channel is not None:
            channel.advance(job)
        if job.status is JobStatus.QUEUED and job.claimed_by is None:
            self._tell_queue_listeners()

    def on_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._queue_listeners.append(listener)

        def remove() -> None:
            if listener in self._queue_listeners:
                self._queue_listeners.remove(listener)

        return remove

    def _tell_queue_listeners(self) -> None:
        for listener in list(self._queue_listeners):
            try:
                listener()
            except Exception:  # a listener's bug must not fail the publisher's request
                logger.exception("a queue listener failed")

    @asynccontextmanager
    async def watch(self, tenant_id: str, job_id: str) -> AsyncIterator[_InProcessWatch]:
        key = (tenant_id, job_id)
        channel = self._channels.setdefault(key, _Channel())
        channel.watchers += 1
        try:
            yield _InProcessWatch(channel)
        finally:
            channel.watchers -= 1
            if channel.watchers == 0:
                self._channels.pop(key, None)
