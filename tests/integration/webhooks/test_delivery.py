"""Real deliveries: a loopback receiver, a SQLite outbox, the sender's retries."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from standardwebhooks import Webhook

from comfy_gateway.jobs.model import WebhookDelivery, WebhookStatus
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.store import OutboxEntry, SqlJobStore, open_sqlite_store
from comfy_gateway.store.outbox_interface import WebhookOutbox
from comfy_gateway.webhooks import SenderOptions, TenantSecrets, WebhookPoster, WebhookSender
from integration.webhooks.outbox_builders import TENANT, finished_job_with_webhook
from integration.webhooks.receiver import running_receiver

SECRET = "whsec_" + base64.b64encode(b"integration-test webhook secret!").decode()
# Retries come quickly here; the real schedule is checked in the unit tests.
FAST = SenderOptions(max_attempts=4, schedule_s=(0.05,), jitter=0.0, poll_interval_s=0.02)
WAIT_S = 10.0


def make_sender(
    outbox: WebhookOutbox,
    *,
    allow: tuple[str, ...] = ("127.0.0.1/32",),
    options: SenderOptions = FAST,
) -> WebhookSender:
    poster = WebhookPoster(policy=AddressPolicy.from_entries(allow), timeout_s=5.0)
    return WebhookSender(outbox, poster, TenantSecrets.parse({TENANT: SECRET}), options)


class CountingOutbox:
    """Counts the rows a store hands to its sender."""

    def __init__(self, store: SqlJobStore) -> None:
        self.store = store
        self.claimed: list[int] = []

    async def claim_due_webhooks(self, limit: int, lease_s: float) -> tuple[OutboxEntry, ...]:
        entries = await self.store.claim_due_webhooks(limit, lease_s)
        self.claimed.extend(entry.entry_id for entry in entries)
        return entries

    async def record_webhook_delivered(self, entry_id: int, status_code: int) -> bool:
        return await self.store.record_webhook_delivered(entry_id, status_code)

    async def record_webhook_failure(
        self,
        entry_id: int,
        attempt: int,
        *,
        error: str,
        status_code: int | None = None,
        retry_in_s: float | None = None,
    ) -> bool:
        return await self.store.record_webhook_failure(
            entry_id, attempt, error=error, status_code=status_code, retry_in_s=retry_in_s
        )


@asynccontextmanager
async def sending(*senders: WebhookSender) -> AsyncIterator[None]:
    """The senders' loops run for the block and have finished when it ends."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(sender.run(stop)) for sender in senders]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT_S)


async def wait_for_delivery_state(
    store: SqlJobStore, job_id: str, status: WebhookStatus
) -> WebhookDelivery:
    async with asyncio.timeout(WAIT_S):
        while True:
            delivery = (await store.get_job(TENANT, job_id)).webhook_delivery
            if delivery is not None and delivery.status is status:
                return delivery
            await asyncio.sleep(0.01)


async def test_a_refused_delivery_arrives_later_and_verifies(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        async with running_receiver(statuses=[503, 500]) as receiver:
            job_id = await finished_job_with_webhook(store, receiver.url)
            async with sending(make_sender(store)):
                posts = [await receiver.next_post(WAIT_S) for _ in range(3)]
                delivery = await wait_for_delivery_state(store, job_id, WebhookStatus.DELIVERED)
    finally:
        await store.close()

    assert [post.answered for post in posts] == [503, 500, 200]
    assert len({post.headers["webhook-id"] for post in posts}) == 1
    assert len({post.body for post in posts}) == 1
    verified = Webhook(SECRET).verify(posts[-1].body, posts[-1].headers)
    assert verified["event"] == "job.completed"
    assert verified["job_id"] == job_id
    assert delivery == WebhookDelivery(status=WebhookStatus.DELIVERED, attempts=3)


async def test_a_receiver_that_never_accepts_ends_failed(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        async with running_receiver(statuses=[500] * 10) as receiver:
            job_id = await finished_job_with_webhook(store, receiver.url, JobStatus.FAILED)
            async with sending(make_sender(store)):
                delivery = await wait_for_delivery_state(store, job_id, WebhookStatus.FAILED)
            attempts_seen = len(receiver.history)
    finally:
        await store.close()

    assert delivery == WebhookDelivery(
        status=WebhookStatus.FAILED,
        attempts=FAST.max_attempts,
        last_error="the receiver answered HTTP 500",
    )
    assert attempts_seen == FAST.max_attempts


async def test_a_private_address_without_allow_list_is_refused_and_failed(
    tmp_path: Path,
) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        async with running_receiver() as receiver:
            job_id = await finished_job_with_webhook(store, receiver.url)
            async with sending(make_sender(store, allow=())):
                delivery = await wait_for_delivery_state(store, job_id, WebhookStatus.FAILED)
            assert receiver.history == []
    finally:
        await store.close()

    assert delivery.attempts == 1
    assert delivery.last_error is not None
    assert "refusing to connect" in delivery.last_error


async def test_two_senders_on_one_sqlite_file_deliver_each_row_once(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    first, second = await open_sqlite_store(path), await open_sqlite_store(path)
    try:
        async with running_receiver() as receiver:
            job_ids = [await finished_job_with_webhook(first, receiver.url) for _ in range(30)]
            small_batches = replace(FAST, batch_size=3)
            outboxes = [CountingOutbox(first), CountingOutbox(second)]
            senders = [make_sender(outbox, options=small_batches) for outbox in outboxes]
            async with sending(*senders):
                posts = [await receiver.next_post(WAIT_S) for _ in job_ids]
            # Both loops have ended: every post either sender made is in the history.
            history = list(receiver.history)
        delivered = [(await first.get_job(TENANT, job_id)).webhook_delivery for job_id in job_ids]
    finally:
        await first.close()
        await second.close()

    assert sorted(json.loads(post.body)["job_id"] for post in posts) == sorted(job_ids)
    assert len(history) == len(job_ids)
    claimed = outboxes[0].claimed + outboxes[1].claimed
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == len(job_ids)
    assert len({post.headers["webhook-id"] for post in history}) == len(job_ids)
    assert delivered == [
        WebhookDelivery(status=WebhookStatus.DELIVERED, attempts=1) for _ in job_ids
    ]
