"""Is the freshly started ComfyUI ready? ``GET /system_stats`` answers 200."""

from __future__ import annotations

import asyncio
import time
from enum import StrEnum

import httpx

PROBE_TIMEOUT_S = 2.0
POLL_INTERVAL_S = 0.1


class Readiness(StrEnum):
    READY = "ready"
    EXITED = "exited"
    TIMED_OUT = "timed_out"


async def probe_system_stats(client: httpx.AsyncClient, url: str) -> bool:
    """One probe: True on a 200, False on any other answer or none."""
    try:
        response = await client.get(f"{url}/system_stats", timeout=PROBE_TIMEOUT_S)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


async def wait_until_ready(
    client: httpx.AsyncClient,
    url: str,
    *,
    exited: asyncio.Future[int],
    timeout_s: float,
    poll_interval_s: float = POLL_INTERVAL_S,
) -> Readiness:
    """Probe until 200, the process exits (``exited`` done) or ``timeout_s`` runs out.

    ComfyUI announces readiness only by answering, so we poll; between probes we wait on
    the process's exit rather than sleeping, so a crash during startup is seen at once.
    """
    deadline = time.monotonic() + timeout_s
    while not exited.done():
        if await probe_system_stats(client, url):
            return Readiness.READY
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Readiness.TIMED_OUT
        await asyncio.wait({exited}, timeout=min(poll_interval_s, remaining))
    return Readiness.EXITED
