"""`JobEvents` inside one process: publishers wake watchers through an asyncio.Condition."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from comfy_gateway.jobs.model import Job


@dataclass
class _Channel:
    condition: asyncio.Condition = field(default_factory=asyncio.Condition)
    latest: Job | None = None
    watchers: int = 0


class _InProcessWatch:
    def __init__(self, channel: _Channel) -> None:
        self._channel = channel

    async def next_change(self, after_version: int, timeout_s: float) -> Job | None:
        channel = self._channel

        def changed() -> bool:
            return channel.latest is not None and channel.latest.version > after_version

        async with channel.condition:
            try:
                await asyncio.wait_for(channel.condition.wait_for(changed), timeout_s)
            except TimeoutError:
                return None
            return channel.latest


class InProcessJobEvents:
    """Snapshots handed from publisher to watchers in memory; nothing kept unwatched."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, str], _Channel] = {}

    async def publish(self, job: Job) -> None:
        channel = self._channels.get((job.tenant_id, job.job_id))
        if channel is None:
            return
        async with channel.condition:
            if channel.latest is None or job.version > channel.latest.version:
                channel.latest = job
            channel.condition.notify_all()

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
