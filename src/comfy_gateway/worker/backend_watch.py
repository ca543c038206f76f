"""Giving back the jobs that wait on a backend that stopped answering.

API.md: on an unreachable backend, jobs not yet started are requeued at once; a running
one only after ``backend_lost_after_s``. The running prompt's wait is the socket's
reconnect budget (set to ``backend_lost_after_s``), which keeps going untouched here. A
prompt that waits in the dead backend's queue, though, would wait that whole budget for
nothing: its job goes back to the queue (uncounted, prompt id kept) as soon as the backend
does not answer ``/system_stats``, and no new prompt goes there until it answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from comfy_gateway.supervisor import CrashReport
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.execution_phase import Phase
from comfy_gateway.worker.job_execution import JobExecution
from comfy_gateway.worker.supervised_backend import SupervisedBackend, crash_detail

logger = logging.getLogger(__name__)
Running = tuple[JobExecution, asyncio.Task[None]]
UNREACHABLE_DETAIL = "not answering; a running prompt may still resume there"


async def give_back_waiting_jobs(
    backends: Sequence[Backend], executions: Iterable[Running]
) -> None:
    """Probe each backend that holds a waiting prompt (or was unreachable) once."""
    pairs = list(executions)
    for backend in backends:
        waiting = [
            pair for pair in pairs if pair[0].backend is backend and pair[0].phase is Phase.PENDING
        ]
        if waiting or backend.unreachable:
            await _probe(backend, waiting)


async def _probe(backend: Backend, waiting: list[Running]) -> None:
    if await backend.answers():
        if backend.unreachable:
            logger.info("backend %s answers again", backend.url)
            backend.unreachable, backend.detail = False, None
        return
    if not backend.unreachable:
        logger.warning(
            "backend %s does not answer: %d waiting job(s) go back to the queue",
            backend.url,
            len(waiting),
        )
    backend.unreachable = True
    backend.detail = UNREACHABLE_DETAIL
    for execution, task in waiting:
        execution.prepare_backend_loss()
        task.cancel()


def give_back_after_crash(
    backend: SupervisedBackend, crash: CrashReport, executions: Iterable[Running]
) -> None:
    """A supervised ComfyUI died: the prompts it held are gone with it. The running job is
    retried with the crash in its attempt; waiting ones go back uncounted. Jobs that
    wait for its start, or collect finished outputs, are left to their own course."""
    detail = crash_detail(backend, crash)
    for execution, task in list(executions):
        if execution.backend is backend and Phase.SUBMITTING <= execution.phase <= Phase.STARTED:
            logger.warning("job %s: its ComfyUI crashed mid-prompt", execution.held.job_id)
            execution.prepare_backend_crash(detail)
            task.cancel()
