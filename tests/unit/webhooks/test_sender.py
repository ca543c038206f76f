"""The sender's decisions: what it records after each attempt (in-memory outbox)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.store.clock import ManualClock
from comfy_gateway.store.interface import OutboxEntry
from comfy_gateway.webhooks.posting import WebhookPoster
from comfy_gateway.webhooks.sender import STOPPED_ERROR, SenderOptions, WebhookSender
from comfy_gateway.webhooks.signing import TenantSecrets

SECRET = "whsec_dW5pdC10ZXN0LXNlY3JldC1mb3ItdGhlLXNlbmRlcg=="
RECEIVER = "http://receiver.test/hooks"
NOW = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


@dataclass
class Failure:
    entry_id: int
    attempt: int
    error: str
    status_code: int | None
    retry_in_s: float | None


@dataclass
class FakeOutbox:
    """Hands out its entries once each (attempts counted) and keeps what is recorded."""

    due: list[OutboxEntry]
    claims: list[float] = field(default_factory=list)
    delivered: list[tuple[int, int]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    recorded: asyncio.Event = field(default_factory=asyncio.Event)

    async def claim_due_webhooks(self, limit: int, lease_s: float) -> tuple[OutboxEntry, ...]:
        self.claims.append(lease_s)
        claimed = [replace(entry, attempts=entry.attempts + 1) for entry in self.due[:limit]]
        del self.due[:limit]
        return tuple(claimed)

    async def record_webhook_delivered(self, entry_id: int, status_code: int) -> bool:
        self.delivered.append((entry_id, status_code))
        self.recorded.set()
        return True

    async def record_webhook_failure(
        self,
        entry_id: int,
        attempt: int,
        *,
        error: str,
        status_code: int | None = None,
        retry_in_s: float | None = None,
    ) -> bool:
        self.failures.append(Failure(entry_id, attempt, error, status_code, retry_in_s))
        self.recorded.set()
        return True


def entry(entry_id: int = 1, *, attempts: int = 0, url: str = RECEIVER) -> OutboxEntry:
    return OutboxEntry(
        entry_id=entry_id,
        job_id=f"job-{entry_id}",
        tenant_id="acme",
        url=url,
        event="job.completed",
        payload={},
        created_at=NOW,
        next_attempt_at=NOW,
        attempts=attempts,
        delivered_at=None,
    )


def sender(outbox: FakeOutbox, answer: int, seen: list[httpx.Request]) -> WebhookSender:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(answer)

    poster = WebhookPoster(
        policy=AddressPolicy.from_entries(["receiver.test"]),
        timeout_s=10.0,
        transport=httpx.MockTransport(handler),
    )
    return WebhookSender(
        outbox,
        poster,
        TenantSecrets.parse({"acme": SECRET}),
        SenderOptions(max_attempts=3, schedule_s=(5.0, 30.0), jitter=0.2),
        clock=ManualClock(NOW),
        draw=lambda: 1.0,  # the top of the jitter range: +20 %
    )


async def test_a_2xx_is_recorded_as_delivered_with_a_verifiable_signature() -> None:
    outbox, seen = FakeOutbox(due=[entry(4)]), list[httpx.Request]()
    assert await sender(outbox, 202, seen).deliver_due() == 1
    assert outbox.delivered == [(4, 202)]
    assert outbox.failures == []
    [request] = seen
    headers = dict(request.headers)
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    # Our signature checked at the time it claims, with the reference implementation.
    verifier = Webhook(SECRET)
    expected = verifier.sign("4", NOW, request.content.decode())
    assert headers["webhook-signature"] == expected
    assert json.loads(request.content)["job_id"] == "job-4"


async def test_a_refusal_is_retried_after_the_scheduled_delay_with_jitter() -> None:
    outbox, seen = FakeOutbox(due=[entry(1, attempts=1)]), list[httpx.Request]()
    await sender(outbox, 503, seen).deliver_due()
    assert outbox.failures == [Failure(1, 2, "the receiver answered HTTP 503", 503, 36.0)]
    assert outbox.delivered == []


async def test_the_last_allowed_attempt_fails_for_good() -> None:
    outbox, seen = FakeOutbox(due=[entry(1, attempts=2)]), list[httpx.Request]()
    await sender(outbox, 500, seen).deliver_due()
    assert [(f.attempt, f.retry_in_s) for f in outbox.failures] == [(3, None)]
    assert len(seen) == 1


async def test_a_refused_address_fails_at_once_without_retries() -> None:
    outbox, seen = FakeOutbox(due=[entry(1, url="http://10.0.0.7/hook")]), list[httpx.Request]()
    await sender(outbox, 200, seen).deliver_due()
    [failure] = outbox.failures
    assert (failure.attempt, failure.retry_in_s) == (1, None)
    assert "refusing to connect" in failure.error
    assert seen == []


async def test_a_row_claimed_past_the_limit_is_given_up_without_posting() -> None:
    outbox, seen = FakeOutbox(due=[entry(1, attempts=3)]), list[httpx.Request]()
    await sender(outbox, 200, seen).deliver_due()
    assert [(f.attempt, f.retry_in_s) for f in outbox.failures] == [(4, None)]
    assert seen == []


async def test_claims_outlast_the_post_timeout() -> None:
    outbox = FakeOutbox(due=[])
    await sender(outbox, 200, []).deliver_due()
    assert outbox.claims
    assert outbox.claims[0] > 10.0


async def test_run_delivers_until_stopped() -> None:
    outbox, seen = FakeOutbox(due=[entry(1), entry(2)]), list[httpx.Request]()
    stop = asyncio.Event()
    task = asyncio.create_task(sender(outbox, 200, seen).run(stop))
    async with asyncio.timeout(5):
        while len(outbox.delivered) < 2:
            await outbox.recorded.wait()
            outbox.recorded.clear()
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert sorted(outbox.delivered) == [(1, 200), (2, 200)]


async def test_stopping_abandons_a_post_that_hangs_and_makes_it_due_again() -> None:
    request_seen = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        request_seen.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    outbox = FakeOutbox(due=[entry(1)])
    poster = WebhookPoster(
        policy=AddressPolicy.from_entries(["receiver.test"]), transport=httpx.MockTransport(hang)
    )
    hanging = WebhookSender(outbox, poster, TenantSecrets(), SenderOptions())
    stop = asyncio.Event()
    task = asyncio.create_task(hanging.run(stop))
    await asyncio.wait_for(request_seen.wait(), timeout=5)
    stop.set()
    await asyncio.wait_for(task, timeout=2)  # not the 10 s POST timeout
    assert outbox.failures == [Failure(1, 1, STOPPED_ERROR, None, 0.0)]
