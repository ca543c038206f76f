"""The worker: claims jobs while a backend has room, runs each in its own task, keeps
their leases alive, and lets go of them cleanly on shutdown.

Each backend holds at most ``prompts_per_backend`` of our prompts (one running, one
waiting behind it), so the next prompt is already queued with its media uploaded when
the running one ends. A slot frees as soon as a prompt leaves ComfyUI, before its outputs
are collected.

When to claim: at once when a job is published as queued in this process (a submit to
the API beside us, a release), when a slot frees while the queue may still hold work,
and otherwise every ``claim_poll_interval_s`` (jobs queued by other processes). A slot
that frees after a claim found the queue empty does not claim again: nothing new can be
there that the next wake-up or poll would not find, and the empty claim would only
delay the job finishing on that slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from comfy_gateway.events import JobEvents
from comfy_gateway.jobs.errors import LeaseLost, StoreError
from comfy_gateway.jobs.hand_off import DirectClaim, HandOffSlot
from comfy_gateway.jobs.model import Attempt, Claim, Job
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import BlobStore
from comfy_gateway.store.interface import JobStore
from comfy_gateway.store.lease_recovery import require_lease_store
from comfy_gateway.worker.backend_pool import Backend, BackendPool
from comfy_gateway.worker.backend_watch import give_back_after_crash, give_back_waiting_jobs
from comfy_gateway.worker.capabilities import BackendCatalogues
from comfy_gateway.worker.execution_phase import Phase
from comfy_gateway.worker.heartbeats import beat_all
from comfy_gateway.worker.held_job import HeldJob
from comfy_gateway.worker.job_execution import JobExecution
from comfy_gateway.worker.options import WorkerOptions

logger = logging.getLogger(__name__)


class Worker:
    """Runs queued jobs on the pool's ComfyUI backends until ``run``'s stop event is set."""

    def __init__(
        self,
        options: WorkerOptions,
        *,
        store: JobStore,
        blobs: BlobStore,
        events: JobEvents,
        backends: BackendPool,
        catalogues: BackendCatalogues | None = None,
    ) -> None:
        """``catalogues`` lets the worker claim only jobs its backends can run (None: any)."""
        self.options = options
        self.catalogues = catalogues
        self.store = require_lease_store(store)
        self.blobs = blobs
        self.events = events
        self.backends = backends
        self.executions: dict[str, tuple[JobExecution, asyncio.Task[None]]] = {}
        self._wake = asyncio.Event()
        #: False once a claim found nothing claimable; True again when work may exist.
        self._queue_may_hold_work = True
        #: Set while jobs may be handed over by the API beside us (between start and stop).
        self._taking_hand_offs = False
        backends.set_crash_handler(
            lambda backend, crash: give_back_after_crash(backend, crash, self.executions.values())
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Claim and run jobs until ``stop`` is set, then drain and release."""
        halt = asyncio.Event()  # stops the helpers only after the jobs were let go
        stop_listening = self.events.on_queued(self._work_arrived)
        await self.backends.start()
        self._taking_hand_offs = True
        helpers = [
            asyncio.create_task(self.backends.maintain(halt)),
            asyncio.create_task(self._heartbeats(halt)),
            asyncio.create_task(self._reaper(halt)),
            asyncio.create_task(self._backend_watch(halt)),
            asyncio.create_task(self._wake_on(stop)),
        ]
        try:
            await self._claim_until(stop)
            self._taking_hand_offs = False
            await self._shutdown()
        finally:
            stop_listening()
            halt.set()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self.backends.aclose()

    # -- claiming ----------------------------------------------------------------------

    async def _claim_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            if await self._claim_once():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.claim_poll_interval_s)

    async def _claim_once(self) -> bool:
        free = self.backends.with_free_slot(self.options.prompts_per_backend)
        if not free:
            return False
        catalogues, members = self.catalogues, self.backends.members
        if catalogues is not None:
            await catalogues.refresh_new_connections(members)
        can_run = catalogues.claim_filter(members, free) if catalogues is not None else None
        try:
            # Polling an empty queue for other processes' jobs: look before taking the
            # write lock (a read costs a fraction of the claim and never waits for it).
            if not self._queue_may_hold_work and not await self.store.claimable_job_waiting():
                return False
            claim = await self.store.claim_next_job(
                self.options.worker_id, self.options.lease_s, can_run=can_run
            )
        except StoreError as exc:
            logger.warning("claiming a job failed: %s", exc)
            return False
        self._queue_may_hold_work = claim is not None and claim.more_waiting
        if claim is None:
            return False
        backend = await self._place(claim, free)
        if backend is not None:
            self._start(claim, self._backend_for(claim.job, backend))
        return self._queue_may_hold_work

    async def _place(self, claim: Claim, free: list[Backend]) -> Backend | None:
        """A backend able to run the claimed job; None after failing or requeueing it."""
        if self.catalogues is None or claim.job.prompt_id:  # a takeover stays where it ran
            return free[0]
        placement = await self.catalogues.place(claim.job.requirements, self.backends.members, free)
        if placement.backend is not None:
            return placement.backend
        held = HeldJob(claim, store=self.store, events=self.events)
        try:
            if placement.error is not None:
                await held.finish(JobStatus.FAILED, error=placement.error)
            else:
                await held.release(count_attempt=False)
        except (StoreError, LeaseLost) as exc:
            logger.warning("job %s could not be placed: %s", claim.job.job_id, exc)
        return None

    def _backend_for(self, job: Job, default: Backend) -> Backend:
        """The backend that already has the job's prompt, if it is ours and up."""
        earlier = self.backends.by_url(job.backend) if job.prompt_id else None
        return earlier if earlier is not None and earlier.ready else default

    # -- jobs handed over by the API in this process (jobs/hand_off.py) -----------------

    def reserve(self, requirements: Mapping[str, Any] | None) -> HandOffSlot | None:
        """A slot for a job about to be stored, if one is free where it can run and no
        claim is due first (the store still checks that nothing waits in the queue)."""
        if not self._taking_hand_offs or self._queue_may_hold_work:
            return None
        free = self.backends.with_free_slot(self.options.prompts_per_backend)
        for backend in free:
            connection = backend.connection
            if not backend.ready or connection is None:
                continue
            if self.catalogues is None or self.catalogues.can_take_now(backend, requirements):
                backend.in_flight += 1
                claim_for = DirectClaim(
                    worker_id=self.options.worker_id,
                    lease_s=self.options.lease_s,
                    backend=backend.url,
                    client_id=connection.client_id,
                )
                return _ReservedSlot(self, backend, claim_for)
        return None

    def _start(
        self, claim: Claim, backend: Backend, *, opened_attempt: Attempt | None = None
    ) -> None:
        """Run ``claim`` on ``backend``; ``opened_attempt``: the store opened its attempt."""
        held = HeldJob(
            claim,
            store=self.store,
            events=self.events,
            running_delay_s=self.options.running_write_delay_s,
        )
        backend.in_flight += 1
        execution = JobExecution(
            held,
            backend,
            blobs=self.blobs,
            options=self.options,
            on_backend_failure=self.backends.report_failure,
            on_prompt_left=lambda: self._free_slot(backend),
            catalogues=self.catalogues,
            opened_attempt=opened_attempt,
        )
        task = asyncio.create_task(execution.run(), name=f"job {held.job_id}")
        self.executions[held.job_id] = (execution, task)
        task.add_done_callback(lambda _: self._forget(held.job_id))

    def _free_slot(self, backend: Backend) -> None:
        backend.in_flight -= 1
        self._claim_if_work_may_wait()

    def _forget(self, job_id: str) -> None:
        self.executions.pop(job_id, None)
        self._claim_if_work_may_wait()

    def _claim_if_work_may_wait(self) -> None:
        if self._queue_may_hold_work:
            self._wake.set()

    def _work_arrived(self) -> None:
        self._queue_may_hold_work = True
        self._wake.set()

    async def _wake_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._wake.set()

    # -- leases and lost backends ------------------------------------------------------

    async def _heartbeats(self, halt: asyncio.Event) -> None:
        while not halt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), self.options.heartbeat_interval_s)
            await beat_all(self.executions.values(), lease_s=self.options.lease_s)

    async def _backend_watch(self, halt: asyncio.Event) -> None:
        # Apart from the heartbeats: a backend slow to answer must not delay a lease.
        while not halt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), self.options.heartbeat_interval_s)
            await give_back_waiting_jobs(self.backends.members, self.executions.values())

    async def _reaper(self, halt: asyncio.Event) -> None:
        """From the start on, hand jobs of dead workers back to the queue; the claim loop
        then takes them and re-attaches to their prompts."""
        while not halt.is_set():
            try:
                reaped = await self.store.reap_expired_leases()
            except StoreError as exc:
                logger.warning("reaping expired leases failed: %s", exc)
            else:
                if reaped:
                    logger.info("leases ran out: %s back in the queue", ", ".join(reaped))
                    self._work_arrived()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), self.options.reap_every_s)

    # -- shutdown ----------------------------------------------------------------------

    async def _shutdown(self) -> None:
        """Release what has not started at once; give running prompts the drain time."""
        waiting = [pair for pair in self.executions.values() if pair[0].phase < Phase.STARTED]
        await _cancel_for_shutdown(waiting)
        running = [task for _, task in self.executions.values()]
        if running:
            await asyncio.wait(running, timeout=self.options.drain_timeout_s)
        await _cancel_for_shutdown(list(self.executions.values()))


class _ReservedSlot:
    """One backend slot held for a submit (counted in ``in_flight`` meanwhile)."""

    def __init__(self, worker: Worker, backend: Backend, claim_for: DirectClaim) -> None:
        self._worker = worker
        self._backend = backend
        self._claim_for = claim_for
        self._used = False

    @property
    def claim_for(self) -> DirectClaim:
        return self._claim_for

    def start(self, claim: Claim, attempt: Attempt) -> None:
        self._release()
        self._worker._start(claim, self._backend, opened_attempt=attempt)

    def give_back(self) -> None:
        self._release()
        self._worker._claim_if_work_may_wait()

    def _release(self) -> None:
        if self._used:
            raise RuntimeError("a reserved slot is started or given back once")
        self._used = True
        self._backend.in_flight -= 1


async def _cancel_for_shutdown(pairs: list[tuple[JobExecution, asyncio.Task[None]]]) -> None:
    for execution, task in pairs:
        execution.prepare_shutdown()
        task.cancel()
    await asyncio.gather(*(task for _, task in pairs), return_exceptions=True)
