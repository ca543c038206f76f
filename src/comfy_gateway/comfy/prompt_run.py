"""Submit a prompt and follow it to its end: an async iterator of events plus a result.

::

    run = run_prompt(http, connection, graph)
    async for event in run:          # submits, then yields every event of this prompt
        if isinstance(event, Progress): ...
    match run.result:                # set once the iteration ended
        case PromptSucceeded(outputs=outputs): ...
        case PromptFailed() | PromptInterrupted(): ...

or simply ``result = await run_prompt(...).wait()``. The follower is registered before
the prompt is submitted (with a client-chosen prompt id) so no message can be missed.
A run's ``timeout`` bounds the whole follow; silence alone never ends it. When the
timeout runs out, ComfyTimeout is raised and the prompt is left alone: interrupt it
(``http.interrupt(prompt_id)``) if it must stop.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from comfy_gateway.comfy.connection import BackendConnection
from comfy_gateway.comfy.events import Event
from comfy_gateway.comfy.http_client import ComfyHttpClient
from comfy_gateway.comfy.http_protocol import QueuedPrompt
from comfy_gateway.comfy.prompt_outcome import PromptResult, PromptTracker, result_from_history
from comfy_gateway.errors import ComfyProtocolError


class PromptRun:
    """One submission; iterate it once. ``queued`` and ``result`` fill in as it goes."""

    def __init__(
        self,
        http: ComfyHttpClient,
        connection: BackendConnection,
        prompt: dict[str, Any],
        *,
        prompt_id: str | None = None,
        front: bool = False,
        extra_data: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.prompt_id = prompt_id or str(uuid.uuid4())
        self.queued: QueuedPrompt | None = None
        self.result: PromptResult | None = None
        self._http = http
        self._connection = connection
        self._prompt = prompt
        self._front = front
        self._extra_data = extra_data
        self._timeout = timeout
        self._started = False

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._started:
            raise RuntimeError(f"prompt run {self.prompt_id} was already iterated")
        self._started = True
        return self._events()

    async def wait(self) -> PromptResult:
        """Run to the end, ignoring intermediate events; return the result."""
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    async def _events(self) -> AsyncIterator[Event]:
        feed = self._connection.follow(self.prompt_id, timeout=self._timeout, check_backend=False)
        async with feed:
            self.queued = await self._http.queue_prompt(
                self._prompt,
                client_id=self._connection.client_id,
                prompt_id=self.prompt_id,
                front=self._front,
                extra_data=self._extra_data,
            )
            feed.submitted = True
            if feed.had_gap:
                # The socket dropped while we were submitting: its resync skipped us.
                await self._connection.resync(feed)
            tracker = PromptTracker(self.prompt_id)
            async for event in feed:
                tracker.apply(event)
                yield event
        self.result = tracker.result or await self._result_from_history()

    async def _result_from_history(self) -> PromptResult:
        entry = await self._http.history(self.prompt_id)
        if entry is None:
            raise ComfyProtocolError(
                f"prompt {self.prompt_id} ended on ComfyUI at {self._http.base_url} without a "
                "verdict on the socket nor a history entry"
            )
        return result_from_history(entry)


def run_prompt(
    http: ComfyHttpClient,
    connection: BackendConnection,
    prompt: dict[str, Any],
    *,
    prompt_id: str | None = None,
    front: bool = False,
    extra_data: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> PromptRun:
    """Create the run; nothing is sent until it is iterated (or ``wait()``-ed)."""
    return PromptRun(
        http,
        connection,
        prompt,
        prompt_id=prompt_id,
        front=front,
        extra_data=extra_data,
        timeout=timeout,
    )
