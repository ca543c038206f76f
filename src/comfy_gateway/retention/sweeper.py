"""The retention sweeper: deletes expired outputs, media, job records and idempotency keys.

One pass, in this order (each in batches of ``batch_size`` rows, each batch its own
short transaction, until nothing more is due):

1. job records past ``job_retention_s``: their blobs first, then the rows, so a crash in
   between leaves rows that the next pass finds again, never blobs nobody can find;
2. output blobs past ``output_retention_s`` (the output record stays: the API answers
   410 ``output_expired`` for it);
3. media blobs past ``media_retention_s``;
4. idempotency keys past ``idempotency_retention_s``.

Outputs and media are scanned oldest first from where the previous pass stopped (a
keyset position kept in memory), so a pass reads only jobs that became due since; a new
process starts from the oldest job still stored. Deleting a blob twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from comfy_gateway.errors import GatewayError
from comfy_gateway.retention.policy import RetentionPolicy
from comfy_gateway.retention.store_protocol import DeletesBlobs, DeletesByPrefix, RetentionStore
from comfy_gateway.store.retention_queries import EndedJob, SweepPosition

log = logging.getLogger("comfy_gateway.retention")


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepReport:
    """What one pass deleted, and how many write transactions it took."""

    jobs_deleted: int = 0
    output_blobs_deleted: int = 0
    media_blobs_deleted: int = 0
    idempotency_keys_deleted: int = 0
    write_transactions: int = 0

    @property
    def deleted_anything(self) -> bool:
        return any(
            (
                self.jobs_deleted,
                self.output_blobs_deleted,
                self.media_blobs_deleted,
                self.idempotency_keys_deleted,
            )
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Deleted:
    rows: int
    transactions: int


class _BlobScan:
    """Deletes one kind of blob (outputs or media) of jobs that ended before a cut-off."""

    def __init__(self, keys_of: Callable[[EndedJob], tuple[str, ...]]) -> None:
        self._keys_of = keys_of
        self._position: SweepPosition | None = None

    async def sweep(self, sweeper: RetentionSweeper, ended_before: datetime) -> int:
        deleted = 0
        while not sweeper.stopping:
            batch = await sweeper.store.ended_jobs(
                ended_before=ended_before, after=self._position, limit=sweeper.batch_size
            )
            for job in batch:
                deleted += await sweeper.delete_blobs(job, self._keys_of(job))
            if batch:
                self._position = batch[-1].position
            if len(batch) < sweeper.batch_size:
                break
            await asyncio.sleep(0)  # let other writers and requests in between batches
        return deleted


class RetentionSweeper:
    """Runs sweep passes every ``sweep_interval_s`` until told to stop."""

    def __init__(
        self, *, store: RetentionStore, blobs: DeletesBlobs, policy: RetentionPolicy
    ) -> None:
        self.store = store
        self._blobs = blobs
        self._policy = policy
        self._outputs = _BlobScan(lambda job: job.output_keys)
        self._media = _BlobScan(lambda job: job.media_keys)
        self._stop: asyncio.Event | None = None

    @property
    def batch_size(self) -> int:
        return self._policy.batch_size

    @property
    def stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep now and then every interval; a failed pass is logged and retried later."""
        self._stop = stop
        while not stop.is_set():
            await self._sweep_logging_failures()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._policy.sweep_interval_s)

    async def _sweep_logging_failures(self) -> None:
        try:
            report = await self.sweep_once()
        except (GatewayError, OSError) as exc:
            log.warning(
                "retention sweep failed, retrying in %s s: %s", self._policy.sweep_interval_s, exc
            )
            return
        if report.deleted_anything:
            log.info("retention sweep: %s", report)

    async def sweep_once(self) -> SweepReport:
        """One pass over everything that is due now (by the store's clock)."""
        cutoffs = self._policy.cutoffs(self.store.retention_now())
        jobs = await self._purge_jobs(cutoffs.jobs_ended_before)
        outputs = await self._outputs.sweep(self, cutoffs.outputs_ended_before)
        media = await self._media.sweep(self, cutoffs.media_ended_before)
        keys = await self._purge_idempotency_keys(cutoffs.keys_created_before)
        return SweepReport(
            jobs_deleted=jobs.rows,
            output_blobs_deleted=outputs,
            media_blobs_deleted=media,
            idempotency_keys_deleted=keys.rows,
            write_transactions=jobs.transactions + keys.transactions,
        )

    async def _purge_jobs(self, ended_before: datetime) -> _Deleted:
        rows = transactions = 0
        position: SweepPosition | None = None
        while not self.stopping:
            batch = await self.store.ended_jobs(
                ended_before=ended_before, after=position, limit=self.batch_size
            )
            if not batch:
                break
            position = batch[-1].position
            cleared = [job.job_id for job in batch if await self._delete_all_blobs(job)]
            rows += await self.store.delete_ended_jobs(cleared, ended_before=ended_before)
            transactions += 1 if cleared else 0
            if len(batch) < self.batch_size:
                break
            await asyncio.sleep(0)
        return _Deleted(rows=rows, transactions=transactions)

    async def _purge_idempotency_keys(self, created_before: datetime) -> _Deleted:
        rows = transactions = 0
        while not self.stopping:
            deleted = await self.store.delete_idempotency_keys(
                created_before=created_before, limit=self.batch_size
            )
            rows, transactions = rows + deleted, transactions + 1
            if deleted < self.batch_size:
                break
            await asyncio.sleep(0)
        return _Deleted(rows=rows, transactions=transactions)

    async def _delete_all_blobs(self, job: EndedJob) -> bool:
        """Every blob of the job, the ones its records name and any left beside them;
        False (the job's rows are kept for the next pass) if one could not be deleted."""
        keys = (*job.output_keys, *job.media_keys)
        try:
            await self._delete_keys(keys)
            if isinstance(self._blobs, DeletesByPrefix):
                await self._blobs.delete_prefix(job.blob_prefix)
        except (GatewayError, OSError) as exc:
            log.warning("job %s kept until its blobs can be deleted: %s", job.job_id, exc)
            return False
        return True

    async def delete_blobs(self, job: EndedJob, keys: tuple[str, ...]) -> int:
        """Delete these blobs of ``job``; how many existed. A failure is logged and
        skipped: the blob is deleted with the job record at the latest."""
        try:
            return await self._delete_keys(keys)
        except (GatewayError, OSError) as exc:
            log.warning("blobs of job %s not deleted: %s", job.job_id, exc)
            return 0

    async def _delete_keys(self, keys: Iterable[str]) -> int:
        return sum([await self._blobs.delete(key) for key in keys])
