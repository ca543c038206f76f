"""The JobStore contract, worker side: claims, leases, fencing, attempts, finishing."""

from __future__ import annotations

import asyncio

import pytest

from comfy_gateway.jobs import (
    IllegalTransition,
    JobError,
    JobNotFound,
    JobStatus,
    LeaseLost,
    StoreError,
)
from comfy_gateway.store import JobStore, ManualClock
from integration.store.job_builders import (
    LEASE_S,
    TENANT,
    make_new_job,
    make_output,
    start_running,
    submit_and_claim,
)


async def test_claims_go_by_priority_then_age(store: JobStore, clock: ManualClock) -> None:
    submitted = []
    for priority in (0, 5, 0, 5, -1):
        job, _ = await store.create_job(make_new_job(priority=priority))
        submitted.append(job)
        clock.advance(1)

    claimed = []
    while (claim := await store.claim_next_job("worker-1", LEASE_S)) is not None:
        claimed.append(claim.job.job_id)

    by_rule = sorted(submitted, key=lambda job: (-job.priority, job.created_at))
    assert claimed == [job.job_id for job in by_rule]


async def test_a_claim_leases_the_job_without_running_it(
    store: JobStore, clock: ManualClock
) -> None:
    job, _ = await store.create_job(make_new_job())

    claim = await store.claim_next_job("worker-1", LEASE_S)

    assert claim is not None
    assert claim.job.job_id == job.job_id
    assert claim.job.status is JobStatus.QUEUED
    assert claim.job.claimed_by == "worker-1"
    assert claim.lease_expires_at == claim.job.lease_expires_at
    assert (claim.lease_expires_at - clock.now()).total_seconds() == LEASE_S
    assert claim.fencing_token == claim.job.fencing_token > job.fencing_token
    assert await store.claim_next_job("worker-2", LEASE_S) is None


async def test_concurrent_claimers_never_share_a_job(store: JobStore) -> None:
    for _ in range(10):
        await store.create_job(make_new_job())

    claims = await asyncio.gather(
        *(store.claim_next_job(f"worker-{n}", LEASE_S) for n in range(25))
    )

    job_ids = [claim.job.job_id for claim in claims if claim is not None]
    assert len(job_ids) == 10
    assert len(set(job_ids)) == 10


async def test_an_expired_lease_makes_the_job_claimable_again(
    store: JobStore, clock: ManualClock
) -> None:
    first = await submit_and_claim(store)
    clock.advance(LEASE_S - 1)
    assert await store.claim_next_job("worker-2", LEASE_S) is None

    clock.advance(1)
    second = await store.claim_next_job("worker-2", LEASE_S)

    assert second is not None
    assert second.job.job_id == first.job.job_id
    assert second.fencing_token > first.fencing_token
    assert second.job.claimed_by == "worker-2"


async def test_heartbeat_keeps_the_lease(store: JobStore, clock: ManualClock) -> None:
    claim = await submit_and_claim(store)
    clock.advance(LEASE_S - 1)

    beat = await store.heartbeat(claim.job.job_id, claim.fencing_token, LEASE_S)
    clock.advance(LEASE_S - 1)

    assert beat.version == claim.job.version  # a lease extension is not a visible change
    assert await store.claim_next_job("worker-2", LEASE_S) is None


async def test_a_running_job_whose_worker_vanished_is_taken_over(
    store: JobStore, clock: ManualClock
) -> None:
    first = await submit_and_claim(store)
    await start_running(store, first)
    clock.advance(LEASE_S)

    second = await store.claim_next_job("worker-2", LEASE_S)
    assert second is not None
    still_running = await store.mark_running(second.job.job_id, second.fencing_token)

    assert second.job.status is JobStatus.RUNNING
    assert still_running.version == second.job.version  # re-attaching is not a change


async def test_a_stale_fencing_token_is_refused(store: JobStore, clock: ManualClock) -> None:
    stale = await submit_and_claim(store)
    await start_running(store, stale)
    clock.advance(LEASE_S)
    fresh = await store.claim_next_job("worker-2", LEASE_S)
    assert fresh is not None
    job_id = stale.job.job_id

    for stale_write in (
        store.update_progress(job_id, stale.fencing_token, 50.0, {"step": 1}),
        store.heartbeat(job_id, stale.fencing_token, LEASE_S),
        store.finish_job(job_id, stale.fencing_token, JobStatus.COMPLETED),
        store.release_job(job_id, stale.fencing_token, count_attempt=True),
        store.record_attempt_start(job_id, stale.fencing_token, "gpu1", job_id, "c"),
        store.record_prompt_id(job_id, stale.fencing_token, "other"),
        store.mark_running(job_id, stale.fencing_token),
    ):
        with pytest.raises(LeaseLost):
            await stale_write

    progressed = await store.update_progress(job_id, fresh.fencing_token, 10.0, {"step": 1})
    assert progressed.progress == 10.0


async def test_worker_writes_to_an_unknown_job_are_refused(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        await store.heartbeat("0193aaaa-0000-7000-8000-000000000000", 1, LEASE_S)


async def test_progress_only_grows_and_waits_for_completion_to_reach_100(
    store: JobStore,
) -> None:
    claim = await submit_and_claim(store)
    await start_running(store, claim)
    job_id, token = claim.job.job_id, claim.fencing_token

    forward = await store.update_progress(job_id, token, 40.0, {"nodes_done": 4})
    backward = await store.update_progress(job_id, token, 20.0, {"nodes_done": 5})
    too_far = await store.update_progress(job_id, token, 100.0, {"nodes_done": 9})
    done = await store.finish_job(job_id, token, JobStatus.COMPLETED)

    assert (forward.progress, backward.progress) == (40.0, 40.0)
    assert backward.progress_details == {"nodes_done": 5}
    assert 40.0 < too_far.progress < 100.0
    assert done.progress == 100.0
    assert forward.version < backward.version < too_far.version < done.version


async def test_attempts_are_rows_of_their_own(store: JobStore, clock: ManualClock) -> None:
    claim = await submit_and_claim(store)
    job_id, token = claim.job.job_id, claim.fencing_token

    attempt = await store.record_attempt_start(job_id, token, "gpu0", job_id, "cgw-x-gpu0")
    renamed = await store.record_prompt_id(job_id, token, "prompt-from-backend")
    clock.advance(2)
    await store.mark_running(job_id, token)
    clock.advance(3)
    await store.finish_job(
        job_id, token, JobStatus.FAILED, error=JobError(code="execution_error", message="boom")
    )

    [row] = await store.list_attempts(TENANT, job_id)
    assert attempt.number == row.number == 1
    assert (row.backend, row.client_id, row.prompt_id) == (
        "gpu0",
        "cgw-x-gpu0",
        "prompt-from-backend",
    )
    assert renamed.prompt_id == "prompt-from-backend"
    assert row.ended_at is not None
    assert (row.ended_at - row.started_at).total_seconds() == 5
    assert (row.outcome, row.detail) == ("failed", "execution_error")


async def test_finish_job_records_everything_at_once(store: JobStore, clock: ManualClock) -> None:
    claim = await submit_and_claim(store, webhook_url="https://hooks.example/end")
    await start_running(store, claim)
    job_id, token = claim.job.job_id, claim.fencing_token
    outputs = [make_output(1), make_output(0, kind="video", content_type="video/mp4")]
    clock.advance(7)

    done = await store.finish_job(
        job_id, token, JobStatus.COMPLETED, outputs=outputs, timings={"execution_ms": 7000}
    )

    assert done == await store.get_job(TENANT, job_id, with_workflow=False)  # holders have it
    assert done.status is JobStatus.COMPLETED
    assert done.completed_at == clock.now()
    assert done.outputs == tuple(sorted(outputs, key=lambda output: output.index))
    assert done.timings == {"execution_ms": 7000}
    assert (done.claimed_by, done.lease_expires_at) == (None, None)
    [attempt] = await store.list_attempts(TENANT, job_id)
    assert attempt.outcome == "completed"
    [entry] = await store.due_webhooks()
    assert (entry.job_id, entry.event, entry.tenant_id) == (job_id, "job.completed", TENANT)
    assert entry.payload["status"] == "completed"
    with pytest.raises(LeaseLost):
        await store.update_progress(job_id, token, 1.0, {})


async def test_finish_job_is_one_transaction(store: JobStore) -> None:
    claim = await submit_and_claim(store, webhook_url="https://hooks.example/end")
    await start_running(store, claim)
    job_id, token = claim.job.job_id, claim.fencing_token
    before = await store.get_job(TENANT, job_id)

    # Two outputs with one index: the second insert fails after the first succeeded.
    with pytest.raises(StoreError):
        await store.finish_job(
            job_id, token, JobStatus.COMPLETED, outputs=[make_output(0), make_output(0)]
        )

    assert await store.get_job(TENANT, job_id) == before
    [attempt] = await store.list_attempts(TENANT, job_id)
    assert attempt.ended_at is None
    assert await store.due_webhooks() == ()


async def test_a_job_without_webhook_writes_no_outbox_row(store: JobStore) -> None:
    claim = await submit_and_claim(store)
    await store.finish_job(
        claim.job.job_id,
        claim.fencing_token,
        JobStatus.FAILED,
        error=JobError(code="unsupported_backend", message="no backend runs this"),
    )

    failed = await store.get_job(TENANT, claim.job.job_id)
    assert failed.status is JobStatus.FAILED
    assert failed.error == JobError(code="unsupported_backend", message="no backend runs this")
    assert await store.due_webhooks() == ()


async def test_illegal_transitions_are_refused(store: JobStore) -> None:
    claim = await submit_and_claim(store)
    job_id, token = claim.job.job_id, claim.fencing_token

    with pytest.raises(IllegalTransition):
        await store.finish_job(job_id, token, JobStatus.COMPLETED)  # queued → completed
    with pytest.raises(ValueError, match="terminal"):
        await store.finish_job(job_id, token, JobStatus.RUNNING)

    assert (await store.get_job(TENANT, job_id)).status is JobStatus.QUEUED


async def test_release_requeues_and_counts_the_attempt_when_asked(
    store: JobStore, clock: ManualClock
) -> None:
    first = await submit_and_claim(store)
    await start_running(store, first)
    job_id = first.job.job_id

    retried = await store.release_job(job_id, first.fencing_token, count_attempt=True)
    second = await store.claim_next_job("worker-2", LEASE_S)
    assert second is not None
    await store.record_attempt_start(job_id, second.fencing_token, "gpu1", job_id, "c2")
    released = await store.release_job(job_id, second.fencing_token, count_attempt=False)

    assert (retried.status, retried.claimed_by, retried.attempts) == (JobStatus.QUEUED, None, 1)
    assert retried.prompt_id == job_id  # kept so the next holder can re-attach
    assert released.attempts == 1
    outcomes = [attempt.outcome for attempt in await store.list_attempts(TENANT, job_id)]
    assert outcomes == ["retried", "released"]
    with pytest.raises(LeaseLost):
        await store.heartbeat(job_id, second.fencing_token, LEASE_S)
    assert await store.claim_next_job("worker-3", LEASE_S) is not None


async def test_a_new_attempt_closes_the_one_a_lost_holder_left_open(
    store: JobStore, clock: ManualClock
) -> None:
    first = await submit_and_claim(store)
    job_id = first.job.job_id
    await store.record_attempt_start(job_id, first.fencing_token, "gpu0", job_id, "c1")
    clock.advance(LEASE_S)
    second = await store.claim_next_job("worker-2", LEASE_S)
    assert second is not None

    attempt = await store.record_attempt_start(job_id, second.fencing_token, "gpu1", job_id, "c2")

    attempts = await store.list_attempts(TENANT, job_id)
    assert attempt.number == 2
    assert [row.outcome for row in attempts] == ["abandoned", None]
    assert (await store.get_job(TENANT, job_id)).attempts == 2
