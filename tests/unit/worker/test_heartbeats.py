"""A heartbeat extends the lease, passes a cancel on, and lets go of a lost job."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from comfy_gateway.jobs.errors import LeaseLost
from comfy_gateway.worker.heartbeats import beat
from comfy_gateway.worker.job_execution import JobExecution


class FakeHeld:
    def __init__(self, outcome: Any, *, finished: bool = False) -> None:
        self.job_id = "job-1"
        self.finished = finished
        self.outcome = outcome
        self.beats: list[float] = []

    async def heartbeat(self, lease_s: float) -> Any:
        self.beats.append(lease_s)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


class FakeJob:
    def __init__(self, cancel_requested: bool) -> None:
        self.cancel_requested = cancel_requested


class FakeExecution:
    def __init__(self, held: FakeHeld) -> None:
        self.held = held
        self.cancels = 0

    def request_cancel(self) -> None:
        self.cancels += 1


async def wait_forever() -> None:
    await asyncio.Event().wait()


async def run_beat(execution: FakeExecution) -> asyncio.Task[None]:
    task = asyncio.create_task(wait_forever())
    await beat(cast(JobExecution, execution), task, lease_s=9.0)
    await asyncio.sleep(0)  # let a cancel, if any, land
    return task


async def test_cancel_requested_is_passed_on() -> None:
    execution = FakeExecution(FakeHeld(FakeJob(cancel_requested=True)))
    task = await run_beat(execution)
    assert execution.held.beats == [9.0]
    assert execution.cancels == 1
    assert not task.cancelled()
    task.cancel()


async def test_plain_beat_changes_nothing() -> None:
    execution = FakeExecution(FakeHeld(FakeJob(cancel_requested=False)))
    task = await run_beat(execution)
    assert execution.cancels == 0
    assert not task.done()
    task.cancel()


async def test_lost_lease_stops_the_job_task() -> None:
    execution = FakeExecution(FakeHeld(LeaseLost("job-1", 3)))
    task = await run_beat(execution)
    assert task.cancelled()
    assert execution.cancels == 0


async def test_finished_job_is_not_beaten() -> None:
    execution = FakeExecution(FakeHeld(LeaseLost("job-1", 3), finished=True))
    task = await run_beat(execution)
    assert execution.held.beats == []
    assert not task.done()
    task.cancel()
