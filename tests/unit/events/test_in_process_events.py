"""`InProcessJobEvents`: watchers see newer snapshots, per job and tenant, and time out."""

from __future__ import annotations

import asyncio

from comfy_gateway.events import InProcessJobEvents
from unit.events.job_snapshots import JOB_ID, make_job


async def test_a_watcher_gets_the_published_snapshot() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as watch:
        waiting = asyncio.create_task(watch.next_change(1, timeout_s=5))
        await events.publish(make_job(version=2))
        job = await waiting
    assert job is not None
    assert job.version == 2


async def test_a_snapshot_published_before_the_wait_is_not_missed() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as watch:
        await events.publish(make_job(version=3))
        job = await watch.next_change(2, timeout_s=5)
    assert job is not None
    assert job.version == 3


async def test_old_versions_do_not_wake_and_the_wait_times_out() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as watch:
        await events.publish(make_job(version=2))
        assert await watch.next_change(2, timeout_s=0.01) is None


async def test_an_older_snapshot_never_replaces_a_newer_one() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as watch:
        await events.publish(make_job(version=5))
        await events.publish(make_job(version=4))
        job = await watch.next_change(3, timeout_s=5)
    assert job is not None
    assert job.version == 5


async def test_another_tenants_job_with_the_same_id_does_not_wake_the_watcher() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as watch:
        await events.publish(make_job(version=9, tenant_id="beta"))
        assert await watch.next_change(1, timeout_s=0.01) is None


async def test_every_watcher_of_a_job_is_woken() -> None:
    events = InProcessJobEvents()
    async with events.watch("acme", JOB_ID) as first, events.watch("acme", JOB_ID) as second:
        waits = [asyncio.create_task(w.next_change(1, timeout_s=5)) for w in (first, second)]
        await events.publish(make_job(version=2))
        jobs = await asyncio.gather(*waits)
    assert [job.version if job else None for job in jobs] == [2, 2]


async def test_publishing_without_watchers_keeps_nothing() -> None:
    events = InProcessJobEvents()
    await events.publish(make_job(version=7))
    async with events.watch("acme", JOB_ID) as watch:
        # Nothing was kept: the caller reads the store after opening the watch instead.
        assert await watch.next_change(1, timeout_s=0.01) is None


async def test_a_cancel_racing_a_publish_still_cancels_the_watcher() -> None:
    # Regression: asyncio.wait_for on 3.11 could swallow a cancel arriving right after
    # the wake-up, leaving the watcher waiting forever.
    events = InProcessJobEvents()
    watching = asyncio.Event()

    async def watcher() -> None:
        async with events.watch("acme", JOB_ID) as watch:
            version = 0
            while True:
                watching.set()
                job = await watch.next_change(version, 30)
                assert job is not None
                version = job.version

    task = asyncio.create_task(watcher())
    await watching.wait()
    await events.publish(make_job(version=1))
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert task in done
    assert task.cancelled()
