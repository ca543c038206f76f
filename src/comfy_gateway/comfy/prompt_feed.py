"""One follower's view of one prompt: the events routed to it, in order.

A :class:`PromptFeed` is registered with a :class:`BackendConnection` *before* the prompt
is submitted (so not a single message is missed) and iterated afterwards. It ends after
the end marker (``executing`` with ``node: null``). When the socket dropped while the
prompt was followed, the feed checks ``/history`` at the end so that outputs and the
verdict sent during the gap are not lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

from comfy_gateway.comfy.events import Event, Executed, Executing
from comfy_gateway.comfy.http_protocol import HistoryEntry
from comfy_gateway.comfy.prompt_outcome import TerminalEvent, replay_from_history
from comfy_gateway.errors import ComfyError, ComfyTimeout

HistoryLookup = Callable[[str], Awaitable[HistoryEntry | None]]


class PromptFeed:
    """Async iterator of one prompt's events; use ``async with`` to unregister it."""

    def __init__(
        self,
        prompt_id: str,
        *,
        lookup_history: HistoryLookup,
        unregister: Callable[[PromptFeed], None],
        timeout: float | None = None,
        check_backend: Callable[[PromptFeed], Awaitable[None]] | None = None,
    ) -> None:
        self.prompt_id = prompt_id
        self._queue: asyncio.Queue[Event | ComfyError] = asyncio.Queue()
        self._lookup_history = lookup_history
        self._unregister = unregister
        self._timeout = timeout
        self._check_backend = check_backend
        self._delivered_outputs: set[str] = set()
        self._terminal_seen = False
        self._replayed = False
        self.had_gap = False
        self.submitted = True
        self.started = False
        self.finished = False

    # -- fed by the connection ---------------------------------------------------------

    def push(self, event: Event) -> None:
        if not self.finished and not self._replayed:
            self.started = True  # every prompt-bound message comes after execution_start
            self._queue.put_nowait(event)

    def replay(self, entry: HistoryEntry) -> None:
        """The prompt finished while we were away: feed what history recorded, once."""
        if self.finished or self._replayed:
            return
        for event in replay_from_history(entry):
            self._queue.put_nowait(event)
        self._replayed = True

    def fail(self, error: ComfyError) -> None:
        if not self.finished:
            self._queue.put_nowait(error)

    # -- read by the follower ----------------------------------------------------------

    async def __aenter__(self) -> PromptFeed:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.finished = True
        self._unregister(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        loop = asyncio.get_running_loop()
        deadline = None if self._timeout is None else loop.time() + self._timeout
        if self._check_backend is not None:
            await self._check_backend(self)
        while not self.finished:
            item = await self._next(deadline, loop)
            if isinstance(item, ComfyError):
                self.close()
                raise item
            if isinstance(item, Executing) and item.is_end_marker:
                async for missed in self._missed_during_gap():
                    yield missed
                self.close()
                yield item
                return
            self._note(item)
            yield item

    async def _next(
        self, deadline: float | None, loop: asyncio.AbstractEventLoop
    ) -> Event | ComfyError:
        if deadline is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            self.close()
            raise ComfyTimeout(
                f"prompt {self.prompt_id} did not finish within {self._timeout} s; it may "
                "still be running: interrupt it or keep following it."
            ) from None

    def _note(self, event: Event) -> None:
        if isinstance(event, Executed):
            self._delivered_outputs.add(event.node)
        elif isinstance(event, TerminalEvent):
            self._terminal_seen = True

    async def _missed_during_gap(self) -> AsyncIterator[Event]:
        """After a socket gap, what history holds that the socket did not bring."""
        if not self.had_gap or self._replayed:
            return
        entry = await self._lookup_history(self.prompt_id)
        if entry is None:
            return
        for event in replay_from_history(entry):
            if isinstance(event, Executed) and event.node not in self._delivered_outputs:
                yield event
            elif isinstance(event, TerminalEvent) and not self._terminal_seen:
                self._terminal_seen = True
                yield event
