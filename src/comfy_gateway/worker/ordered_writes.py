"""Store writes a job's event loop should not wait for, run in order behind it.

While a prompt runs, the worker reads ComfyUI's socket; the job turning ``running`` and
its progress are worth storing, but waiting for each of those writes would hold back
the next message (the end of the prompt, say) by a transaction. They are handed to
:class:`OrderedWrites` instead: one task runs them one after another, in the order
given, and a write of a kind already waiting replaces it (only the newest progress
matters). Their transactions run on the store's threads, never on the event loop
(``OFF_THE_LOOP``), so the socket is read while they are written. Before a write that
must follow them (the job's end), ``settle`` waits for them and raises the first error
one of them met (a lost lease, say), once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from comfy_gateway.store.store_threads import OFF_THE_LOOP

Write = Callable[[], Awaitable[None]]


class OrderedWrites:
    """Background writes in submission order; a waiting write of the same kind is
    replaced by the newer one."""

    def __init__(self) -> None:
        self._waiting: dict[str, Write] = {}
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None

    def submit(self, kind: str, write: Write) -> None:
        """Run ``write`` after those before it (nothing runs after an error)."""
        if self._error is not None:
            return
        self._waiting[kind] = write
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name=f"ordered writes ({kind})")

    def discard(self, kind: str) -> None:
        """Forget a waiting write of ``kind`` (one already running goes on)."""
        self._waiting.pop(kind, None)

    async def settle(self) -> None:
        """Return once every submitted write ran; raise the first error (only once)."""
        task = self._task
        if task is not None:
            await asyncio.shield(task)  # our caller's cancel must not cut a write short
        error, self._error = self._error, None
        if error is not None:
            raise error

    async def _drain(self) -> None:
        OFF_THE_LOOP.set(True)  # this task's own context: the caller's is untouched
        while self._waiting:
            kind = next(iter(self._waiting))
            write = self._waiting.pop(kind)
            try:
                await write()
            except Exception as exc:  # kept for settle: the job's own flow decides
                self._error = exc
                self._waiting.clear()
