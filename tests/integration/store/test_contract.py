"""The JobStore contract, client side: every store implementation must pass it.

Worker-side behaviour (claims, leases, fencing, finishing) is in
``test_contract_leases.py``; both run over every factory in ``store_factories.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from comfy_gateway.jobs import (
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidCursor,
    JobNotFound,
    JobStatus,
    MediaRef,
    QueueFull,
    StoreError,
)
from comfy_gateway.store import JobStore, ManualClock, QueueLimits
from integration.store.job_builders import (
    OTHER_TENANT,
    TENANT,
    make_new_job,
    make_output,
    start_running,
    submit_and_claim,
)
from integration.store.store_factories import StoreFactory


async def test_created_job_reads_back_as_submitted(store: JobStore, clock: ManualClock) -> None:
    media = MediaRef(
        name="cat.png",
        filename=f"{'a' * 64}.png",
        content_type="image/png",
        size_bytes=12,
        sha256="a" * 64,
        storage_key="media/aaa",
    )
    new_job = make_new_job(
        priority=3, media=(media,), timeout_s=90.5, webhook_url="https://hooks.example/x"
    )

    created, was_created = await store.create_job(new_job)
    fetched = await store.get_job(TENANT, new_job.job_id)

    assert was_created
    assert fetched == created
    assert fetched.status is JobStatus.QUEUED
    assert fetched.created_at == clock.now()
    assert (fetched.workflow, fetched.resolved_params) == (
        new_job.workflow,
        new_job.resolved_params,
    )
    assert (fetched.priority, fetched.timeout_s, fetched.media) == (3, 90.5, (media,))
    assert fetched.webhook_url == "https://hooks.example/x"
    assert (fetched.version, fetched.attempts, fetched.progress) == (1, 0, 0.0)
    assert (fetched.claimed_by, fetched.fencing_token, fetched.outputs) == (None, 0, ())


async def test_a_client_read_leaves_the_graph_out_and_nothing_else(store: JobStore) -> None:
    job, _ = await store.create_job(make_new_job(priority=2))
    claim = await store.claim_next_job("w", 30)
    assert claim is not None
    await store.finish_job(job.job_id, claim.fencing_token, JobStatus.FAILED)

    full = await store.get_job(TENANT, job.job_id)
    read = await store.get_job(TENANT, job.job_id, with_workflow=False)

    assert full.workflow == job.workflow
    assert read.workflow is None
    assert read == dataclasses.replace(full, workflow=None)
    with pytest.raises(JobNotFound):
        await store.get_job(OTHER_TENANT, job.job_id, with_workflow=False)


async def test_other_tenant_and_unknown_ids_are_not_found(store: JobStore) -> None:
    job, _ = await store.create_job(make_new_job())

    for tenant, job_id in [(OTHER_TENANT, job.job_id), (TENANT, "not-a-uuid"), (TENANT, "")]:
        with pytest.raises(JobNotFound):
            await store.get_job(tenant, job_id)
    with pytest.raises(JobNotFound):
        await store.request_cancel(OTHER_TENANT, job.job_id)
    with pytest.raises(JobNotFound):
        await store.list_attempts(OTHER_TENANT, job.job_id)
    assert (await store.list_jobs(OTHER_TENANT)).jobs == ()


async def _create_spaced(store: JobStore, clock: ManualClock, count: int) -> list[str]:
    job_ids = []
    for _ in range(count):
        job, _ = await store.create_job(make_new_job())
        job_ids.append(job.job_id)
        clock.advance(1)
    return job_ids


async def test_list_pages_newest_first_without_workflow(
    store: JobStore, clock: ManualClock
) -> None:
    job_ids = await _create_spaced(store, clock, 7)

    seen: list[str] = []
    cursor = None
    for expected_size in (3, 3, 1):
        page = await store.list_jobs(TENANT, limit=3, cursor=cursor)
        assert len(page.jobs) == expected_size
        assert all(job.workflow is None for job in page.jobs)
        seen += [job.job_id for job in page.jobs]
        cursor = page.next_cursor
    assert cursor is None
    assert seen == job_ids[::-1]


async def test_list_orders_jobs_created_in_the_same_instant(store: JobStore) -> None:
    # The clock does not move: the job id breaks the tie, and paging stays exact.
    job_ids = [(await store.create_job(make_new_job()))[0].job_id for _ in range(5)]

    first = await store.list_jobs(TENANT, limit=2)
    rest = await store.list_jobs(TENANT, limit=10, cursor=first.next_cursor)

    assert [job.job_id for job in first.jobs + rest.jobs] == sorted(job_ids, reverse=True)


async def test_list_cursor_is_stable_under_inserts(store: JobStore, clock: ManualClock) -> None:
    job_ids = await _create_spaced(store, clock, 4)
    first = await store.list_jobs(TENANT, limit=2)

    await _create_spaced(store, clock, 3)
    second = await store.list_jobs(TENANT, limit=2, cursor=first.next_cursor)

    assert [job.job_id for job in second.jobs] == job_ids[1::-1]
    assert second.next_cursor is None


async def test_list_filters_by_status(store: JobStore, clock: ManualClock) -> None:
    queued_ids = await _create_spaced(store, clock, 2)
    cancelled = await store.request_cancel(TENANT, queued_ids.pop(0))

    only_cancelled = await store.list_jobs(TENANT, statuses=[JobStatus.CANCELLED])
    both = await store.list_jobs(TENANT, statuses=[JobStatus.QUEUED, JobStatus.CANCELLED])
    running = await store.list_jobs(TENANT, statuses=[JobStatus.RUNNING])

    assert [job.job_id for job in only_cancelled.jobs] == [cancelled.job_id]
    assert {job.job_id for job in both.jobs} == {cancelled.job_id, *queued_ids}
    assert running.jobs == ()


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWpzb24", "WyJub3QgYSBkYXRlIiwgIngiXQ"])
async def test_list_refuses_a_cursor_it_did_not_issue(store: JobStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        await store.list_jobs(TENANT, cursor=cursor)


async def test_idempotent_replay_returns_the_first_job(store: JobStore) -> None:
    first, first_created = await store.create_job(make_new_job(), "key-1", "hash-1")
    again, again_created = await store.create_job(make_new_job(), "key-1", "hash-1")

    assert (first_created, again_created) == (True, False)
    assert again == first
    assert len((await store.list_jobs(TENANT)).jobs) == 1


async def test_idempotency_key_with_another_body_is_refused(store: JobStore) -> None:
    first, _ = await store.create_job(make_new_job(), "key-1", "hash-1")

    with pytest.raises(IdempotencyKeyReused) as caught:
        await store.create_job(make_new_job(), "key-1", "hash-2")

    assert caught.value.job_id == first.job_id


async def test_idempotency_keys_are_per_tenant(store: JobStore) -> None:
    mine, _ = await store.create_job(make_new_job(), "key-1", "hash-1")
    theirs, created = await store.create_job(make_new_job(OTHER_TENANT), "key-1", "hash-1")

    assert created
    assert theirs.job_id != mine.job_id


async def test_idempotency_key_expires_after_a_day(store: JobStore, clock: ManualClock) -> None:
    first, _ = await store.create_job(make_new_job(), "key-1", "hash-1")
    clock.advance(24 * 3600 + 1)

    later, created = await store.create_job(make_new_job(), "key-1", "hash-2")

    assert created
    assert later.job_id != first.job_id


async def test_concurrent_duplicate_submits_make_one_job(store: JobStore) -> None:
    results = await asyncio.gather(
        *(store.create_job(make_new_job(), "same-key", "same-hash") for _ in range(20))
    )

    assert sum(created for _, created in results) == 1
    assert len({job.job_id for job, _ in results}) == 1
    assert len((await store.list_jobs(TENANT)).jobs) == 1


async def test_count_active_counts_queued_and_running(store: JobStore) -> None:
    running = await submit_and_claim(store)
    await start_running(store, running)
    await store.create_job(make_new_job())
    await store.create_job(make_new_job(OTHER_TENANT))
    cancelled, _ = await store.create_job(make_new_job())
    await store.request_cancel(TENANT, cancelled.job_id)

    everyone = await store.count_active()
    mine = await store.count_active(TENANT)

    assert (everyone.queued, everyone.running) == (2, 1)
    assert (mine.queued, mine.running) == (1, 1)


async def test_queue_limits_refuse_new_jobs(store: JobStore) -> None:
    limits = QueueLimits(max_queued=3, max_queued_per_tenant=2)
    for _ in range(2):
        await store.create_job(make_new_job(), limits=limits)

    with pytest.raises(QueueFull) as per_tenant:
        await store.create_job(make_new_job(), limits=limits)
    await store.create_job(make_new_job(OTHER_TENANT), limits=limits)
    with pytest.raises(QueueFull) as global_limit:
        await store.create_job(make_new_job("tenant-c"), limits=limits)

    assert per_tenant.value.tenant_id == TENANT
    assert global_limit.value.tenant_id is None
    assert (await store.count_active()).queued == 3


async def test_cancel_of_an_unclaimed_queued_job_is_immediate(
    store: JobStore, clock: ManualClock
) -> None:
    job, _ = await store.create_job(make_new_job(webhook_url="https://hooks.example/done"))
    clock.advance(5)

    cancelled = await store.request_cancel(TENANT, job.job_id)

    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.completed_at == clock.now()
    assert cancelled.version == job.version + 1
    assert await store.claim_next_job("worker-1", 30) is None
    [entry] = await store.due_webhooks()
    assert (entry.job_id, entry.event, entry.url) == (
        job.job_id,
        "job.cancelled",
        "https://hooks.example/done",
    )


async def test_cancel_of_a_claimed_job_asks_the_worker(store: JobStore) -> None:
    claim = await submit_and_claim(store)

    requested = await store.request_cancel(TENANT, claim.job.job_id)
    again = await store.request_cancel(TENANT, claim.job.job_id)
    seen_by_worker = await store.heartbeat(claim.job.job_id, claim.fencing_token, 30)

    assert requested.status is JobStatus.QUEUED
    assert requested.cancel_requested
    assert again.version == requested.version
    assert seen_by_worker.cancel_requested


async def test_cancel_of_a_running_job_asks_the_worker(store: JobStore) -> None:
    claim = await submit_and_claim(store)
    await start_running(store, claim)

    requested = await store.request_cancel(TENANT, claim.job.job_id)
    finished = await store.finish_job(claim.job.job_id, claim.fencing_token, JobStatus.CANCELLED)

    assert (requested.status, requested.cancel_requested) == (JobStatus.RUNNING, True)
    assert finished.status is JobStatus.CANCELLED


@pytest.mark.parametrize("terminal", [JobStatus.COMPLETED, JobStatus.FAILED])
async def test_cancel_of_a_finished_job_is_an_illegal_transition(
    store: JobStore, terminal: JobStatus
) -> None:
    claim = await submit_and_claim(store)
    await start_running(store, claim)
    await store.finish_job(claim.job.job_id, claim.fencing_token, terminal)

    with pytest.raises(IllegalTransition) as caught:
        await store.request_cancel(TENANT, claim.job.job_id)

    assert (caught.value.old, caught.value.new) == (terminal, JobStatus.CANCELLED)
    assert (await store.get_job(TENANT, claim.job.job_id)).status is terminal


async def test_duplicate_submits_through_two_store_instances_make_one_job(
    store: JobStore, store_factory: StoreFactory, store_location: str, clock: ManualClock
) -> None:
    # Two instances on one database stand for two API processes.
    second = await store_factory.open(store_location, clock)
    try:
        results = await asyncio.gather(
            *(
                instance.create_job(make_new_job(), "same-key", "same-hash")
                for _ in range(10)
                for instance in (store, second)
            )
        )
    finally:
        await second.close()

    assert sum(created for _, created in results) == 1
    assert len({job.job_id for job, _ in results}) == 1


async def test_a_closed_store_refuses_calls_instead_of_reconnecting(store: JobStore) -> None:
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get_job("acme", "0193a1b2-0000-7000-8000-000000000000")


async def test_an_attempt_counts_only_once_it_started_executing(store: JobStore) -> None:
    claim = await submit_and_claim(store)
    job_id, token = claim.job.job_id, claim.fencing_token
    await store.record_attempt_start(job_id, token, "gpu0", job_id, "cgw-test-gpu0")
    cancelled = await store.finish_job(job_id, token, JobStatus.CANCELLED)
    assert cancelled.attempts == 0

    started = await submit_and_claim(store)
    await start_running(store, started)
    finished = await store.finish_job(
        started.job.job_id, started.fencing_token, JobStatus.COMPLETED
    )
    assert finished.attempts == 1


async def test_an_end_written_before_running_records_the_start(
    store: JobStore, clock: ManualClock
) -> None:
    claim = await submit_and_claim(store)
    job_id, token = claim.job.job_id, claim.fencing_token
    await store.record_attempt_start(job_id, token, "gpu0", job_id, "cgw-test-gpu0")
    started = clock.now()
    clock.advance(0.05)

    done = await store.finish_job(job_id, token, JobStatus.COMPLETED, started_at=started)

    assert (done.status, done.started_at, done.completed_at) == (
        JobStatus.COMPLETED,
        started,
        clock.now(),
    )
    assert done.attempts == 1  # it started executing: the attempt counts
    [attempt] = await store.list_attempts(TENANT, job_id)
    assert attempt.outcome == "completed"


async def test_a_start_already_stored_is_kept_at_the_end(
    store: JobStore, clock: ManualClock
) -> None:
    claim = await submit_and_claim(store)
    job_id, token = claim.job.job_id, claim.fencing_token
    await start_running(store, claim)
    first_start = (await store.get_job(TENANT, job_id)).started_at
    clock.advance(1)

    done = await store.finish_job(job_id, token, JobStatus.FAILED, started_at=clock.now())

    assert (done.status, done.started_at) == (JobStatus.FAILED, first_start)


async def test_one_output_is_read_alone_and_only_for_its_tenant(store: JobStore) -> None:
    claim = await submit_and_claim(store)
    job_id = claim.job.job_id
    await start_running(store, claim)
    outputs = [make_output(0), make_output(1, filename="b.mp4", content_type="video/mp4")]
    await store.finish_job(job_id, claim.fencing_token, JobStatus.COMPLETED, outputs=outputs)

    assert await store.get_output(TENANT, job_id, 1) == outputs[1]
    assert await store.get_output(TENANT, job_id, 0) == outputs[0]
    assert await store.get_output(TENANT, job_id, 2) is None
    with pytest.raises(JobNotFound):
        await store.get_output(OTHER_TENANT, job_id, 0)
    with pytest.raises(JobNotFound):
        await store.get_output(TENANT, "not-a-job", 0)
