"""What the sweeper needs from the job store and the blob store (narrow interfaces)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol, runtime_checkable

from comfy_gateway.store.retention_queries import EndedJob, SweepPosition


@runtime_checkable
class RetentionStore(Protocol):
    """The store side of retention (`SqlJobStore` has it through `RetentionQueries`)."""

    def retention_now(self) -> datetime: ...

    async def ended_jobs(
        self, *, ended_before: datetime, after: SweepPosition | None, limit: int
    ) -> tuple[EndedJob, ...]: ...

    async def delete_ended_jobs(
        self, job_ids: Collection[str], *, ended_before: datetime
    ) -> int: ...

    async def delete_idempotency_keys(self, *, created_before: datetime, limit: int) -> int: ...


class DeletesBlobs(Protocol):
    """All the sweeper needs of a `BlobStore`."""

    async def delete(self, key: str) -> bool: ...


@runtime_checkable
class DeletesByPrefix(Protocol):
    """A blob store that can drop a job's whole folder (leftovers no record names)."""

    async def delete_prefix(self, prefix: str) -> int: ...
