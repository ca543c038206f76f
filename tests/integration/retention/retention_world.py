"""Jobs at chosen ages in a real SQLite store and local blob store, for sweeper tests.

Jobs are walked through their life with the store's own methods (never SQL); the
`ManualClock` is moved between them, so each job ends at a time the test chose.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job, JobOutput, MediaRef, NewJob
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.storage.local import SMALL_BLOBS_FILE
from comfy_gateway.store import ManualClock, SqlJobStore

DAY_S = 24 * 3600.0
LONG_LEASE_S = 400 * DAY_S  # a running job whose holder stays alive through the test
WORKFLOW = {"9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x"}}}


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


@dataclass(frozen=True, kw_only=True)
class StoredJob:
    job: Job
    output_keys: tuple[str, ...]
    media_keys: tuple[str, ...]


@dataclass
class RetentionWorld:
    store: SqlJobStore
    blobs: LocalBlobStore
    clock: ManualClock
    jobs: list[StoredJob] = field(default_factory=list)

    async def _put(self, key: str, data: bytes) -> str:
        await self.blobs.put(key, _one_chunk(data), content_type="image/png")
        return key

    async def _media(self, tenant: str, job_id: str) -> MediaRef:
        data = f"media of {job_id}".encode()
        digest = hashlib.sha256(data).hexdigest()
        key = await self._put(f"{tenant}/{job_id}/media/{digest}.png", data)
        return MediaRef(
            name="image",
            filename=f"{digest}.png",
            content_type="image/png",
            size_bytes=len(data),
            sha256=digest,
            storage_key=key,
        )

    async def _create(
        self, tenant: str, key: str | None, priority: int = 0, webhook_url: str | None = None
    ) -> Job:
        job_id = new_job_id()
        media = await self._media(tenant, job_id)
        new_job = NewJob(
            job_id=job_id,
            tenant_id=tenant,
            workflow=WORKFLOW,
            priority=priority,
            media=(media,),
            webhook_url=webhook_url,
        )
        job, created = await self.store.create_job(new_job, key, "hash" if key else None)
        assert created
        return job

    async def _claim(self, job_id: str) -> int:
        claim = await self.store.claim_next_job("worker-1", LONG_LEASE_S)
        assert claim is not None
        assert claim.job.job_id == job_id, "another job was claimed"
        await self.store.record_attempt_start(job_id, claim.fencing_token, "gpu0", job_id, "cgw")
        await self.store.mark_running(job_id, claim.fencing_token)
        return claim.fencing_token

    async def _output(self, job: Job, index: int) -> JobOutput:
        data = f"output {index} of {job.job_id}".encode()
        key = await self._put(f"{job.tenant_id}/{job.job_id}/{index}-out.png", data)
        return JobOutput(
            index=index,
            node_id="9",
            kind="image",
            filename="out.png",
            subfolder="",
            content_type="image/png",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            temporary=False,
            storage_key=key,
        )

    async def finished(
        self,
        tenant: str = "acme",
        *,
        status: JobStatus = JobStatus.COMPLETED,
        key: str | None = None,
        outputs: int = 2,
        webhook_url: str | None = None,
    ) -> StoredJob:
        """A job that ends now (by the clock) with ``outputs`` output files and one media."""
        job = await self._create(tenant, key, webhook_url=webhook_url)
        return self._remember(await self._run_to_end(job, status, outputs))

    async def finish_queued(self, queued: StoredJob) -> StoredJob:
        """Run a job made by `queued` to completion now (it must be the best to claim)."""
        self.jobs.remove(queued)
        return self._remember(await self._run_to_end(queued.job, JobStatus.COMPLETED, 1))

    async def _run_to_end(self, job: Job, status: JobStatus, outputs: int) -> Job:
        token = await self._claim(job.job_id)
        made = [await self._output(job, index) for index in range(outputs)]
        return await self.store.finish_job(job.job_id, token, status, outputs=made)

    async def running(self, tenant: str = "acme") -> StoredJob:
        job = await self._create(tenant, None)
        await self._claim(job.job_id)
        return self._remember(await self.store.get_job(tenant, job.job_id))

    async def queued(self, tenant: str = "acme", priority: int = -1000) -> StoredJob:
        """A queued job that `finished` never claims (its priority is below theirs)."""
        return self._remember(await self._create(tenant, None, priority=priority))

    def _remember(self, job: Job) -> StoredJob:
        stored = StoredJob(
            job=job,
            output_keys=tuple(output.storage_key for output in job.outputs),
            media_keys=tuple(item.storage_key for item in job.media),
        )
        self.jobs.append(stored)
        return stored


def blob_files(root: Path) -> dict[str, bytes]:
    """Every blob under ``root`` (the store's root or a folder of it) with its bytes:
    each file (sidecars included) and each row of the small-blob database."""
    found = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in (sorted(root.rglob("*")) if root.is_dir() else [])
        if path.is_file() and not path.name.startswith(SMALL_BLOBS_FILE)
    }
    store_root = next(
        (folder for folder in (root, *root.parents) if (folder / SMALL_BLOBS_FILE).exists()),
        None,
    )
    if store_root is not None:
        prefix = "" if root == store_root else root.relative_to(store_root).as_posix() + "/"
        with closing(sqlite3.connect(store_root / SMALL_BLOBS_FILE)) as db:
            for key, content in db.execute("SELECT key, content FROM blobs"):
                if key.startswith(prefix):
                    found[key[len(prefix) :]] = bytes(content)
    return found


def with_sidecars(keys: tuple[str, ...]) -> set[str]:
    """The files of ``keys``: a ``.png`` stored as image/png has no sidecar."""
    return set(keys)
