"""Fixtures of the retention tests: real SQLite, a real local blob store, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.storage.small_blobs import SMALL_BLOB_BYTES
from comfy_gateway.store import ManualClock, SqlJobStore, open_sqlite_store
from integration.retention.retention_world import RetentionWorld


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqlJobStore]:
    job_store = await open_sqlite_store(tmp_path / "jobs.sqlite3", clock=clock)
    try:
        yield job_store
    finally:
        await job_store.close()


@pytest.fixture(params=["small-blob-rows", "files"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalBlobStore]:
    """The test's blobs as rows of the small-blob database, or all as files."""
    limit = {"files": 0}.get(request.param, SMALL_BLOB_BYTES)
    store = LocalBlobStore(tmp_path / "blobs", small_blob_bytes=limit)
    yield store
    store.close()


@pytest.fixture
def world(store: SqlJobStore, blobs: LocalBlobStore, clock: ManualClock) -> RetentionWorld:
    return RetentionWorld(store=store, blobs=blobs, clock=clock)
