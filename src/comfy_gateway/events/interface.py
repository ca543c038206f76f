"""The `JobEvents` interface."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from comfy_gateway.jobs.model import Job


class JobWatch(Protocol):
    """A subscription to one job's changes."""

    async def next_change(self, after_version: int, timeout_s: float) -> Job | None:
        """The job once its version exceeds ``after_version``, or None after the timeout."""
        ...


class JobEvents(Protocol):
    """Publish job snapshots; watch one job for changes."""

    async def publish(self, job: Job) -> None:
        """Tell watchers of this job that it changed (called after the store commit);
        a job that is queued and held by nobody also wakes the queue listeners."""
        ...

    def on_queued(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever a published job is claimable (queued, unheld): a
        worker in this process claims at once instead of at its next poll. Returns the
        function that removes the listener."""
        ...

    def watch(self, tenant_id: str, job_id: str) -> AbstractAsyncContextManager[JobWatch]:
        """Watch one job of one tenant until the context ends.

        Open the watch *before* reading the job from the store, then wait for versions
        above the one read: a change committed in between is then never missed.
        """
        ...
