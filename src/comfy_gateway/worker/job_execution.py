"""Running one claimed job on one backend, from media upload to its terminal write.

upload media → record the attempt → ``POST /prompt`` (prompt id = job id) → follow it on
the backend's socket (``execution_start`` makes the job running; progress is stored as it
moves) → store every output → finish the job → the prompt leaves ComfyUI's history soon
(``history_janitor.py``). A prompt already on the backend (a takeover, a release on
shutdown) is re-attached, not submitted twice; a started one that is gone (ComfyUI
restarted) is retried up to ``max_attempts``. Cancels and timeouts stop the prompt from
a side task (``cancellation.py``); the main flow then sees how the prompt ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from comfy_gateway.comfy import (
    BackendConnection,
    Event,
    Executed,
    Executing,
    ExecutionStart,
    PromptFeed,
    PromptResult,
)
from comfy_gateway.comfy.prompt_outcome import PromptTracker
from comfy_gateway.errors import (
    ComfyError,
    ComfyServerError,
    ComfySocketClosed,
    ComfyTimeout,
    ComfyUnavailable,
    DuplicatePromptId,
    PromptNotFound,
    PromptValidationError,
)
from comfy_gateway.jobs.errors import LeaseLost
from comfy_gateway.jobs.model import Attempt
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import BlobStore
from comfy_gateway.storage.blobs import BlobStoreError
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.cancellation import stop_followed_prompt, watch_for_cancel
from comfy_gateway.worker.capabilities import BackendCatalogues
from comfy_gateway.worker.execution_phase import Phase
from comfy_gateway.worker.held_job import HeldJob
from comfy_gateway.worker.job_conclusion import Conclusion
from comfy_gateway.worker.job_outcome import (
    CANCELLED,
    StopReason,
    job_error,
    workflow_invalid,
)
from comfy_gateway.worker.letting_go import (
    release_after_bug,
    release_on_shutdown,
    requeue_after_crash,
)
from comfy_gateway.worker.media_upload import upload_media
from comfy_gateway.worker.options import WorkerOptions
from comfy_gateway.worker.output_prefetch import OutputPrefetch
from comfy_gateway.worker.prequeue_check import PrequeueRefused, prequeue_refusal
from comfy_gateway.worker.progress_reporting import ProgressReporter, start_tracker
from comfy_gateway.worker.prompt_lookup import prompt_is_on_backend, result_from_backend_history
from comfy_gateway.worker.side_tasks import SideTasks
from comfy_gateway.worker.timings import PhaseTimer, queue_wait_ms

logger = logging.getLogger(__name__)
#: Errors that say "the backend is not there right now": the job goes back to the queue.
BACKEND_OUTAGES = (ComfyUnavailable, ComfyTimeout, ComfySocketClosed, ComfyServerError)
BackendFailureHandler = Callable[[Backend, ComfyError], Awaitable[None]]


class JobExecution:
    """One claimed job on one backend; ``run`` once, in its own task."""

    def __init__(
        self,
        held: HeldJob,
        backend: Backend,
        *,
        blobs: BlobStore,
        options: WorkerOptions,
        on_backend_failure: BackendFailureHandler,
        on_prompt_left: Callable[[], None],
        catalogues: BackendCatalogues | None = None,
        opened_attempt: Attempt | None = None,
    ) -> None:
        """``opened_attempt``: the store opened the job's attempt when it handed the job
        over (jobs/hand_off.py); it is submitted without recording another."""
        self.held = held
        self.backend = backend
        self.phase = Phase.CLAIMED
        self.stop_reason: StopReason | None = None
        self.prompt_id = held.job_id
        self.timer = PhaseTimer()
        self._blobs = blobs
        self._options = options
        self._catalogues = catalogues
        self._on_backend_failure = on_backend_failure
        self._on_prompt_left: Callable[[], None] | None = on_prompt_left
        self._connection: BackendConnection | None = None
        self._feed: PromptFeed | None = None
        self._reporter: ProgressReporter | None = None
        self._side_tasks = SideTasks()
        self._shutting_down = False
        self._backend_lost = False
        self._crash_detail: str | None = None
        self._opened_attempt = opened_attempt
        self._prefetch = OutputPrefetch(backend.http, job_id=held.job_id)

    # -- called from outside (heartbeats, cancel watch, shutdown) ------------------------

    def request_cancel(self) -> None:
        """Stop the job as soon as possible; it ends ``cancelled`` (or finishes first)."""
        if self.stop_reason is not None or self.phase >= Phase.ENDED:
            return
        self.stop_reason = StopReason.CANCEL
        if self.phase >= Phase.PENDING:
            self._side_tasks.spawn(self._stop_prompt())

    def prepare_shutdown(self) -> None:
        """The task is about to be cancelled for a shutdown: release the job then."""
        self._shutting_down = True

    def prepare_backend_loss(self) -> None:
        """The task is about to be cancelled because the backend stopped answering while
        the prompt waited there: release the job (uncounted) without asking the backend."""
        self._shutting_down = self._backend_lost = True

    def prepare_backend_crash(self, detail: str) -> None:
        """The task is about to be cancelled because its supervised ComfyUI died: a
        started prompt is retried (counted, ``detail`` in its attempt), a waiting one is
        given back uncounted; nothing is asked of the dead backend."""
        self._crash_detail = detail

    # -- the flow ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            job = self.held.job
            self._side_tasks.spawn(
                watch_for_cancel(
                    self.held.events,
                    tenant_id=job.tenant_id,
                    job_id=job.job_id,
                    after_version=job.version,
                    on_cancel=self.request_cancel,
                )
            )
            await self._run()
        except LeaseLost as exc:
            logger.warning("job %s: dropped, the lease moved on (%s)", self.held.job_id, exc)
        except asyncio.CancelledError:
            if self._crash_detail is not None:
                await requeue_after_crash(self.held, self._requeue(self._crash_detail))
            elif self._shutting_down:
                await release_on_shutdown(
                    self.held, self.backend, waiting_prompt_id=self._prompt_to_pull_back()
                )
            raise
        except Exception:  # a bug must not leave the job held until its lease runs out
            logger.exception("job %s: the worker failed running it", self.held.job_id)
            await release_after_bug(self.held, started=self.phase >= Phase.STARTED)
        finally:
            await self._side_tasks.cancel_all()
            await self._prefetch.close()
            self._prompt_left()

    async def _run(self) -> None:
        if self.held.job.cancel_requested:
            self.stop_reason = StopReason.CANCEL
        try:
            result = await self._obtain_result()
        except PromptValidationError as exc:
            await self.held.finish(JobStatus.FAILED, error=workflow_invalid(exc))
        except PrequeueRefused as exc:  # refused before anything reached ComfyUI
            await self.held.finish(JobStatus.FAILED, error=exc.error)
        except PromptNotFound:
            await self._prompt_vanished()
        except BACKEND_OUTAGES as exc:
            await self._backend_failed(exc)
        except ComfyError as exc:
            message = f"the ComfyUI backend {self.backend.url} refused the job: {exc}"
            await self.held.finish(JobStatus.FAILED, error=job_error("backend_error", message))
        except BlobStoreError as exc:
            message = f"an input media file could not be read from storage: {exc}"
            await self.held.finish(JobStatus.FAILED, error=job_error("media_unavailable", message))
        else:
            await self._conclude(result)

    async def _obtain_result(self) -> PromptResult | None:
        """The prompt's result; None when the job was cancelled before it was queued."""
        await self.backend.prepare()  # a lazily supervised ComfyUI starts now
        self._connection = connection = self.backend.require_connection()
        output_classes = await self.backend.output_node_classes()
        self._reporter = ProgressReporter(
            start_tracker(self.held.workflow, output_classes),
            self._save_progress,
            persist_interval_s=self._options.progress_persist_interval_s,
        )
        if self._opened_attempt is None and self._can_reattach():
            if await prompt_is_on_backend(self.backend.http, self.prompt_id):
                await self.held.resume_attempt(
                    self.backend.url, self.prompt_id, connection.client_id
                )
                return await self._follow(connection.follow(self.prompt_id, check_backend=True))
            if self._had_started():  # it ran, and ComfyUI forgot it: ComfyUI restarted
                raise PromptNotFound(
                    f"prompt {self.prompt_id} is gone from {self.backend.url}",
                    prompt_id=self.prompt_id,
                    backend=self.backend.name,
                )
            await self.held.drop_unstarted_attempt()  # its holder died before POST /prompt
        self.prompt_id = self.held.job_id
        return await self._submit(connection)

    def _can_reattach(self) -> bool:
        job = self.held.job
        if job.prompt_id is None or job.backend != self.backend.url:
            return False
        self.prompt_id = job.prompt_id
        return True

    async def _submit(self, connection: BackendConnection) -> PromptResult | None:
        if self._cancelling():
            return None
        job = self.held.job
        if job.requirements is None:  # accepted while no catalogue was known: check it now
            refusal = await prequeue_refusal(
                self.held.workflow, self.backend, self._catalogues, job.media
            )
            if refusal is not None:
                raise PrequeueRefused(refusal)
        self.timer.mark("upload_start")
        await upload_media(self.backend.http, self._blobs, self.held.job.media)
        self.timer.mark("upload_end")
        if self._cancelling():
            return None
        attempt = self._opened_attempt or await self.held.record_attempt_start(
            self.backend.url, self.prompt_id, connection.client_id
        )
        self.phase = Phase.SUBMITTING
        feed = connection.follow(self.prompt_id, check_backend=False)
        try:
            queued = await self.backend.http.queue_prompt(
                self.held.workflow,
                client_id=connection.client_id,
                prompt_id=self.prompt_id,
                extra_data={
                    "comfy_gateway": {"job_id": self.held.job_id, "attempt": attempt.number}
                },
            )
        except DuplicatePromptId:
            # Newer ComfyUI: the prompt is already there (an earlier try of ours): follow it.
            feed.close()
            return await self._follow(connection.follow(self.prompt_id, check_backend=True))
        except BaseException:
            feed.close()
            raise
        return await self._follow(await self._feed_after_submit(connection, feed, queued.prompt_id))

    async def _feed_after_submit(
        self, connection: BackendConnection, feed: PromptFeed, answered_id: str
    ) -> PromptFeed:
        feed.submitted = True
        if answered_id == self.prompt_id:
            if feed.had_gap:  # the socket dropped while we submitted: resync skipped us
                await connection.resync(feed)
            return feed
        feed.close()
        self.prompt_id = answered_id
        await self.held.record_prompt_id(answered_id)
        return connection.follow(answered_id, check_backend=True)

    async def _follow(self, feed: PromptFeed) -> PromptResult:
        self._feed = feed
        self.phase = max(self.phase, Phase.PENDING)
        if self._cancelling():
            self._side_tasks.spawn(self._stop_prompt())
        tracker = PromptTracker(feed.prompt_id)
        async with feed:
            async for event in feed:
                tracker.apply(event)
                await self._on_event(event)
        self._prompt_left()
        return tracker.result or await result_from_backend_history(
            self.backend.http, feed.prompt_id
        )

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, ExecutionStart) or (
            isinstance(event, Executing) and event.node is not None
        ):
            await self._started()
        if isinstance(event, Executed):
            self._prefetch.executed(event)
        if isinstance(event, Executing) and event.is_end_marker:
            self.timer.mark("execution_end")
            self.phase = Phase.ENDED
        elif self._reporter is not None:
            await self._reporter.apply(event)

    async def _started(self) -> None:
        if self.phase >= Phase.STARTED:
            return
        self.phase = Phase.STARTED
        self.timer.mark("execution_start")
        job = self.held.job
        self.held.mark_running_soon(datetime.now(UTC))
        if self._reporter is not None:
            self._reporter.prompt_started()
        self.timer.queue_wait = queue_wait_ms(job.created_at, datetime.now(UTC))
        self._side_tasks.spawn(self._timeout_watchdog(job.timeout_s))

    async def _save_progress(self, progress: float, details: dict[str, Any]) -> None:
        self.held.update_progress_soon(progress, details)

    # -- endings -----------------------------------------------------------------------

    async def _conclude(self, result: PromptResult | None) -> None:
        await Conclusion(
            held=self.held,
            backend=self.backend,
            blobs=self._blobs,
            timer=self.timer,
            reporter=self._reporter,
            prefetch=self._prefetch,
        ).conclude(result, self.stop_reason)

    async def _prompt_vanished(self) -> None:
        detail = f"prompt {self.prompt_id} vanished from ComfyUI's queue and history"
        if not self._cancelling():
            logger.warning("job %s: %s (did ComfyUI restart?)", self.held.job_id, detail)
        await self._requeue_unless_cancelled(detail)

    async def _backend_failed(self, error: ComfyError) -> None:
        logger.warning("job %s: backend %s failed: %s", self.held.job_id, self.backend.url, error)
        self._prompt_left()
        await self._on_backend_failure(self.backend, error)
        await self._requeue_unless_cancelled(f"backend {self.backend.url} lost: {error}")

    async def _requeue_unless_cancelled(self, detail: str) -> None:
        """The prompt is lost: a job being cancelled ends so, any other goes back."""
        if self._cancelling():
            await self.held.finish(CANCELLED.status, timings=self.timer.as_dict())
        else:
            await self._requeue(detail)

    def _had_started(self) -> bool:
        # A job taken over from a dead worker may have started under that worker.
        return self.phase >= Phase.STARTED or self.held.job.status is JobStatus.RUNNING

    def _prompt_to_pull_back(self) -> str | None:  # on shutdown: ours, waiting in the queue
        waiting = Phase.SUBMITTING <= self.phase < Phase.STARTED and not self._backend_lost
        return self.prompt_id if waiting else None

    async def _requeue(self, detail: str) -> None:
        await self.held.requeue_lost(
            detail,
            started=self._had_started(),
            max_attempts=self._options.max_attempts,
            timings=self.timer.as_dict(),
        )

    # -- side tasks --------------------------------------------------------------------

    async def _stop_prompt(self) -> None:
        feed, connection = self._feed, self._connection
        if feed is not None and connection is not None:
            started = self.phase >= Phase.STARTED
            await stop_followed_prompt(
                self.backend.http, connection, feed, started=started, job_id=self.held.job_id
            )

    async def _timeout_watchdog(self, timeout_s: float) -> None:
        await asyncio.sleep(timeout_s)
        if self.stop_reason is None and self.phase < Phase.ENDED:
            self.stop_reason = StopReason.TIMEOUT
            await self._stop_prompt()

    def _cancelling(self) -> bool:
        # A method, not an inline test: a cancel may arrive during any await.
        return self.stop_reason is StopReason.CANCEL

    def _prompt_left(self) -> None:
        callback, self._on_prompt_left = self._on_prompt_left, None
        if callback is not None:
            callback()
