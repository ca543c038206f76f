"""The narrow interface the webhook sender needs from the store.

Claiming is the only way a sender gets a row: one ``UPDATE … RETURNING`` moves each
claimed row's ``next_attempt_at`` past the sender's lease and counts the attempt, so
two senders (even in two processes) never post the same row at once. A sender that
dies mid-post leaves the row to come due again when that lease runs out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from comfy_gateway.store.interface import OutboxEntry


@runtime_checkable
class WebhookOutbox(Protocol):
    """Claim due webhook deliveries and record how each attempt went."""

    async def claim_due_webhooks(self, limit: int, lease_s: float) -> tuple[OutboxEntry, ...]:
        """Up to ``limit`` due, undelivered, not failed rows, oldest first; each comes
        back with ``attempts`` already counting this attempt."""
        ...

    async def record_webhook_delivered(self, entry_id: int, status_code: int) -> bool:
        """Mark the row delivered (and its job's webhook); False if it already was."""
        ...

    async def record_webhook_failure(
        self,
        entry_id: int,
        attempt: int,
        *,
        error: str,
        status_code: int | None = None,
        retry_in_s: float | None = None,
    ) -> bool:
        """Attempt ``attempt`` failed: due again in ``retry_in_s`` seconds, or failed
        for good when ``None``. False (nothing written) if the row has moved on: it
        was delivered, gave up, or another sender claimed it since."""
        ...
