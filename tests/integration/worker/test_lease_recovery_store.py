"""The store's lease recovery (SQLite, manual clock): the reaper, resumed attempts,
retries that record their cause, attempts that never started."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.jobs import JobStatus, LeaseLost, new_job_id
from comfy_gateway.jobs.model import Claim, NewJob
from comfy_gateway.store import JobStore, ManualClock, SqlJobStore, open_sqlite_store
from comfy_gateway.store.lease_recovery import LeaseStore, require_lease_store

TENANT = "tenant-a"
LEASE_S = 30.0
BACKEND = "http://gpu0:8188"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path, clock: ManualClock) -> AsyncIterator[SqlJobStore]:
    opened = await open_sqlite_store(tmp_path / "jobs.sqlite3", clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


async def claimed(store: SqlJobStore, worker_id: str = "worker-1") -> Claim:
    job_id = new_job_id()
    await store.create_job(NewJob(job_id=job_id, tenant_id=TENANT, workflow={}))
    claim = await store.claim_next_job(worker_id, LEASE_S)
    assert claim is not None
    assert claim.job.job_id == job_id
    return claim


async def started(store: SqlJobStore, claim: Claim, client_id: str = "cgw-1") -> None:
    job_id, token = claim.job.job_id, claim.fencing_token
    await store.record_attempt_start(job_id, token, BACKEND, job_id, client_id)
    await store.mark_running(job_id, token)


async def test_the_reaper_frees_expired_leases_and_fences_their_holder_out(
    store: SqlJobStore, clock: ManualClock
) -> None:
    old = await claimed(store)
    await started(store, old)
    clock.advance(LEASE_S - 1)
    fresh = await claimed(store, "worker-2")
    assert await store.reap_expired_leases() == ()

    clock.advance(2)
    assert await store.reap_expired_leases() == (old.job.job_id,)

    job = await store.get_job(TENANT, old.job.job_id)
    # Its prompt may still run in ComfyUI: the next claim re-attaches, so all else stays.
    assert (job.claimed_by, job.lease_expires_at) == (None, None)
    assert (job.status, job.prompt_id, job.attempts) == (JobStatus.RUNNING, job.job_id, 1)
    with pytest.raises(LeaseLost):
        await store.heartbeat(old.job.job_id, old.fencing_token, LEASE_S)
    assert (await store.get_job(TENANT, fresh.job.job_id)).claimed_by == "worker-2"
    assert await store.reap_expired_leases() == ()


async def test_the_reaper_leaves_finished_jobs_alone(
    store: SqlJobStore, clock: ManualClock
) -> None:
    claim = await claimed(store)
    await started(store, claim)
    await store.finish_job(claim.job.job_id, claim.fencing_token, JobStatus.COMPLETED)
    clock.advance(LEASE_S * 10)
    assert await store.reap_expired_leases() == ()


async def test_reaping_is_batched(store: SqlJobStore, clock: ManualClock) -> None:
    claims = [await claimed(store) for _ in range(3)]
    clock.advance(LEASE_S + 1)
    first = await store.reap_expired_leases(limit=2)
    second = await store.reap_expired_leases(limit=2)
    assert len(first) == 2
    assert sorted(first + second) == sorted(claim.job.job_id for claim in claims)


async def test_re_attaching_continues_the_open_attempt(
    store: SqlJobStore, clock: ManualClock
) -> None:
    old = await claimed(store)
    await started(store, old, client_id="cgw-dead")
    clock.advance(LEASE_S + 1)
    new = await store.claim_next_job("worker-2", LEASE_S)
    assert new is not None
    job_id = new.job.job_id

    attempt = await store.resume_attempt(job_id, new.fencing_token, BACKEND, job_id, "cgw-new")

    assert (attempt.number, attempt.client_id, attempt.ended_at) == (1, "cgw-new", None)
    assert (await store.get_job(TENANT, job_id)).attempts == 1
    assert [a.client_id for a in await store.list_attempts(TENANT, job_id)] == ["cgw-new"]
    with pytest.raises(LeaseLost):
        await store.resume_attempt(job_id, old.fencing_token, BACKEND, job_id, "cgw-dead")


async def test_re_attaching_after_a_release_starts_a_new_attempt(store: SqlJobStore) -> None:
    first = await claimed(store)
    job_id = first.job.job_id
    await started(store, first)
    await store.release_job(job_id, first.fencing_token, count_attempt=False)  # shutdown
    again = await store.claim_next_job("worker-2", LEASE_S)
    assert again is not None

    attempt = await store.resume_attempt(job_id, again.fencing_token, BACKEND, job_id, "cgw-2")

    attempts = await store.list_attempts(TENANT, job_id)
    assert attempt.number == 2
    assert [(a.number, a.outcome) for a in attempts] == [(1, "released"), (2, None)]
    assert (await store.get_job(TENANT, job_id)).attempts == 1


async def test_a_retry_counts_the_attempt_and_records_the_crash(store: SqlJobStore) -> None:
    claim = await claimed(store)
    job_id = claim.job.job_id
    await started(store, claim)

    job = await store.release_for_retry(job_id, claim.fencing_token, "ComfyUI restarted")

    assert (job.status, job.claimed_by, job.attempts) == (JobStatus.QUEUED, None, 1)
    attempts = await store.list_attempts(TENANT, job_id)
    assert [(a.outcome, a.detail) for a in attempts] == [("retried", "ComfyUI restarted")]
    with pytest.raises(LeaseLost):
        await store.release_for_retry(job_id, claim.fencing_token, "again")


async def test_an_attempt_that_never_started_is_dropped_uncounted(
    store: SqlJobStore, clock: ManualClock
) -> None:
    old = await claimed(store)
    job_id = old.job.job_id
    await store.record_attempt_start(job_id, old.fencing_token, BACKEND, job_id, "cgw-dead")
    clock.advance(LEASE_S + 1)
    new = await store.claim_next_job("worker-2", LEASE_S)
    assert new is not None

    assert await store.drop_unstarted_attempt(job_id, new.fencing_token) is True
    assert await store.drop_unstarted_attempt(job_id, new.fencing_token) is False

    assert (await store.get_job(TENANT, job_id)).attempts == 0
    assert [a.outcome for a in await store.list_attempts(TENANT, job_id)] == ["abandoned"]


async def test_a_running_jobs_attempt_is_never_dropped(store: SqlJobStore) -> None:
    claim = await claimed(store)
    await started(store, claim)
    assert await store.drop_unstarted_attempt(claim.job.job_id, claim.fencing_token) is False
    assert (await store.get_job(TENANT, claim.job.job_id)).attempts == 1


def test_the_sql_store_is_a_lease_store(store: SqlJobStore) -> None:
    assert isinstance(store, LeaseStore)
    assert require_lease_store(store) is store


def test_a_store_without_lease_recovery_is_refused() -> None:
    class Bare:
        pass

    bare: JobStore = Bare()  # type: ignore[assignment]
    with pytest.raises(TypeError, match="cannot recover leases"):
        require_lease_store(bare)
