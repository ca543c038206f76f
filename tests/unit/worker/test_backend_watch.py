"""A backend that stops answering gives back its waiting jobs, never its running one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.backend_watch import UNREACHABLE_DETAIL, give_back_waiting_jobs
from comfy_gateway.worker.execution_phase import Phase
from comfy_gateway.worker.job_execution import JobExecution


@dataclass
class FakeBackend:
    answering: bool
    url: str = "http://gpu0:8188"
    unreachable: bool = False
    detail: str | None = None
    probes: int = 0

    async def answers(self) -> bool:
        self.probes += 1
        return self.answering


@dataclass
class FakeExecution:
    backend: FakeBackend
    phase: Phase
    let_go: list[str] = field(default_factory=list)

    def prepare_backend_loss(self) -> None:
        self.let_go.append("backend lost")


async def _pair(execution: FakeExecution) -> tuple[JobExecution, asyncio.Task[None]]:
    task = asyncio.create_task(asyncio.Event().wait())
    return cast(JobExecution, execution), cast("asyncio.Task[None]", task)


async def _run(backends: list[FakeBackend], executions: list[FakeExecution]) -> list[bool]:
    pairs = [await _pair(execution) for execution in executions]
    await give_back_waiting_jobs(cast(list[Backend], backends), pairs)
    asked_to_stop = [task.cancelling() > 0 for _, task in pairs]
    for _, task in pairs:
        task.cancel()
    await asyncio.gather(*(task for _, task in pairs), return_exceptions=True)
    return asked_to_stop


async def test_a_silent_backend_gives_back_only_its_waiting_jobs() -> None:
    dead, alive = FakeBackend(answering=False), FakeBackend(answering=True)
    waiting = FakeExecution(dead, Phase.PENDING)
    running = FakeExecution(dead, Phase.STARTED)
    elsewhere = FakeExecution(alive, Phase.PENDING)

    cancelled = await _run([dead, alive], [waiting, running, elsewhere])

    assert cancelled == [True, False, False]
    assert (waiting.let_go, running.let_go, elsewhere.let_go) == (["backend lost"], [], [])
    assert (dead.unreachable, dead.detail) == (True, UNREACHABLE_DETAIL)
    assert alive.unreachable is False


async def test_a_backend_without_waiting_jobs_is_not_probed() -> None:
    backend = FakeBackend(answering=False)
    await _run([backend], [FakeExecution(backend, Phase.STARTED)])
    assert (backend.probes, backend.unreachable) == (0, False)


async def test_an_unreachable_backend_is_probed_until_it_answers_again() -> None:
    backend = FakeBackend(answering=True, unreachable=True, detail=UNREACHABLE_DETAIL)
    await _run([backend], [])
    assert (backend.probes, backend.unreachable, backend.detail) == (1, False, None)
