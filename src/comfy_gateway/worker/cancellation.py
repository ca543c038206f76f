"""Stopping a job's prompt on its backend, and learning of cancels without waiting for a
heartbeat.

A prompt still pending in ComfyUI's queue is deleted from it (it never runs); only the
running one is interrupted, and always by its prompt id, so another client's prompt that
happens to run is never touched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from comfy_gateway.comfy import BackendConnection, ComfyHttpClient, PromptFeed
from comfy_gateway.errors import ComfyError
from comfy_gateway.events import JobEvents

logger = logging.getLogger(__name__)
#: How long one wait on the watch lasts before it is simply renewed.
WATCH_WAIT_S = 30.0


async def stop_prompt(http: ComfyHttpClient, prompt_id: str, *, started: bool) -> None:
    """Make the prompt end: delete it while pending, interrupt it once running."""
    if started:
        await http.interrupt(prompt_id)
        return
    await http.delete_from_queue([prompt_id])
    # It may have started between our look and the delete, which then did nothing.
    snapshot = await http.queue()
    if snapshot.state_of(prompt_id) == "running":
        await http.interrupt(prompt_id)


async def stop_followed_prompt(
    http: ComfyHttpClient,
    connection: BackendConnection,
    feed: PromptFeed,
    *,
    started: bool,
    job_id: str,
) -> None:
    """``stop_prompt`` for a prompt we follow; a pending one that is deleted sends
    nothing more, so the feed is resynchronised to learn it is gone. Failures are logged:
    the job's flow sees how the prompt ends either way."""
    try:
        await stop_prompt(http, feed.prompt_id, started=started)
        if not started:
            await connection.resync(feed)
    except ComfyError as exc:
        logger.warning("job %s: stopping prompt %s failed: %s", job_id, feed.prompt_id, exc)


async def watch_for_cancel(
    events: JobEvents,
    *,
    tenant_id: str,
    job_id: str,
    after_version: int,
    on_cancel: Callable[[], None],
) -> None:
    """Call ``on_cancel`` once a published snapshot of the job asks for a cancel."""
    async with events.watch(tenant_id, job_id) as watch:
        version = after_version
        while True:
            job = await watch.next_change(version, WATCH_WAIT_S)
            _raise_if_cancel_was_swallowed()
            if job is None:
                continue
            version = job.version
            if job.cancel_requested:
                on_cancel()
                return
            if job.is_terminal:
                return


def _raise_if_cancel_was_swallowed() -> None:
    """Python 3.11's ``asyncio.wait_for`` (used by watches) can return a result and drop a
    cancel that arrived as the result did; without this check the watch would wait again."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
