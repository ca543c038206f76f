"""Extending the lease of every held job, and hearing of cancels on the way.

The store's heartbeat returns the job, so a cancel requested through an API in another
process reaches the worker within a heartbeat interval even without a shared event bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from comfy_gateway.jobs.errors import LeaseLost, StoreError
from comfy_gateway.worker.job_execution import JobExecution

logger = logging.getLogger(__name__)


async def beat_all(
    executions: Iterable[tuple[JobExecution, asyncio.Task[None]]], *, lease_s: float
) -> None:
    for execution, task in list(executions):
        await beat(execution, task, lease_s=lease_s)


async def beat(execution: JobExecution, task: asyncio.Task[None], *, lease_s: float) -> None:
    held = execution.held
    if held.finished:
        return
    try:
        job = await held.heartbeat(lease_s)
    except LeaseLost:
        if not held.finished:  # a finish racing the beat is not a lost lease
            logger.warning("job %s: lease lost; another worker owns it now", held.job_id)
            task.cancel()
        return
    except StoreError as exc:
        logger.warning("job %s: heartbeat failed: %s", held.job_id, exc)
        return
    if job.cancel_requested:
        execution.request_cancel()
