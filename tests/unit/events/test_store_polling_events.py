"""`StorePollingJobEvents`: changes made by another process are found by polling the store;
changes published in this process wake watchers without waiting for a poll."""

from __future__ import annotations

import asyncio

import pytest

from comfy_gateway.events.store_polling import StorePollingJobEvents
from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.jobs.model import Job
from comfy_gateway.store.interface import JobStore
from unit.events.job_snapshots import JOB_ID, make_job


class OneJobStore:
    """Just enough of a store: one job, changed by the test as another process would."""

    def __init__(self, job: Job | None) -> None:
        self.job = job
        self.reads = 0
        self.read_happened = asyncio.Event()

    async def get_job(self, tenant_id: str, job_id: str, *, with_workflow: bool = True) -> Job:
        assert not with_workflow  # a watch never needs the graph
        self.reads += 1
        self.read_happened.set()
        if self.job is None or (tenant_id, job_id) != (self.job.tenant_id, self.job.job_id):
            raise JobNotFound(job_id)
        return self.job


def polling(store: OneJobStore, interval_s: float = 0.01) -> StorePollingJobEvents:
    return StorePollingJobEvents(_as_store(store), poll_interval_s=interval_s)


def _as_store(store: OneJobStore) -> JobStore:
    return store  # type: ignore[return-value]


async def test_a_newer_version_already_stored_is_returned_at_once() -> None:
    store = OneJobStore(make_job(version=4))
    async with polling(store).watch("acme", JOB_ID) as watch:
        job = await watch.next_change(3, timeout_s=5)
    assert job is not None
    assert (job.version, store.reads) == (4, 1)


async def test_a_change_by_another_process_is_found_by_a_later_poll() -> None:
    store = OneJobStore(make_job(version=1))
    async with polling(store).watch("acme", JOB_ID) as watch:
        waiting = asyncio.create_task(watch.next_change(1, timeout_s=5))
        await store.read_happened.wait()
        store.job = make_job(version=2)
        job = await waiting
    assert job is not None
    assert job.version == 2
    assert store.reads >= 2


async def test_no_change_times_out_with_none_after_several_polls() -> None:
    store = OneJobStore(make_job(version=1))
    async with polling(store, interval_s=0.01).watch("acme", JOB_ID) as watch:
        assert await watch.next_change(1, timeout_s=0.1) is None
    assert store.reads >= 3


async def test_a_publish_in_this_process_wakes_the_watcher_before_the_next_poll() -> None:
    store = OneJobStore(make_job(version=1))
    events = polling(store, interval_s=60)  # a poll would never come within the test
    async with events.watch("acme", JOB_ID) as watch:
        waiting = asyncio.create_task(watch.next_change(1, timeout_s=5))
        await store.read_happened.wait()
        await events.publish(make_job(version=2))
        job = await asyncio.wait_for(waiting, 5)
    assert job is not None
    assert (job.version, store.reads) == (2, 1)


async def test_a_job_that_disappears_raises_job_not_found() -> None:
    store = OneJobStore(make_job(version=1))
    async with polling(store).watch("acme", JOB_ID) as watch:
        store.job = None
        with pytest.raises(JobNotFound):
            await watch.next_change(1, timeout_s=5)


def test_the_poll_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="poll_interval_s"):
        polling(OneJobStore(None), interval_s=0)
