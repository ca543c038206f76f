"""Helper tasks that live exactly as long as one job's execution (watchdogs, watches)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class SideTasks:
    """Tasks started along the way and all cancelled together at the end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
