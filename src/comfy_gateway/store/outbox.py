"""Webhook outbox queries, mixed into :class:`~comfy_gateway.store.sql_store.SqlJobStore`.

Each write also keeps the job's ``webhook_*`` summary in step, in the same transaction,
so the job body shows the delivery state without reading the outbox. That summary is
not a change the job's SSE stream reports, so it does not bump the job's version.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from comfy_gateway.jobs.model import WebhookStatus
from comfy_gateway.store.clock import Clock
from comfy_gateway.store.interface import OutboxEntry
from comfy_gateway.store.rows import outbox_entry_from_row
from comfy_gateway.store.schema import jobs, webhook_outbox
from comfy_gateway.store.store_threads import transaction

T = TypeVar("T")

# A delivery error is kept for people to read, not as a log.
MAX_ERROR_CHARS = 500


def due_outbox_rows(now: datetime) -> ColumnElement[bool]:
    """Rows still to deliver whose next attempt is due (nobody holds them)."""
    return and_(
        webhook_outbox.c.delivered_at.is_(None),
        webhook_outbox.c.failed_at.is_(None),
        webhook_outbox.c.next_attempt_at <= now,
    )


def set_job_webhook_state(
    conn: Connection, job_id: str, status: WebhookStatus, attempts: int, error: str | None
) -> None:
    conn.execute(
        update(jobs)
        .where(jobs.c.job_id == job_id)
        .values(webhook_status=status.value, webhook_attempts=attempts, webhook_last_error=error)
    )


class WebhookOutboxMixin:
    """:class:`~comfy_gateway.store.outbox_interface.WebhookOutbox` for the SQL store."""

    _clock: Clock

    if TYPE_CHECKING:

        async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T: ...

    async def claim_due_webhooks(self, limit: int, lease_s: float) -> tuple[OutboxEntry, ...]:
        if lease_s <= 0:
            raise ValueError(f"a claim must last a positive time, not {lease_s} s")
        return await self._claim_due(limit, lease_s)

    @transaction(write=True)
    def _claim_due(self, conn: Connection, limit: int, lease_s: float) -> tuple[OutboxEntry, ...]:
        now = self._clock.now()
        due_ids = (
            select(webhook_outbox.c.id)
            .where(due_outbox_rows(now))
            .order_by(webhook_outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = conn.execute(
            update(webhook_outbox)
            .where(webhook_outbox.c.id.in_(due_ids))
            .values(
                next_attempt_at=now + timedelta(seconds=lease_s),
                attempts=webhook_outbox.c.attempts + 1,
            )
            .returning(*webhook_outbox.c)
        )
        entries = [outbox_entry_from_row(row) for row in claimed.mappings()]
        return tuple(sorted(entries, key=lambda entry: entry.entry_id))

    @transaction(write=True)
    def record_webhook_delivered(self, conn: Connection, entry_id: int, status_code: int) -> bool:
        # A late success still counts, even after a reclaim or giving up.
        result = conn.execute(
            update(webhook_outbox)
            .where(webhook_outbox.c.id == entry_id, webhook_outbox.c.delivered_at.is_(None))
            .values(
                delivered_at=self._clock.now(),
                failed_at=None,
                last_status=status_code,
                last_error=None,
            )
            .returning(webhook_outbox.c.job_id, webhook_outbox.c.attempts)
        )
        row = result.one_or_none()
        if row is None:
            return False
        set_job_webhook_state(conn, row.job_id, WebhookStatus.DELIVERED, row.attempts, None)
        return True

    @transaction(write=True)
    def record_webhook_failure(
        self,
        conn: Connection,
        entry_id: int,
        attempt: int,
        *,
        error: str,
        status_code: int | None = None,
        retry_in_s: float | None = None,
    ) -> bool:
        error = error[:MAX_ERROR_CHARS]
        now = self._clock.now()
        values: dict[str, Any] = {"last_error": error, "last_status": status_code}
        if retry_in_s is None:
            values["failed_at"] = now
        else:
            values["next_attempt_at"] = now + timedelta(seconds=max(retry_in_s, 0.0))
        result = conn.execute(
            update(webhook_outbox)
            .where(
                webhook_outbox.c.id == entry_id,
                webhook_outbox.c.attempts == attempt,
                webhook_outbox.c.delivered_at.is_(None),
                webhook_outbox.c.failed_at.is_(None),
            )
            .values(**values)
            .returning(webhook_outbox.c.job_id)
        )
        row = result.one_or_none()
        if row is None:
            return False
        status = WebhookStatus.FAILED if retry_in_s is None else WebhookStatus.PENDING
        set_job_webhook_state(conn, row.job_id, status, attempt, error)
        return True
