"""What the worker would do to a job, done by a test through the store's worker-side
methods and `events.publish` (never SQL), so API tests can walk a job through its life."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.events import JobEvents
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Claim, Job, JobError, JobOutput, NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import BlobStore
from comfy_gateway.store.interface import JobStore

WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}
CONTENT_TYPES = {".png": "image/png", ".mp4": "video/mp4", ".txt": "text/plain"}


@dataclass(frozen=True, kw_only=True)
class OutputFile:
    """A file the fake worker "produced"."""

    filename: str
    data: bytes
    kind: str = "image"

    @property
    def content_type(self) -> str:
        suffix = self.filename[self.filename.rfind(".") :]
        return CONTENT_TYPES.get(suffix, "application/octet-stream")


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclass
class WorkerSide:
    store: JobStore
    blobs: BlobStore
    events: JobEvents
    worker_id: str = "test-worker"
    claims: dict[str, Claim] = field(default_factory=dict)

    async def submit(self, tenant_id: str = "acme", priority: int = 0) -> Job:
        new_job = NewJob(
            job_id=new_job_id(), tenant_id=tenant_id, workflow=WORKFLOW, priority=priority
        )
        job, _ = await self.store.create_job(new_job)
        return job

    async def _published(self, job: Job) -> Job:
        await self.events.publish(job)
        return job

    async def claim(self, job_id: str) -> Job:
        """Claim ``job_id`` (tests keep one unclaimed job in the queue at a time)."""
        claim = await self.store.claim_next_job(self.worker_id, lease_s=60)
        assert claim is not None, "nothing to claim"
        assert claim.job.job_id == job_id, "another job was claimed first"
        self.claims[job_id] = claim
        return await self._published(claim.job)

    def _token(self, job_id: str) -> int:
        return self.claims[job_id].fencing_token

    async def start(self, job_id: str) -> Job:
        if job_id not in self.claims:
            await self.claim(job_id)
        return await self._published(await self.store.mark_running(job_id, self._token(job_id)))

    async def progress(self, job_id: str, value: float, details: dict[str, Any]) -> Job:
        job = await self.store.update_progress(job_id, self._token(job_id), value, details)
        return await self._published(job)

    async def store_outputs(self, job: Job, files: Sequence[OutputFile]) -> list[JobOutput]:
        outputs = []
        for index, produced in enumerate(files):
            key = f"{job.tenant_id}/{job.job_id}/{index}-{produced.filename}"
            info = await self.blobs.put(
                key, _one_chunk(produced.data), content_type=produced.content_type
            )
            outputs.append(
                JobOutput(
                    index=index,
                    node_id="2",
                    kind=produced.kind,
                    filename=produced.filename,
                    subfolder="",
                    content_type=produced.content_type,
                    size_bytes=info.size_bytes,
                    sha256=info.sha256,
                    temporary=False,
                    storage_key=key,
                )
            )
        return outputs

    async def finish(
        self,
        job_id: str,
        status: JobStatus,
        files: Sequence[OutputFile] = (),
        error: JobError | None = None,
    ) -> Job:
        if job_id not in self.claims:
            await self.start(job_id)
        job = self.claims[job_id].job
        outputs = await self.store_outputs(job, files)
        finished = await self.store.finish_job(
            job_id, self._token(job_id), status, outputs=outputs, error=error
        )
        return await self._published(finished)

    async def complete(self, job_id: str, files: Sequence[OutputFile] = ()) -> Job:
        return await self.finish(job_id, JobStatus.COMPLETED, files)

    async def fail(self, job_id: str, code: str = "execution_error") -> Job:
        error = JobError(code=code, message="the sampler ran out of memory", node_id="1")
        return await self.finish(job_id, JobStatus.FAILED, error=error)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
