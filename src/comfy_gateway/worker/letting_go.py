"""How a job execution lets go of its job when it cannot finish it itself.

Three ways, each best effort (a failure is logged; the lease then runs out and the
reaper hands the job on): on shutdown the job is released uncounted (a prompt still
waiting in ComfyUI's queue is pulled out first, unless the backend is gone); after its
supervised ComfyUI crashed it is requeued with the crash as the attempt's cause; after a
bug in the worker it is released, the attempt counted if the prompt had started.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable

from comfy_gateway.errors import ComfyError
from comfy_gateway.jobs.errors import LeaseLost, StoreError
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.held_job import HeldJob

logger = logging.getLogger(__name__)


async def release_on_shutdown(
    held: HeldJob, backend: Backend, *, waiting_prompt_id: str | None
) -> None:
    """Release uncounted; ``waiting_prompt_id``: a prompt to pull out of the queue."""
    if waiting_prompt_id is not None:
        with contextlib.suppress(ComfyError):
            await backend.http.delete_from_queue([waiting_prompt_id])
    try:
        await held.release(count_attempt=False)
    except (LeaseLost, StoreError) as exc:
        logger.warning("job %s: not released on shutdown: %s", held.job_id, exc)


async def requeue_after_crash(held: HeldJob, requeue: Awaitable[None]) -> None:
    """Run ``requeue`` (the job's own requeue, with the crash as its cause)."""
    try:
        await requeue
    except (LeaseLost, StoreError) as exc:
        logger.warning("job %s: not requeued after the crash: %s", held.job_id, exc)


async def release_after_bug(held: HeldJob, *, started: bool) -> None:
    """The worker failed running the job: release it (counted if it had started)."""
    if held.finished:
        return
    try:
        await held.release(count_attempt=started)
    except Exception:
        logger.exception("job %s: could not be released; its lease will run out", held.job_id)
