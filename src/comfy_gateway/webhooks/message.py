"""The message a webhook delivers, built from its outbox row (pure).

The body is the same on every retry (its timestamp is the job's end, from the row);
only the ``webhook-timestamp`` header, the time of sending, changes, so a receiver can
deduplicate by ``webhook-id`` and still refuse replays of old messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from comfy_gateway.store.interface import OutboxEntry
from comfy_gateway.webhooks.signing import WebhookSecret, webhook_headers


@dataclass(frozen=True, kw_only=True)
class WebhookMessage:
    """One POST: where, what and with which headers."""

    url: str
    body: bytes
    headers: dict[str, str]


def rfc3339(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def message_id(entry: OutboxEntry) -> str:
    """The outbox row's id: stable across retries, so receivers can deduplicate."""
    return str(entry.entry_id)


def event_body(entry: OutboxEntry) -> bytes:
    """``{"event", "job_id", "timestamp"}`` as compact JSON."""
    payload = {
        "event": entry.event,
        "job_id": entry.job_id,
        "timestamp": rfc3339(entry.created_at),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def build_message(
    entry: OutboxEntry, secret: WebhookSecret | None, sent_at: datetime
) -> WebhookMessage:
    body = event_body(entry)
    headers = webhook_headers(secret, message_id(entry), int(sent_at.timestamp()), body)
    return WebhookMessage(url=entry.url, body=body, headers=headers)
