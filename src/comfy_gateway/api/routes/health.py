"""``GET /health`` (liveness, with what we know) and ``GET /ready`` (readiness).

``/health`` answers 200 as long as the process can answer at all; backend details go only
to authenticated callers (URLs and errors are internal). ``/ready`` is 200 once the store
answers and a backend is ready or can be started on demand; queue depth never matters
(a full queue must not take the API out of a load balancer, reads still work).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from fastapi import APIRouter

from comfy_gateway.api.auth_dependency import Context, OptionalTenant
from comfy_gateway.api.backend_probe import refresh_backend_health
from comfy_gateway.api.context import ApiContext, BackendState
from comfy_gateway.api.errors import ApiError
from comfy_gateway.store.interface import ActiveCounts, JobStore

STORE_CHECK_TIMEOUT_S = 2.0

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


async def store_counts(store: JobStore) -> ActiveCounts | None:
    """The queue counts, or None when the store does not answer in time."""
    try:
        return await asyncio.wait_for(store.count_active(), STORE_CHECK_TIMEOUT_S)
    except Exception as exc:  # any failure means "not answering", never a 500 here
        logger.warning("health check: the job store does not answer: %r", exc)
        return None


async def known_backends(context: ApiContext) -> list[BackendState]:
    await refresh_backend_health(context.health)
    return context.health.backends()


def _queue_body(counts: ActiveCounts | None) -> dict[str, int] | None:
    return None if counts is None else {"queued": counts.queued, "running": counts.running}


@router.get("/health")
async def health(context: Context, tenant: OptionalTenant) -> dict[str, Any]:
    """Liveness: always 200 while the process lives."""
    backends = await known_backends(context)
    body: dict[str, Any] = {
        "ok": True,
        "comfy": any(backend.reachable for backend in backends),
        "queue": _queue_body(await store_counts(context.store)),
    }
    if tenant is not None:
        body["backends"] = [dataclasses.asdict(backend) for backend in backends]
    return body


@router.get("/ready")
async def ready(context: Context) -> dict[str, Any]:
    """Readiness: 200 when the store answers and a backend is usable, else 503."""
    store_ok = await store_counts(context.store) is not None
    backends = await known_backends(context)
    backend_ok = any(b.reachable for b in backends) or context.health.can_start_lazily()
    if not (store_ok and backend_ok):
        reasons = [] if store_ok else ["the job store does not answer"]
        reasons += [] if backend_ok else ["no ComfyUI backend is ready or can be started"]
        raise ApiError(
            503,
            "not_ready",
            "; ".join(reasons),
            store=store_ok,
            backend=backend_ok,
            headers={"Retry-After": "5"},
        )
    return {"ready": True, "store": True, "backend": True}
