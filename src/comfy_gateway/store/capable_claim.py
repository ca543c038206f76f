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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, or_, select
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.schema import jobs

#: Decides from a job's stored requirements (None: unknown) whether to claim it.
RequirementsFilter = Callable[[Mapping[str, Any] | None], bool]

#: How many candidates one claim looks at; jobs further back wait for the next claim.
CANDIDATE_WINDOW = 200
#: How many candidates are read at a time.
CANDIDATE_PAGE = 16

_CLAIM_ORDER = (jobs.c.priority.desc(), jobs.c.created_at, jobs.c.job_id)


@dataclass(frozen=True, slots=True)
class Candidate:
    """The job a claim should take, and whether others were seen behind it."""

    job_id: str
    more_waiting: bool


def first_claimable(
    conn: Connection, now: datetime, can_run: RequirementsFilter | None
) -> Candidate | None:
    """The first claimable job that ``can_run`` accepts (None: any job)."""
    found = [
        runnable
        for status in (JobStatus.QUEUED, JobStatus.RUNNING)
        if (runnable := _first_runnable(conn, status, now, can_run)) is not None
    ]
    if not found:
        return None
    best, more_behind = min(found, key=lambda pair: _claim_key(pair[0]))
    return Candidate(job_id=str(best[0]), more_waiting=more_behind or len(found) > 1)


def _first_runnable(
    conn: Connection, status: JobStatus, now: datetime, can_run: RequirementsFilter | None
) -> tuple[tuple[Any, ...], bool] | None:
    """The first runnable candidate of ``status``, and whether any candidate follows it."""
    candidates = _candidates(conn, status, now)
    for row in candidates:
        requirements = row[3]
        if can_run is None or can_run(requirements if isinstance(requirements, Mapping) else None):
            return tuple(row), next(candidates, None) is not None
    return None


# Built once (parameters: status, now, offset): every claim runs it at least twice.
_CANDIDATE_PAGE = Prepared(
    select(jobs.c.job_id, jobs.c.priority, jobs.c.created_at, jobs.c.requirements)
    .where(
        and_(
            jobs.c.status == bindparam("status"),
            or_(
                jobs.c.claimed_by.is_(None),
                jobs.c.lease_expires_at <= bindparam("now", type_=jobs.c.lease_expires_at.type),
            ),
        )
    )
    .order_by(*_CLAIM_ORDER)
    .limit(CANDIDATE_PAGE)
    .offset(bindparam("offset", type_=Integer))
)


def _candidates(conn: Connection, status: JobStatus, now: datetime) -> Iterator[Any]:
    for offset in range(0, CANDIDATE_WINDOW, CANDIDATE_PAGE):
        parameters = {"status": status.value, "now": now, "offset": offset}
        rows = [tuple(row.values()) for row in _CANDIDATE_PAGE.rows(conn, parameters)]
        yield from rows
        if len(rows) < CANDIDATE_PAGE:
            return


def _claim_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Claim order: higher priority first, then older, then the smaller id."""
    return (-row[1], row[2], row[0])
