"""In-memory stand-ins for the sweeper's narrow interfaces (no I/O)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from comfy_gateway.errors import GatewayError
from comfy_gateway.store.retention_queries import EndedJob, SweepPosition

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class FakeRetentionStore:
    """Ended jobs and idempotency-key times; counts the calls that would write."""

    now: datetime = START
    ended: list[EndedJob] = field(default_factory=list)
    key_times: list[datetime] = field(default_factory=list)
    write_calls: int = 0
    largest_write: int = 0

    def add_ended(self, job_id: str, ended_s_ago: float, keys: int = 1) -> EndedJob:
        job = EndedJob(
            job_id=job_id,
            tenant_id="acme",
            completed_at=self.now - timedelta(seconds=ended_s_ago),
            output_keys=tuple(f"acme/{job_id}/{index}-out.png" for index in range(keys)),
            media_keys=(f"acme/{job_id}/media/m.png",),
        )
        self.ended.append(job)
        return job

    def retention_now(self) -> datetime:
        return self.now

    async def ended_jobs(
        self, *, ended_before: datetime, after: SweepPosition | None, limit: int
    ) -> tuple[EndedJob, ...]:
        due = sorted(
            (job for job in self.ended if job.completed_at <= ended_before),
            key=lambda job: (job.completed_at, job.job_id),
        )
        if after is not None:
            due = [
                job
                for job in due
                if (job.completed_at, job.job_id) > (after.completed_at, after.job_id)
            ]
        return tuple(due[:limit])

    async def delete_ended_jobs(self, job_ids: Collection[str], *, ended_before: datetime) -> int:
        self._wrote(len(job_ids))
        doomed = {
            j.job_id for j in self.ended if j.job_id in job_ids and j.completed_at <= ended_before
        }
        self.ended = [job for job in self.ended if job.job_id not in doomed]
        return len(doomed)

    async def delete_idempotency_keys(self, *, created_before: datetime, limit: int) -> int:
        due = sorted(time for time in self.key_times if time <= created_before)[:limit]
        for time in due:
            self.key_times.remove(time)
        self._wrote(len(due))
        return len(due)

    def _wrote(self, rows: int) -> None:
        self.write_calls += 1
        self.largest_write = max(self.largest_write, rows)


@dataclass
class FakeBlobs:
    """Blob keys in a set; keys in ``broken`` fail to delete; `delete_prefix` drops a folder."""

    keys: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)

    async def delete(self, key: str) -> bool:
        if key in self.broken:
            raise GatewayError(f"cannot delete {key}")
        if key in self.keys:
            self.keys.remove(key)
            return True
        return False

    async def delete_prefix(self, prefix: str) -> int:
        inside = {key for key in self.keys if key.startswith(prefix + "/")}
        self.keys -= inside
        return len(inside)


def all_keys(job: EndedJob) -> set[str]:
    return {*job.output_keys, *job.media_keys}
