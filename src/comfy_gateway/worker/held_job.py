"""A claimed job and every store write the worker makes on it, each followed by a publish.

Every write carries the claim's fencing token; :class:`LeaseLost` from the store means
another worker owns the job now and this one must let go without another write. The job
turning running and its progress are written in the background, in order
(``*_soon``); every other write first waits for them (``settle``). ``running`` is stored
``running_delay_s`` after the prompt started: a job that ends sooner records its start in
its end's write, one write instead of two (clients then see it go from queued to its
end; ``started_at`` is the start all the same).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from comfy_gateway.events import JobEvents
from comfy_gateway.jobs.model import Attempt, Claim, Job, JobError, JobOutput
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.lease_recovery import LeaseStore
from comfy_gateway.worker.job_outcome import out_of_attempts
from comfy_gateway.worker.ordered_writes import OrderedWrites


class HeldJob:
    """The worker's handle on one claimed job; ``job`` is the latest snapshot seen."""

    def __init__(
        self,
        claim: Claim,
        *,
        store: LeaseStore,
        events: JobEvents,
        running_delay_s: float = 0.0,
    ) -> None:
        self.job = claim.job
        self._workflow = claim.job.workflow
        self.token = claim.fencing_token
        self._store = store
        self.events = events
        self.finished = False  # set once the terminal write or the release went through
        self._background = OrderedWrites()
        self._running_delay_s = running_delay_s
        #: When the prompt started, while that is not stored yet (and the timer that will).
        self._unwritten_start: datetime | None = None
        self._running_timer: asyncio.TimerHandle | None = None

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @property
    def workflow(self) -> dict[str, Any]:
        if self._workflow is None:
            raise ValueError(f"job {self.job_id} was claimed without its workflow")
        return self._workflow

    async def heartbeat(self, lease_s: float) -> Job:
        # A lease extension is invisible to clients: no publish.
        self.job = await self._store.heartbeat(self.job_id, self.token, lease_s)
        return self.job

    async def record_attempt_start(self, backend: str, prompt_id: str, client_id: str) -> Attempt:
        return await self._store.record_attempt_start(
            self.job_id, self.token, backend, prompt_id, client_id
        )

    async def resume_attempt(self, backend: str, prompt_id: str, client_id: str) -> Attempt:
        """Follow a prompt already on the backend: its open attempt goes on."""
        return await self._store.resume_attempt(
            self.job_id, self.token, backend, prompt_id, client_id
        )

    async def drop_unstarted_attempt(self) -> None:
        await self._store.drop_unstarted_attempt(self.job_id, self.token)

    async def record_prompt_id(self, prompt_id: str) -> None:
        await self.settle()
        self.job = await self._store.record_prompt_id(self.job_id, self.token, prompt_id)

    def mark_running_soon(self, started_at: datetime) -> None:
        """The prompt started: store (and publish) ``running`` in ``running_delay_s``,
        without waiting for it, unless the job ends first (its end records the start)."""
        if self._unwritten_start is not None:
            return
        self._unwritten_start = started_at
        if self._running_delay_s <= 0:
            self._write_running()
        else:
            loop = asyncio.get_running_loop()
            self._running_timer = loop.call_later(self._running_delay_s, self._write_running)

    def note_start(self, started_at: datetime) -> None:
        """A start nobody announced (the start event was missed): the end records it."""
        if self._unwritten_start is None and self.job.status is JobStatus.QUEUED:
            self._unwritten_start = started_at

    def _write_running(self) -> None:
        self._running_timer = None
        started_at = self._unwritten_start
        if started_at is None:
            return
        self._unwritten_start = None

        async def write() -> None:
            running = await self._store.mark_running(self.job_id, self.token, started_at)
            await self._publish(running)

        self._background.submit("running", write)

    def _take_unwritten_start(self) -> datetime | None:
        """The start the next write must record itself (a `running` not yet written is
        not written any more)."""
        if self._running_timer is not None:
            self._running_timer.cancel()
            self._running_timer = None
        started_at, self._unwritten_start = self._unwritten_start, None
        return started_at

    def update_progress_soon(self, progress: float, details: dict[str, Any]) -> None:
        """Store (and publish) progress without waiting; a newer one replaces it. A
        `running` still waiting for its time is written first: progress never precedes it."""
        if self._running_timer is not None:
            self._running_timer.cancel()
            self._write_running()

        async def write() -> None:
            await self._publish(
                await self._store.update_progress(self.job_id, self.token, progress, details)
            )

        self._background.submit("progress", write)

    def drop_waiting_progress(self) -> None:
        """The job is about to end with its final progress: a waiting one is moot."""
        self._background.discard("progress")

    async def settle(self) -> None:
        """Wait for the background writes; raises the error one of them met (once)."""
        await self._background.settle()

    async def finish(
        self,
        status: JobStatus,
        *,
        outputs: Sequence[JobOutput] = (),
        error: JobError | None = None,
        timings: dict[str, int] | None = None,
        progress_details: dict[str, Any] | None = None,
    ) -> None:
        started_at = self._take_unwritten_start()
        await self.settle()
        job = await self._store.finish_job(
            self.job_id,
            self.token,
            status,
            outputs=outputs,
            error=error,
            timings=timings,
            progress_details=progress_details,
            started_at=started_at,
        )
        self.finished = True
        await self._publish(job)

    async def release(self, *, count_attempt: bool) -> None:
        self._take_unwritten_start()  # back to the queue: its start is moot
        await self.settle()
        job = await self._store.release_job(self.job_id, self.token, count_attempt)
        self.finished = True
        await self._publish(job)

    async def release_for_retry(self, detail: str) -> None:
        """Its backend lost the running prompt: queued again, the try counted."""
        self._take_unwritten_start()
        await self.settle()
        job = await self._store.release_for_retry(self.job_id, self.token, detail)
        self.finished = True
        await self._publish(job)

    async def requeue_lost(
        self, detail: str, *, started: bool, max_attempts: int, timings: dict[str, int]
    ) -> None:
        """The backend lost the prompt: a try that never started is given back uncounted;
        one that started counts, and the job fails once it used up ``max_attempts``."""
        if not started:
            await self.release(count_attempt=False)
            return
        error = out_of_attempts(detail, self.job.attempts, max_attempts)
        if error is None:
            await self.release_for_retry(detail)
        else:
            await self.finish(JobStatus.FAILED, error=error, timings=timings)

    async def _publish(self, job: Job) -> None:
        self.job = job
        await self.events.publish(job)
