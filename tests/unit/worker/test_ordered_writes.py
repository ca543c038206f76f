"""Background writes run in order, newer ones of a kind replace waiting ones, and the
first error comes back once from settle."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from comfy_gateway.jobs.errors import LeaseLost
from comfy_gateway.worker.ordered_writes import OrderedWrites


class Recorder:
    """Writes that record themselves; ``gate`` holds the first one until opened."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    def write(
        self, name: str, *, held: bool = False, fails: bool = False
    ) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.started.set()
            if held:
                await self.gate.wait()
            if fails:
                raise LeaseLost("job-1", 1)
            self.done.append(name)

        return run


async def test_writes_run_in_order_and_a_newer_progress_replaces_a_waiting_one() -> None:
    record, writes = Recorder(), OrderedWrites()
    writes.submit("running", record.write("running", held=True))
    await record.started.wait()
    writes.submit("progress", record.write("progress 10"))
    writes.submit("progress", record.write("progress 60"))
    record.gate.set()
    await writes.settle()
    assert record.done == ["running", "progress 60"]


async def test_discard_forgets_a_waiting_write_but_not_the_running_one() -> None:
    record, writes = Recorder(), OrderedWrites()
    writes.submit("running", record.write("running", held=True))
    await record.started.wait()
    writes.submit("progress", record.write("progress"))
    writes.discard("progress")
    writes.discard("running")  # already running: goes on
    record.gate.set()
    await writes.settle()
    assert record.done == ["running"]


async def test_the_first_error_stops_later_writes_and_is_raised_once() -> None:
    record, writes = Recorder(), OrderedWrites()
    writes.submit("running", record.write("running", fails=True))
    writes.submit("progress", record.write("progress"))
    with pytest.raises(LeaseLost):
        await writes.settle()
    assert record.done == []  # the progress behind the failed write never ran
    await writes.settle()  # raised once: the job's own flow has handled it


async def test_settle_with_nothing_submitted_returns_at_once() -> None:
    await OrderedWrites().settle()
