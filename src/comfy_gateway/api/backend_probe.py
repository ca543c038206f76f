"""`BackendHealth` for a process without a worker: ask each ComfyUI's ``/system_stats``.

`BackendHealth.backends()` is synchronous (the worker's pool answers from memory), so the
probe keeps the last answers and `refresh_if_stale` (awaited by the health routes) probes
again once they are older than ``max_age_s``; a short timeout keeps a dead backend from
holding a health check. An API-only process cannot start ComfyUI, so by default nothing
"can start lazily".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import httpx

from comfy_gateway.api.context import BackendState

STATE_READY = "ready"
STATE_UNREACHABLE = "unreachable"
STATE_ERROR = "error"
STATE_UNKNOWN = "unknown"


@runtime_checkable
class RefreshableBackendHealth(Protocol):
    """A `BackendHealth` whose answers come from probes that may need refreshing."""

    async def refresh_if_stale(self) -> None: ...


async def refresh_backend_health(health: object) -> None:
    """Refresh ``health`` first when it is a probe (the worker's pool needs nothing)."""
    if isinstance(health, RefreshableBackendHealth):
        await health.refresh_if_stale()


def _unknown(url: str) -> BackendState:
    return BackendState(url=url, reachable=False, state=STATE_UNKNOWN, detail="not probed yet")


async def probe_backend(client: httpx.AsyncClient, url: str) -> BackendState:
    """One ``GET {url}/system_stats``: 200 is ready, anything else is not."""
    try:
        response = await client.get(f"{url}/system_stats")
    except httpx.HTTPError as exc:
        detail = f"{type(exc).__name__}: {exc}".rstrip(": ")
        return BackendState(url=url, reachable=False, state=STATE_UNREACHABLE, detail=detail)
    if response.status_code != 200:
        detail = f"/system_stats answered HTTP {response.status_code}"
        return BackendState(url=url, reachable=False, state=STATE_ERROR, detail=detail)
    return BackendState(url=url, reachable=True, state=STATE_READY)


class ComfyBackendProbe:
    """Cached probes of the configured ComfyUI URLs."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = 2.0,
        max_age_s: float = 2.0,
        lazy_start: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._urls = tuple(url.rstrip("/") for url in urls)
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._lazy_start = lazy_start
        self._transport = transport
        self._clock = clock
        self._states = [_unknown(url) for url in self._urls]
        self._probed_at: float | None = None
        self._lock = asyncio.Lock()

    def backends(self) -> list[BackendState]:
        return list(self._states)

    def can_start_lazily(self) -> bool:
        return self._lazy_start

    def _is_fresh(self) -> bool:
        return self._probed_at is not None and self._clock() - self._probed_at < self._max_age_s

    async def refresh_if_stale(self) -> None:
        # The lock makes a burst of health checks share one round of probes.
        async with self._lock:
            if not self._is_fresh():
                await self._probe_all()

    async def refresh(self) -> list[BackendState]:
        """Probe every backend now, whatever the cache holds."""
        async with self._lock:
            await self._probe_all()
        return self.backends()

    async def _probe_all(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport) as client:
            probes = [probe_backend(client, url) for url in self._urls]
            self._states = list(await asyncio.gather(*probes))
        self._probed_at = self._clock()
