"""The questions a submit and a claim poll ask of the queue: how deep it is (for the
limits) and whether any job waits to be claimed (before a hand-off, before a claim).

Each is answered from an index alone, never from the rows of the backlog; a submit that
needs both asks them in one statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, literal, or_, select
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.errors import QueueFull
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.interface import QueueLimits
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.schema import jobs
from comfy_gateway.store.sql_queries import IS_ACTIVE

# Built once (parameter: now): a submit that could hand its job over asks it first.
_CLAIMABLE = (
    select(literal(1))
    .select_from(jobs)
    .where(
        IS_ACTIVE,
        or_(
            jobs.c.claimed_by.is_(None),
            jobs.c.lease_expires_at <= bindparam("now", type_=jobs.c.lease_expires_at.type),
        ),
    )
    .limit(1)
)
_CLAIMABLE_JOB_WAITING = Prepared(_CLAIMABLE)


def claimable_job_waiting(conn: Connection, now: datetime) -> bool:
    """Whether any job waits to be claimed (queued, or held by a lease that ran out)."""
    return _CLAIMABLE_JOB_WAITING.first(conn, {"now": now}) is not None


_QUEUED = jobs.c.status == JobStatus.QUEUED.value
_ALL_QUEUED = Prepared(select(func.count()).where(_QUEUED))
_TENANT_QUEUED = Prepared(
    select(func.count()).where(jobs.c.tenant_id == bindparam("tenant_id"), _QUEUED)
)


#: What a submit that both checks the limits and offers its job to a worker asks, in
#: one statement: the two counts and whether any job waits to be claimed.
_SUBMIT_CHECKS = Prepared(
    select(
        select(func.count()).where(_QUEUED).scalar_subquery().label("all_queued"),
        select(func.count())
        .where(jobs.c.tenant_id == bindparam("tenant_id"), _QUEUED)
        .scalar_subquery()
        .label("tenant_queued"),
        _CLAIMABLE.exists().label("claimable_waiting"),
    )
)


def queued_counts(conn: Connection, tenant_id: str) -> tuple[int, int]:
    """Queued jobs of ``tenant_id`` and of everyone: two counts each answered from an
    index alone (status; tenant and status), never from the rows of the backlog."""
    everyone = _ALL_QUEUED.scalar(conn, {})
    mine = _TENANT_QUEUED.scalar(conn, {"tenant_id": tenant_id})
    return int(mine), int(everyone)


def check_limits_and_waiting(
    conn: Connection, tenant_id: str, limits: QueueLimits, now: datetime
) -> bool:
    """``check_limits`` and ``claimable_job_waiting`` in one statement."""
    row = _SUBMIT_CHECKS.rows(conn, {"tenant_id": tenant_id, "now": now})[0]
    _refuse_over_limits(tenant_id, limits, int(row["tenant_queued"]), int(row["all_queued"]))
    return bool(row["claimable_waiting"])


def check_limits(conn: Connection, tenant_id: str, limits: QueueLimits) -> None:
    if limits.max_queued is None and limits.max_queued_per_tenant is None:
        return
    tenant_queued, all_queued = queued_counts(conn, tenant_id)
    _refuse_over_limits(tenant_id, limits, tenant_queued, all_queued)


def _refuse_over_limits(
    tenant_id: str, limits: QueueLimits, tenant_queued: int, all_queued: int
) -> None:
    if limits.max_queued is not None and all_queued >= limits.max_queued:
        raise QueueFull(all_queued, limits.max_queued)
    per_tenant = limits.max_queued_per_tenant
    if per_tenant is not None and tenant_queued >= per_tenant:
        raise QueueFull(tenant_queued, per_tenant, tenant_id=tenant_id)
