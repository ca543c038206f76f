"""A job stored already claimed (jobs/hand_off.py): only while nothing else waits to be
claimed, with the same lease, fencing and attempt a claim plus an attempt start give."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comfy_gateway.jobs import JobStatus
from comfy_gateway.jobs.errors import LeaseLost, QueueFull
from comfy_gateway.jobs.hand_off import DirectClaim
from comfy_gateway.store import JobStore, ManualClock, QueueLimits
from integration.store.job_builders import LEASE_S, TENANT, make_new_job

CLAIM = DirectClaim(worker_id="w-local", lease_s=LEASE_S, backend="http://gpu0", client_id="c0")


@pytest.mark.parametrize(
    "limits", [None, QueueLimits(max_queued=100, max_queued_per_tenant=10)], ids=["", "limits"]
)
async def test_an_empty_queue_stores_the_job_claimed_with_its_attempt_open(
    store: JobStore, clock: ManualClock, limits: QueueLimits | None
) -> None:
    new_job = make_new_job()
    job, created = await store.create_job(new_job, limits=limits, claim_for=CLAIM)

    assert created
    assert job.status is JobStatus.QUEUED
    assert (job.claimed_by, job.fencing_token) == ("w-local", 1)
    assert job.lease_expires_at == clock.now() + timedelta(seconds=LEASE_S)
    assert (job.prompt_id, job.backend, job.attempts) == (job.job_id, "http://gpu0", 1)
    [attempt] = await store.list_attempts(TENANT, job.job_id)
    assert (attempt.number, attempt.backend, attempt.prompt_id, attempt.client_id) == (
        1,
        "http://gpu0",
        job.job_id,
        "c0",
    )
    assert (attempt.started_at, attempt.ended_at) == (clock.now(), None)
    assert await store.claim_next_job("other-worker", LEASE_S) is None  # already held


async def test_the_holder_runs_it_with_the_token_it_was_given(store: JobStore) -> None:
    job, _ = await store.create_job(make_new_job(), claim_for=CLAIM)

    await store.mark_running(job.job_id, 1)
    done = await store.finish_job(job.job_id, 1, JobStatus.COMPLETED)

    assert (done.status, done.attempts, done.claimed_by) == (JobStatus.COMPLETED, 1, None)
    [attempt] = await store.list_attempts(TENANT, job.job_id)
    assert attempt.outcome == "completed"
    with pytest.raises(LeaseLost):
        await store.mark_running(job.job_id, 0)


@pytest.mark.parametrize(
    "limits", [None, QueueLimits(max_queued=100, max_queued_per_tenant=10)], ids=["", "limits"]
)
async def test_a_waiting_job_keeps_its_turn(store: JobStore, limits: QueueLimits | None) -> None:
    earlier, _ = await store.create_job(make_new_job())
    later, created = await store.create_job(make_new_job(), limits=limits, claim_for=CLAIM)

    assert created
    assert (later.claimed_by, later.fencing_token, later.attempts) == (None, 0, 0)
    assert await store.list_attempts(TENANT, later.job_id) == ()
    claim = await store.claim_next_job("w-local", LEASE_S)
    assert claim is not None
    assert claim.job.job_id == earlier.job_id


async def test_a_job_whose_holder_is_gone_counts_as_waiting(
    store: JobStore, clock: ManualClock
) -> None:
    await store.create_job(make_new_job(), claim_for=CLAIM)
    clock.advance(LEASE_S + 1)  # the first holder's lease ran out: that job is claimable

    later, _ = await store.create_job(make_new_job(), claim_for=CLAIM)

    assert later.claimed_by is None


async def test_a_replay_is_never_handed_over(store: JobStore) -> None:
    first, _ = await store.create_job(make_new_job(), idempotency_key="k", request_hash="h")
    claim = await store.claim_next_job("w", LEASE_S)
    assert claim is not None
    await store.finish_job(first.job_id, claim.fencing_token, JobStatus.CANCELLED)

    replayed, created = await store.create_job(
        make_new_job(), idempotency_key="k", request_hash="h", claim_for=CLAIM
    )

    assert (replayed.job_id, created, replayed.claimed_by) == (first.job_id, False, None)


async def test_a_full_queue_refuses_before_anything_is_claimed(store: JobStore) -> None:
    limits = QueueLimits(max_queued=1, max_queued_per_tenant=None)
    held, _ = await store.create_job(make_new_job(), limits=limits, claim_for=CLAIM)
    assert held.claimed_by == "w-local"

    with pytest.raises(QueueFull):
        await store.create_job(make_new_job(), limits=limits, claim_for=CLAIM)

    assert len((await store.list_jobs(TENANT)).jobs) == 1


async def test_whether_a_job_waits_to_be_claimed(store: JobStore, clock: ManualClock) -> None:
    assert not await store.claimable_job_waiting()
    await store.create_job(make_new_job())
    assert await store.claimable_job_waiting()
    claim = await store.claim_next_job("w", LEASE_S)
    assert claim is not None
    assert not await store.claimable_job_waiting()  # held
    clock.advance(LEASE_S + 1)
    assert await store.claimable_job_waiting()  # its holder's lease ran out
    taken = await store.claim_next_job("w2", LEASE_S)
    assert taken is not None
    await store.finish_job(taken.job.job_id, taken.fencing_token, JobStatus.CANCELLED)
    assert not await store.claimable_job_waiting()  # ended
