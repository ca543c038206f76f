"""The webhook sender: claims due outbox rows, posts them, records each outcome.

Claims go through the store (``WebhookOutbox.claim_due_webhooks``), which makes each row
belong to one sender for ``claim_lease_s``; several senders, in one process or many,
share an outbox without posting a row twice at once. Delivery is at least once: a
sender that dies after the receiver answered but before recording it leaves the row to
be posted again after the lease, with the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from comfy_gateway.store.clock import Clock, SystemClock
from comfy_gateway.store.interface import OutboxEntry
from comfy_gateway.store.outbox_interface import WebhookOutbox
from comfy_gateway.webhooks.backoff import (
    DEFAULT_JITTER,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_SCHEDULE_S,
    retry_delay,
)
from comfy_gateway.webhooks.message import WebhookMessage, build_message
from comfy_gateway.webhooks.posting import PostResult, WebhookPoster
from comfy_gateway.webhooks.signing import TenantSecrets

log = logging.getLogger("comfy_gateway.webhooks")
# Beyond the POST timeout: time to resolve the host and record the outcome.
CLAIM_MARGIN_S = 30.0
STOPPED_ERROR = "the sender stopped before the receiver answered"


@dataclass(frozen=True, kw_only=True)
class SenderOptions:
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    schedule_s: Sequence[float] = DEFAULT_SCHEDULE_S
    jitter: float = DEFAULT_JITTER
    poll_interval_s: float = 1.0
    batch_size: int = 20


class WebhookSender:
    """Delivers due webhooks until stopped; see the module docstring."""

    def __init__(
        self,
        outbox: WebhookOutbox,
        poster: WebhookPoster,
        secrets: TenantSecrets,
        options: SenderOptions | None = None,
        *,
        clock: Clock | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._outbox = outbox
        self._poster = poster
        self._secrets = secrets
        self._options = options or SenderOptions()
        self._clock = clock or SystemClock()
        self._draw = draw

    @property
    def claim_lease_s(self) -> float:
        return self._poster.timeout_s + CLAIM_MARGIN_S

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver in rounds; sleep ``poll_interval_s`` (or until stopped) when idle."""
        while not stop.is_set():
            try:
                delivered_any = await self.deliver_due(stop) > 0
            except Exception:  # a sender that died would silently stop every webhook
                log.exception("webhook sender: a delivery round failed; trying again shortly")
                delivered_any = False
            if not delivered_any:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._options.poll_interval_s)

    async def deliver_due(self, stop: asyncio.Event | None = None) -> int:
        """One round: claim a batch of due rows and attempt each; how many were claimed.
        Setting ``stop`` abandons the posts still waiting for an answer."""
        entries = await self._outbox.claim_due_webhooks(
            self._options.batch_size, self.claim_lease_s
        )
        await asyncio.gather(*(self._attempt(entry, stop) for entry in entries))
        return len(entries)

    async def _attempt(self, entry: OutboxEntry, stop: asyncio.Event | None) -> None:
        if entry.attempts > self._options.max_attempts:
            # Earlier claims ran out without an outcome (a sender died mid-post).
            await self._give_up(entry, "no outcome recorded for the last attempts")
            return
        secret = self._secrets.for_tenant(entry.tenant_id)
        message = build_message(entry, secret, self._clock.now())
        await self._record(entry, await self._post_unless_stopped(message, stop))

    async def _post_unless_stopped(
        self, message: WebhookMessage, stop: asyncio.Event | None
    ) -> PostResult:
        """The post's result, unless ``stop`` comes first: a slow receiver must not hold
        up shutdown for the whole POST timeout. The row is then due again at once."""
        post = asyncio.ensure_future(self._poster.post(message))
        if stop is None:
            return await post
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({post, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if post.done():
                return post.result()
        finally:
            stopped.cancel()
            post.cancel()  # no-op once it is done
        with contextlib.suppress(asyncio.CancelledError):
            await post
        return PostResult(delivered=False, error=STOPPED_ERROR, retry_now=True)

    async def _record(self, entry: OutboxEntry, result: PostResult) -> None:
        if result.delivered:
            await self._outbox.record_webhook_delivered(entry.entry_id, result.status_code or 200)
            return
        error = result.error or "delivery failed"
        delay = None if result.permanent else self._retry_delay(entry.attempts)
        if result.retry_now:
            delay = 0.0
        log.warning(
            "webhook %s for job %s, attempt %d: %s%s",
            entry.entry_id,
            entry.job_id,
            entry.attempts,
            error,
            "" if delay is None else f" (next try in {delay:.0f} s)",
        )
        await self._outbox.record_webhook_failure(
            entry.entry_id,
            entry.attempts,
            error=error,
            status_code=result.status_code,
            retry_in_s=delay,
        )

    async def _give_up(self, entry: OutboxEntry, error: str) -> None:
        await self._outbox.record_webhook_failure(entry.entry_id, entry.attempts, error=error)

    def _retry_delay(self, attempt: int) -> float | None:
        return retry_delay(
            attempt,
            max_attempts=self._options.max_attempts,
            schedule=self._options.schedule_s,
            jitter=self._options.jitter,
            draw=self._draw(),
        )
