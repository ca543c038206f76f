"""The sweeper removes expired outputs, media, records and keys, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.retention import RetentionPolicy, RetentionSweeper, SweepReport
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from comfy_gateway.store.schema import (
    idempotency_keys,
    job_attempts,
    job_outputs,
    jobs,
    webhook_outbox,
)
from integration.retention.retention_world import (
    DAY_S,
    RetentionWorld,
    StoredJob,
    blob_files,
    with_sidecars,
)

POLICY = RetentionPolicy(
    output_retention_s=7 * DAY_S,
    job_retention_s=30 * DAY_S,
    media_retention_s=DAY_S,
    idempotency_retention_s=DAY_S,
    batch_size=100,
)
SWEEP_AT = 30 * DAY_S + 1  # seconds after the clock's start


def sweeper(world: RetentionWorld, policy: RetentionPolicy = POLICY) -> RetentionSweeper:
    return RetentionSweeper(store=world.store, blobs=world.blobs, policy=policy)


def advance_to(world: RetentionWorld, start: Any, seconds: float) -> None:
    """Move the clock to ``seconds`` after ``start``."""
    world.clock.advance(seconds - (world.clock.now() - start).total_seconds())


async def count_rows(store: SqlJobStore, table: Any, *where: Any) -> int:
    query = select(func.count()).select_from(table).where(*where)
    return await store.run_transaction(
        lambda conn: int(conn.execute(query).scalar_one()), write=False
    )


async def build_ages(world: RetentionWorld) -> dict[str, StoredJob]:
    """Jobs ending at chosen ages, as seen at SWEEP_AT (see each comment)."""
    start = world.clock.now()
    made = {
        "queued": await world.queued(),  # queued for 30 d + 1 s: never touched
        "running": await world.running(),  # running for 30 d + 1 s: never touched
        # Ended 30 d + 1 s ago: deleted, with its webhook outbox row.
        "old": await world.finished(key="k-old", webhook_url="http://127.0.0.1:9/hook"),
        # Made 30 d + 1 s ago, ended an hour ago: ages count from the end, so all stays.
        "made_long_ago": await world.queued(priority=-1),
    }
    ages = [
        ("inside_job_window", 30 * DAY_S - 1, JobStatus.CANCELLED, None),
        ("outputs_expired", 7 * DAY_S + 1, JobStatus.COMPLETED, "k-expired"),
        ("outputs_fresh", 7 * DAY_S - 1, JobStatus.FAILED, None),
        ("media_fresh", DAY_S - 1, JobStatus.COMPLETED, "k-fresh"),
    ]
    for name, age, status, key in ages:
        advance_to(world, start, SWEEP_AT - age)
        made[name] = await world.finished(status=status, key=key)
    advance_to(world, start, SWEEP_AT - 3600)
    made["other_tenant"] = await world.finished("beta")
    made["made_long_ago"] = await world.finish_queued(made["made_long_ago"])
    advance_to(world, start, SWEEP_AT)
    return made


def expected_gone(made: dict[str, StoredJob]) -> set[str]:
    old = made["old"]
    return (
        with_sidecars(old.output_keys + old.media_keys)
        | with_sidecars(made["inside_job_window"].output_keys)
        | with_sidecars(made["outputs_expired"].output_keys)
        | {
            name
            for job in ("inside_job_window", "outputs_expired", "outputs_fresh")
            for name in with_sidecars(made[job].media_keys)
        }
    )


async def test_sweep_deletes_what_expired_and_nothing_else(
    world: RetentionWorld, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    made = await build_ages(world)
    kept = [job for name, job in made.items() if name != "old"]
    records_before = [await store.get_job(j.job.tenant_id, j.job.job_id) for j in kept]
    files_before = blob_files(blobs.root)

    report = await sweeper(world).sweep_once()

    gone = expected_gone(made)
    assert gone <= set(files_before)
    files_after = blob_files(blobs.root)
    assert files_after == {name: data for name, data in files_before.items() if name not in gone}
    assert [await store.get_job(j.job.tenant_id, j.job.job_id) for j in kept] == records_before
    assert report == SweepReport(
        jobs_deleted=1,
        output_blobs_deleted=4,
        media_blobs_deleted=3,
        idempotency_keys_deleted=1,
        write_transactions=2,
    )


async def test_an_expired_job_loses_every_row_and_folder(
    world: RetentionWorld, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    made = await build_ages(world)
    old = made["old"].job
    tables = (jobs, job_outputs, job_attempts, idempotency_keys, webhook_outbox)
    assert [await count_rows(store, t, t.c.job_id == old.job_id) for t in tables] == [
        1,
        2,
        1,
        1,
        1,
    ]
    await sweeper(world).sweep_once()

    with pytest.raises(JobNotFound):
        await store.get_job(old.tenant_id, old.job_id)
    for table in tables:
        assert await count_rows(store, table, table.c.job_id == old.job_id) == 0
    assert not (blobs.root / old.tenant_id / old.job_id).exists()


async def test_only_idempotency_keys_younger_than_their_retention_stay(
    world: RetentionWorld, store: SqlJobStore
) -> None:
    await build_ages(world)
    assert await count_rows(store, idempotency_keys) == 3
    await sweeper(world).sweep_once()
    query = select(idempotency_keys.c.idempotency_key)
    left = await store.run_transaction(
        lambda conn: list(conn.execute(query).scalars()), write=False
    )
    assert left == ["k-fresh"]


async def test_a_second_sweep_finds_nothing_more(
    world: RetentionWorld, blobs: LocalBlobStore
) -> None:
    await build_ages(world)
    sweep = sweeper(world)
    await sweep.sweep_once()
    files = blob_files(blobs.root)
    report = await sweep.sweep_once()
    assert not report.deleted_anything
    assert blob_files(blobs.root) == files


async def test_outputs_that_expire_later_are_swept_by_a_later_pass(
    world: RetentionWorld, blobs: LocalBlobStore
) -> None:
    made = await build_ages(world)
    sweep = sweeper(world)
    await sweep.sweep_once()
    fresh = made["outputs_fresh"]
    assert None not in [await blobs.stat(key) for key in fresh.output_keys]
    world.clock.advance(2)
    report = await sweep.sweep_once()
    assert report.output_blobs_deleted == len(fresh.output_keys)
    assert [await blobs.stat(key) for key in fresh.output_keys] == [None] * len(fresh.output_keys)
