"""Which job a claim takes: the first claimable one (priority, then age) it can run.

Requirements are JSON, which SQLite and PostgreSQL query differently, so the worker's
test runs in Python over the first candidates in claim order, read a few at a time:
the first page nearly always holds a runnable job, and a job's JSON is decoded only if
it is looked at. The claim itself stays an ``UPDATE … WHERE claimable``, so a job taken
by another worker in between is skipped.

Queued jobs and running jobs whose holder is gone are looked up apart: each lookup then
walks its part of the claim index in order (``status = …`` rather than ``IN``), instead
of sorting every active job, and the two first candidates are compared here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.schema import jobs

#: Decides from a job's stored requirements (None: unknown) whether to claim it.
RequirementsFilter = Callable[[Mapping[str, Any] | None], bool]

#: How many candidates one claim looks at; jobs further back wait for the next claim.
CANDIDATE_WINDOW = 200
#: How many candidates are read at a time.
CANDIDATE_PAGE = 16

_CLAIM_ORDER = (jobs.c.priority.desc(), jobs.c.created_at, jobs.c.job_id)


def first_claimable(
    conn: Connection, now: datetime, can_run: RequirementsFilter | None
) -> str | None:
    """The id of the first claimable job that ``can_run`` accepts (None: any job)."""
    best: tuple[Any, ...] | None = None
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        found = _first_runnable(conn, status, now, can_run)
        if found is not None and (best is None or _claim_key(found) < _claim_key(best)):
            best = found
    return None if best is None else str(best[0])


def _first_runnable(
    conn: Connection, status: JobStatus, now: datetime, can_run: RequirementsFilter | None
) -> tuple[Any, ...] | None:
    for row in _candidates(conn, status, now):
        requirements = row[3]
        if can_run is None or can_run(requirements if isinstance(requirements, Mapping) else None):
            return tuple(row)
    return None


def _candidates(conn: Connection, status: JobStatus, now: datetime) -> Iterator[Any]:
    unheld = or_(jobs.c.claimed_by.is_(None), jobs.c.lease_expires_at <= now)
    query = (
        select(jobs.c.job_id, jobs.c.priority, jobs.c.created_at, jobs.c.requirements)
        .where(and_(jobs.c.status == status.value, unheld))
        .order_by(*_CLAIM_ORDER)
    )
    for offset in range(0, CANDIDATE_WINDOW, CANDIDATE_PAGE):
        rows = conn.execute(query.offset(offset).limit(CANDIDATE_PAGE)).all()
        yield from rows
        if len(rows) < CANDIDATE_PAGE:
            return


def _claim_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Claim order: higher priority first, then older, then the smaller id."""
    return (-row[1], row[2], row[0])
