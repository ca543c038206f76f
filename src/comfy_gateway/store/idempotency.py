"""Idempotency keys: one job per (tenant, key) while the key lives (24 h by default).

The table's primary key is what turns concurrent duplicates into one job; these
helpers run inside the caller's write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.errors import IdempotencyKeyReused
from comfy_gateway.jobs.model import Job
from comfy_gateway.store.schema import idempotency_keys
from comfy_gateway.store.sql_queries import load_job


@dataclass(frozen=True, kw_only=True, slots=True)
class IdempotentRequest:
    """The key a client sent and a hash of its request body."""

    tenant_id: str
    key: str
    request_hash: str | None


def find_replay(
    conn: Connection, request: IdempotentRequest, expired_before: datetime
) -> Job | None:
    """The job this key already made, ``None`` if the key is new or expired (then
    forgotten), :class:`IdempotencyKeyReused` if it came with another body."""
    match = (idempotency_keys.c.tenant_id == request.tenant_id) & (
        idempotency_keys.c.idempotency_key == request.key
    )
    row = (conn.execute(select(idempotency_keys).where(match))).mappings().first()
    if row is None:
        return None
    if row["created_at"] <= expired_before:
        conn.execute(delete(idempotency_keys).where(match))
        return None
    if row["request_hash"] != request.request_hash:
        raise IdempotencyKeyReused(request.key, row["job_id"])
    return load_job(conn, row["job_id"])


def remember_key(conn: Connection, request: IdempotentRequest, job_id: str, now: datetime) -> None:
    conn.execute(
        insert(idempotency_keys).values(
            tenant_id=request.tenant_id,
            idempotency_key=request.key,
            request_hash=request.request_hash,
            job_id=job_id,
            created_at=now,
        )
    )
