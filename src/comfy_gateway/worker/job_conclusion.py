"""How a prompt's result becomes the job's end: the verdict, every output stored, one
terminal write (which records the start too if ``running`` was never written), and the
prompt left to leave ComfyUI's history a moment later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from comfy_gateway.comfy import PromptResult
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import BlobStore
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.held_job import HeldJob
from comfy_gateway.worker.job_outcome import StopReason, verdict_after_collection, verdict_for
from comfy_gateway.worker.output_collection import collect_outputs
from comfy_gateway.worker.output_prefetch import OutputPrefetch
from comfy_gateway.worker.progress_reporting import ProgressReporter
from comfy_gateway.worker.timings import PhaseTimer


@dataclass(frozen=True, kw_only=True)
class Conclusion:
    """What a job's end needs from its execution."""

    held: HeldJob
    backend: Backend
    blobs: BlobStore
    timer: PhaseTimer
    reporter: ProgressReporter | None
    prefetch: OutputPrefetch

    async def conclude(self, result: PromptResult | None, stop: StopReason | None) -> None:
        """End the job with ``result`` (None: cancelled before it was queued)."""
        held, timer = self.held, self.timer
        if result is None:
            await held.finish(JobStatus.CANCELLED, timings=timer.as_dict())
            return
        verdict = verdict_for(result, stop, timeout_s=held.job.timeout_s)
        if verdict.status is JobStatus.COMPLETED:
            held.drop_waiting_progress()  # the end writes 100 and the final details
        timer.mark("collect_start")
        collected = await collect_outputs(
            self.backend.http,
            self.blobs,
            tenant_id=held.job.tenant_id,
            job_id=held.job_id,
            executed=result.outputs,
            prefetch=self.prefetch,
        )
        timer.mark("collect_end")
        verdict = verdict_after_collection(verdict, collected)
        if verdict.status is JobStatus.COMPLETED:
            held.note_start(datetime.now(UTC))  # if the start event was missed
        details = self.reporter.final_details(verdict.status) if self.reporter else None
        await held.finish(
            verdict.status,
            outputs=collected.outputs,
            error=verdict.error,
            timings=timer.as_dict(),
            progress_details=details,
        )
        self.backend.history.forget(result.prompt_id)
