"""The delivered message: its body, its id and its headers, built from the outbox row."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from comfy_gateway.store.interface import OutboxEntry
from comfy_gateway.webhooks.message import build_message
from comfy_gateway.webhooks.signing import WebhookSecret

SECRET = "whsec_c2VjcmV0LWtleS1mb3ItbWVzc2FnZS10ZXN0cw=="
ENDED = datetime(2026, 11, 22, 18, 40, 1, 123456, tzinfo=UTC)


def make_entry(**changes: Any) -> OutboxEntry:
    fields: dict[str, Any] = {
        "entry_id": 12,
        "job_id": "0193-job",
        "tenant_id": "acme",
        "url": "https://hooks.example/in",
        "event": "job.completed",
        "payload": {"job_id": "0193-job", "status": "completed", "version": 7},
        "created_at": ENDED,
        "next_attempt_at": ENDED,
        "attempts": 1,
        "delivered_at": None,
    }
    fields.update(changes)
    return OutboxEntry(**fields)


def test_the_body_names_the_event_the_job_and_when_it_ended() -> None:
    message = build_message(make_entry(), None, datetime.now(UTC))
    assert json.loads(message.body) == {
        "event": "job.completed",
        "job_id": "0193-job",
        "timestamp": "2026-11-22T18:40:01.123Z",
    }
    assert message.url == "https://hooks.example/in"


def test_retries_keep_id_and_body_and_move_only_the_timestamp() -> None:
    first = build_message(make_entry(attempts=1), None, datetime(2026, 11, 22, 19, 0, tzinfo=UTC))
    later = build_message(make_entry(attempts=3), None, datetime(2026, 11, 22, 19, 5, tzinfo=UTC))
    assert first.body == later.body
    assert first.headers["webhook-id"] == later.headers["webhook-id"] == "12"
    assert int(later.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 300


def test_a_signed_message_verifies() -> None:
    entry = make_entry(event="job.cancelled")
    message = build_message(entry, WebhookSecret.parse(SECRET), datetime.now(UTC))
    assert Webhook(SECRET).verify(message.body, message.headers)["event"] == "job.cancelled"
