"""``wait``: hold a submit's answer until its job ends or the time budget runs out.

Built on `JobEvents`: the watch is opened *before* the job is read, so a change committed
between the read and the first wait is still seen. A caller that opened a watch on the
job before it stored it (a submit with ``wait``) hands the stored job in as ``known``
and saves the read. Waiting never touches the job: a
client that gives up (or disconnects) leaves it running. A disconnect ends the wait at
once, so gone clients do not hold watches for the whole budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import anyio
from fastapi import Request

from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.errors import ApiError
from comfy_gateway.config import GatewaySettings
from comfy_gateway.events import JobEvents
from comfy_gateway.jobs.model import Job
from comfy_gateway.store.interface import JobStore


def wait_budget(requested_s: float | None, settings: GatewaySettings) -> float:
    """The seconds to wait: as asked, clamped to the configured maximum (its default)."""
    if requested_s is None:
        return settings.max_wait_s
    return max(0.0, min(requested_s, settings.max_wait_s))


#: Returns once the client has gone away (never, if it stays).
ClientGone = Callable[[], Awaitable[None]]


async def wait_until_terminal(
    events: JobEvents,
    store: JobStore,
    tenant_id: str,
    job_id: str,
    budget_s: float,
    *,
    client_gone: ClientGone | None = None,
    known: Job | None = None,
) -> Job | None:
    """The job once it is terminal; None when ``budget_s`` ran out or the client left.

    ``known``: the job as stored, taken while a watch on it was already open (so no
    later change can have been missed); otherwise the job is read first."""
    if client_gone is None:
        return await _wait(events, store, tenant_id, job_id, budget_s, known)
    with anyio.CancelScope() as scope:
        # The watcher ends the wait by cancelling this scope; it is not waited for at
        # the end (a task group would wait for it to finish being cancelled).
        watcher = asyncio.ensure_future(_cancel_when_gone(client_gone, scope))
        try:
            return await _wait(events, store, tenant_id, job_id, budget_s, known)
        finally:
            watcher.cancel()
    return None  # the client left: the scope was cancelled


async def _cancel_when_gone(client_gone: ClientGone, scope: anyio.CancelScope) -> None:
    await client_gone()
    scope.cancel()


async def _wait(  # noqa: PLR0917
    events: JobEvents,
    store: JobStore,
    tenant_id: str,
    job_id: str,
    budget_s: float,
    known: Job | None,
) -> Job | None:
    deadline = time.monotonic() + budget_s
    async with events.watch(tenant_id, job_id) as watch:
        if known is None:
            known = await store.get_job(tenant_id, job_id, with_workflow=False)
        job = known
        while not job.is_terminal:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            changed = await watch.next_change(job.version, remaining)
            if changed is not None:
                job = changed
        return job


def job_location(job_id: str) -> str:
    return f"/v1/jobs/{job_id}"


async def until_disconnected(request: Request) -> None:
    """Return once the client has gone (its body must already have been read, so the
    next ASGI message can only be the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        continue


async def wait_for_request(
    request: Request,
    context: ApiContext,
    tenant: str,
    job_id: str,
    requested_s: float | None,
    *,
    known: Job | None = None,
) -> tuple[Job | None, float]:
    """Wait for a job a request submitted: the terminal job (or None when the budget ran
    out or the client left) and the budget used. A client leaving never cancels the job.
    ``known``: as for `wait_until_terminal`."""
    budget = wait_budget(requested_s, context.settings)
    finished = await wait_until_terminal(
        context.events,
        context.store,
        tenant,
        job_id,
        budget,
        client_gone=lambda: until_disconnected(request),
        known=known,
    )
    return finished, budget


def wait_timeout(job_id: str, budget_s: float) -> ApiError:
    """504 carrying the job id (and Location), so the client can poll or stream it."""
    return ApiError(
        504,
        "wait_timeout",
        f"job {job_id} did not finish within {budget_s:g} s; it goes on running: "
        f"follow it at {job_location(job_id)}",
        headers={"Location": job_location(job_id)},
        job_id=job_id,
    )
