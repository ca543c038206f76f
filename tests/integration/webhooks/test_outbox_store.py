"""The SQLite outbox: claims that hold rows, retries that wait, outcomes on the job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.api.job_body import job_body
from comfy_gateway.jobs.model import WebhookDelivery, WebhookStatus
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import ManualClock, SqlJobStore, open_sqlite_store
from integration.store.job_builders import make_new_job
from integration.webhooks.outbox_builders import TENANT, finished_job_with_webhook

URL = "https://hooks.example/in"
LEASE_S = 40.0


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


async def test_a_finished_job_with_a_webhook_is_pending_and_claimable(store: SqlJobStore) -> None:
    job_id = await finished_job_with_webhook(store, URL)
    job = await store.get_job(TENANT, job_id)
    assert job.webhook_delivery == WebhookDelivery(status=WebhookStatus.PENDING, attempts=0)
    assert job_body(job)["webhook"] == {
        "url": URL,
        "status": "pending",
        "attempts": 0,
        "last_error": None,
    }
    [claimed] = await store.claim_due_webhooks(10, LEASE_S)
    assert (claimed.job_id, claimed.event, claimed.attempts, claimed.url) == (
        job_id,
        "job.completed",
        1,
        URL,
    )


async def test_a_job_without_webhook_has_no_webhook_state(store: SqlJobStore) -> None:
    job, _ = await store.create_job(make_new_job(TENANT))
    assert job.webhook_delivery is None
    assert job_body(job)["webhook"] is None
    assert await store.claim_due_webhooks(10, LEASE_S) == ()


async def test_a_claimed_row_is_held_until_its_lease_runs_out(
    store: SqlJobStore, clock: ManualClock
) -> None:
    await finished_job_with_webhook(store, URL)
    [first] = await store.claim_due_webhooks(10, LEASE_S)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()
    assert await store.due_webhooks() == ()
    clock.advance(LEASE_S - 1)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()
    clock.advance(1)
    [again] = await store.claim_due_webhooks(10, LEASE_S)
    assert (again.entry_id, again.attempts) == (first.entry_id, 2)


async def test_a_failure_waits_for_its_retry_time_and_shows_on_the_job(
    store: SqlJobStore, clock: ManualClock
) -> None:
    job_id = await finished_job_with_webhook(store, URL, JobStatus.FAILED)
    [entry] = await store.claim_due_webhooks(10, LEASE_S)
    recorded = await store.record_webhook_failure(
        entry.entry_id, 1, error="the receiver answered HTTP 503", status_code=503, retry_in_s=30
    )
    assert recorded
    job = await store.get_job(TENANT, job_id)
    assert job_body(job)["webhook"] == {
        "url": URL,
        "status": "pending",
        "attempts": 1,
        "last_error": "the receiver answered HTTP 503",
    }
    clock.advance(29)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()
    clock.advance(1)
    [retry] = await store.claim_due_webhooks(10, LEASE_S)
    assert (retry.entry_id, retry.attempts, retry.event) == (entry.entry_id, 2, "job.failed")


async def test_a_stale_attempt_cannot_overwrite_a_newer_claim(
    store: SqlJobStore, clock: ManualClock
) -> None:
    await finished_job_with_webhook(store, URL)
    [entry] = await store.claim_due_webhooks(10, LEASE_S)
    clock.advance(LEASE_S)
    await store.claim_due_webhooks(10, LEASE_S)  # attempt 2 by another sender
    assert not await store.record_webhook_failure(entry.entry_id, 1, error="late", retry_in_s=0)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()  # still held by attempt 2


async def test_giving_up_marks_the_row_and_the_job_failed(
    store: SqlJobStore, clock: ManualClock
) -> None:
    job_id = await finished_job_with_webhook(store, URL, JobStatus.CANCELLED)
    [entry] = await store.claim_due_webhooks(10, LEASE_S)
    assert entry.event == "job.cancelled"
    assert await store.record_webhook_failure(entry.entry_id, 1, error="refused", retry_in_s=None)
    clock.advance(24 * 3600)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()
    assert await store.due_webhooks() == ()
    delivery = (await store.get_job(TENANT, job_id)).webhook_delivery
    assert delivery == WebhookDelivery(
        status=WebhookStatus.FAILED, attempts=1, last_error="refused"
    )


async def test_delivery_is_recorded_once_and_ends_the_retries(
    store: SqlJobStore, clock: ManualClock
) -> None:
    job_id = await finished_job_with_webhook(store, URL)
    [entry] = await store.claim_due_webhooks(10, LEASE_S)
    await store.record_webhook_failure(entry.entry_id, 1, error="HTTP 500", retry_in_s=0)
    [entry] = await store.claim_due_webhooks(10, LEASE_S)
    version = (await store.get_job(TENANT, job_id)).version
    assert await store.record_webhook_delivered(entry.entry_id, 204)
    assert not await store.record_webhook_delivered(entry.entry_id, 204)
    clock.advance(3600)
    assert await store.claim_due_webhooks(10, LEASE_S) == ()
    job = await store.get_job(TENANT, job_id)
    assert job.webhook_delivery == WebhookDelivery(status=WebhookStatus.DELIVERED, attempts=2)
    assert job.version == version  # not a change the job's event stream reports


async def test_claims_come_oldest_first_and_respect_the_limit(store: SqlJobStore) -> None:
    jobs = [await finished_job_with_webhook(store, f"{URL}/{n}") for n in range(3)]
    first = await store.claim_due_webhooks(2, LEASE_S)
    rest = await store.claim_due_webhooks(2, LEASE_S)
    assert [entry.job_id for entry in first + rest] == jobs
