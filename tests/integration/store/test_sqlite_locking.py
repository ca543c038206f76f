"""SQLite transactions run on the event loop first and wait on a thread only when the
database is locked by someone else (another process's writer, here a raw connection)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.errors import ConstraintViolation
from comfy_gateway.store import open_sqlite_store
from comfy_gateway.store.store_threads import OFF_THE_LOOP
from integration.store.job_builders import TENANT, make_new_job


@contextmanager
def write_lock_held(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's write lock until the block ends (committed)."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("COMMIT")
    finally:
        other.close()


async def test_a_write_waits_for_a_foreign_lock_and_a_read_does_not(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = await open_sqlite_store(path)
    try:
        first, _ = await store.create_job(make_new_job())
        with write_lock_held(path):
            waiting = asyncio.create_task(store.create_job(make_new_job()))
            # A reader never waits for a writer in WAL mode: this answers while locked.
            assert (await store.get_job(TENANT, first.job_id)).job_id == first.job_id
            for _ in range(20):  # let the loop run the task as far as it can go
                await asyncio.sleep(0)
            assert not waiting.done()  # it waits for the lock on the writer thread
        second, created = await asyncio.wait_for(waiting, 10)
        assert created
        assert (await store.get_job(TENANT, second.job_id)).job_id == second.job_id
    finally:
        await store.close()


async def test_a_write_refused_by_a_constraint_leaves_nothing(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        job = make_new_job()
        await store.create_job(job)
        counts_before = await store.count_active(TENANT)
        with pytest.raises(ConstraintViolation):
            await store.create_job(job)  # same job id: the primary key refuses it
        assert await store.count_active(TENANT) == counts_before
    finally:
        await store.close()


async def test_off_the_loop_callers_run_on_a_store_thread(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    ran_on: list[str] = []

    def body(conn: Connection) -> None:
        ran_on.append(threading.current_thread().name)

    async def background() -> None:
        OFF_THE_LOOP.set(True)  # in this task's own context only
        await store.run_transaction(body, write=True)

    try:
        await store.run_transaction(body, write=True)
        await asyncio.create_task(background())
        await store.run_transaction(body, write=False)
    finally:
        await store.close()
    loop_thread = threading.current_thread().name
    assert ran_on[0] == loop_thread  # nothing locked: right on the loop
    assert ran_on[1].startswith("store-write")
    assert ran_on[2] == loop_thread  # the flag did not leak out of the task
