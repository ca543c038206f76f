"""Fixtures of the retention tests: real SQLite, a real local blob store, a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.storage import LocalBlobStore
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


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def world(store: SqlJobStore, blobs: LocalBlobStore, clock: ManualClock) -> RetentionWorld:
    return RetentionWorld(store=store, blobs=blobs, clock=clock)
