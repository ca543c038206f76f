"""The sweeper's decisions against in-memory fakes: order, batches, failures, stopping."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from comfy_gateway.retention import RetentionPolicy, RetentionSweeper
from unit.retention.retention_fakes import FakeBlobs, FakeRetentionStore, all_keys

DAY_S = 24 * 3600.0
POLICY = RetentionPolicy(batch_size=3)


def sweeper_for(store: FakeRetentionStore, blobs: FakeBlobs) -> RetentionSweeper:
    return RetentionSweeper(store=store, blobs=blobs, policy=POLICY)


async def test_blobs_of_an_expired_job_go_with_it_and_leftovers_too() -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    job = store.add_ended("old", 31 * DAY_S)
    blobs.keys = all_keys(job) | {"acme/old/stray.bin", "acme/older/0-x.png"}
    report = await sweeper_for(store, blobs).sweep_once()
    assert report.jobs_deleted == 1
    assert store.ended == []
    assert blobs.keys == {"acme/older/0-x.png"}


async def test_a_job_whose_blob_cannot_be_deleted_keeps_its_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    stuck, fine = store.add_ended("stuck", 31 * DAY_S), store.add_ended("fine", 32 * DAY_S)
    blobs.keys = all_keys(stuck) | all_keys(fine)
    blobs.broken = {stuck.output_keys[0]}
    with caplog.at_level(logging.WARNING, "comfy_gateway.retention"):
        report = await sweeper_for(store, blobs).sweep_once()
    assert report.jobs_deleted == 1
    assert store.ended == [stuck]
    assert "stuck kept until its blobs can be deleted" in caplog.text
    blobs.broken.clear()
    assert (await sweeper_for(store, blobs).sweep_once()).jobs_deleted == 1
    assert blobs.keys == set()


async def test_writes_never_exceed_the_batch_size() -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    for number in range(10):
        store.add_ended(f"job-{number:02d}", 40 * DAY_S - number)
    store.key_times = [store.now - timedelta(days=2)] * 7
    report = await sweeper_for(store, blobs).sweep_once()
    assert (report.jobs_deleted, report.idempotency_keys_deleted) == (10, 7)
    assert store.largest_write == 3
    assert report.write_transactions == store.write_calls == 4 + 3


async def test_outputs_and_media_expire_separately_and_records_stay() -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    week_old = store.add_ended("week", 7 * DAY_S + 1)
    day_old = store.add_ended("day", DAY_S + 1)
    new = store.add_ended("new", 60)
    blobs.keys = all_keys(week_old) | all_keys(day_old) | all_keys(new)
    report = await sweeper_for(store, blobs).sweep_once()
    assert (report.output_blobs_deleted, report.media_blobs_deleted) == (1, 2)
    assert blobs.keys == set(day_old.output_keys) | all_keys(new)
    assert store.ended == [week_old, day_old, new]


async def test_a_later_pass_reads_only_jobs_past_where_the_last_one_stopped() -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    first = store.add_ended("first", 8 * DAY_S)
    sweeper = sweeper_for(store, blobs)
    await sweeper.sweep_once()
    second = store.add_ended("second", 7 * DAY_S + 1)
    # As if written again: a later pass must not look at the first job any more.
    blobs.keys = set(first.output_keys) | set(second.output_keys)
    report = await sweeper.sweep_once()
    assert report.output_blobs_deleted == 1
    assert blobs.keys == set(first.output_keys)


async def test_run_sweeps_at_once_and_ends_when_told() -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    job = store.add_ended("old", 31 * DAY_S)
    blobs.keys = all_keys(job)
    stop = asyncio.Event()
    sweeper = RetentionSweeper(
        store=store, blobs=blobs, policy=RetentionPolicy(sweep_interval_s=3600)
    )
    running = asyncio.create_task(sweeper.run(stop))
    async with asyncio.timeout(5):
        while store.ended:  # noqa: ASYNC110 - the fake store has no event to wait on
            await asyncio.sleep(0)
        stop.set()
        await running
    assert blobs.keys == set()


async def test_run_survives_a_failed_pass(caplog: pytest.LogCaptureFixture) -> None:
    store, blobs = FakeRetentionStore(), FakeBlobs()
    calls = 0
    stop = asyncio.Event()

    def failing_now() -> object:
        nonlocal calls
        calls += 1
        if calls == 2:
            stop.set()
        raise OSError("database is on a disk that went away")

    store.retention_now = failing_now  # type: ignore[method-assign,assignment]
    sweeper = RetentionSweeper(
        store=store, blobs=blobs, policy=RetentionPolicy(sweep_interval_s=0.01)
    )
    with caplog.at_level(logging.WARNING, "comfy_gateway.retention"):
        await asyncio.wait_for(sweeper.run(stop), 5)
    assert calls == 2
    assert "retention sweep failed" in caplog.text
