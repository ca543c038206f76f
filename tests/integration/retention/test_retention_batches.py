"""A backlog is swept in batches: no transaction deletes more than ``batch_size`` rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.retention import RetentionPolicy, RetentionSweeper
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from comfy_gateway.store.schema import idempotency_keys, jobs
from integration.retention.retention_world import DAY_S, RetentionWorld, blob_files

BATCH = 100
POLICY = RetentionPolicy(job_retention_s=30 * DAY_S, batch_size=BATCH)


@contextmanager
def deletes_per_transaction(store: SqlJobStore, table: str) -> Iterator[list[int]]:
    """Rows each committed transaction deleted from ``table`` (one entry per transaction
    that deleted any)."""
    current: dict[int, int] = {}
    committed: list[int] = []

    def after_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(f"DELETE FROM {table.upper()} "):
            current[id(conn)] = current.get(id(conn), 0) + _cursor.rowcount

    def on_commit(conn: Any) -> None:
        if id(conn) in current:
            committed.append(current.pop(id(conn)))

    for engine in store.engines:
        event.listen(engine, "after_cursor_execute", after_execute)
        event.listen(engine, "commit", on_commit)
    try:
        yield committed
    finally:
        for engine in store.engines:
            event.remove(engine, "after_cursor_execute", after_execute)
            event.remove(engine, "commit", on_commit)


async def make_backlog(world: RetentionWorld, count: int, outputs: int = 1) -> None:
    for number in range(count):
        await world.finished(status=JobStatus.COMPLETED, key=f"key-{number}", outputs=outputs)


async def table_size(store: SqlJobStore, table: Any) -> int:
    query = select(func.count()).select_from(table)
    return await store.run_transaction(
        lambda conn: int(conn.execute(query).scalar_one()), write=False
    )


async def test_250_expired_jobs_go_in_three_transactions_of_at_most_100(
    world: RetentionWorld, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    await make_backlog(world, 250)
    world.clock.advance(30 * DAY_S + 1)
    await world.finished("beta")
    fresh_files = blob_files(blobs.root / "beta")

    with deletes_per_transaction(store, "jobs") as job_deletes:
        report = await RetentionSweeper(store=store, blobs=blobs, policy=POLICY).sweep_once()

    assert job_deletes == [100, 100, 50]
    assert report.jobs_deleted == 250
    left = await store.run_transaction(
        lambda conn: list(conn.execute(select(jobs.c.tenant_id)).scalars()), write=False
    )
    assert left == ["beta"]
    assert await table_size(store, idempotency_keys) == 0
    assert blob_files(blobs.root / "acme") == {}
    tenant_folder = blobs.root / "acme"  # no job folders left (none made for small blobs)
    assert not tenant_folder.exists() or list(tenant_folder.iterdir()) == []
    assert fresh_files
    assert blob_files(blobs.root / "beta") == fresh_files


async def test_expired_idempotency_keys_go_in_batches(
    world: RetentionWorld, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    await make_backlog(world, 120, outputs=0)
    world.clock.advance(DAY_S + 1)
    policy = RetentionPolicy(batch_size=50)
    with deletes_per_transaction(store, "idempotency_keys") as key_deletes:
        report = await RetentionSweeper(store=store, blobs=blobs, policy=policy).sweep_once()
    assert key_deletes == [50, 50, 20]
    assert report.idempotency_keys_deleted == 120
    assert await table_size(store, jobs) == 120
