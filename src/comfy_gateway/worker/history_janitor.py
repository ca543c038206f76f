"""Forget finished prompts from a ComfyUI's history, a few at a time, off the job's path.

ComfyUI keeps every finished prompt (up to 10,000) with its outputs; the gateway has
copied what it needs, so it deletes them. One ``POST /history {"delete": [...]}`` per
prompt would sit between a job's end and the next job's start, so ids are gathered and
deleted together shortly after the first of them ends (``delay_s``), and whatever is
left is deleted when the backend is closed. A failed delete is logged and dropped: a
leftover history entry costs ComfyUI some memory, never a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.errors import ComfyError

logger = logging.getLogger(__name__)
DEFAULT_DELAY_S = 0.25


class HistoryJanitor:
    """Prompt ids waiting to be deleted from one backend's history."""

    def __init__(
        self, http: Callable[[], ComfyHttpClient], *, delay_s: float = DEFAULT_DELAY_S
    ) -> None:
        """``http``: the backend's client as it is now (a restarted backend gets a new one)."""
        self._http = http
        self._delay_s = delay_s
        self._pending: list[str] = []
        self._flush: asyncio.Task[None] | None = None

    def forget(self, prompt_id: str) -> None:
        """Delete ``prompt_id`` from the history soon."""
        self._pending.append(prompt_id)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._flush_after_delay())

    async def flush(self) -> None:
        """Delete every waiting id now (and stop the timer)."""
        task, self._flush = self._flush, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._delete_pending()

    async def _flush_after_delay(self) -> None:
        await asyncio.sleep(self._delay_s)
        await self._delete_pending()

    async def _delete_pending(self) -> None:
        prompt_ids, self._pending = self._pending, []
        if not prompt_ids:
            return
        try:
            await self._http().delete_history(prompt_ids)
        except ComfyError as exc:  # the jobs are done; leftover entries are harmless
            logger.info("could not delete %d prompts from history: %s", len(prompt_ids), exc)
