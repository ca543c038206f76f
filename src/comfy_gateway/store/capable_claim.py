"""Claim only what the worker can run: pick among claimable jobs by their requirements.

Requirements are JSON, which SQLite and PostgreSQL query differently, so the worker's
test runs in Python over the first candidates in claim order. The claim itself stays an
``UPDATE … WHERE claimable``, so a job taken by another worker in between is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.schema import jobs

#: Decides from a job's stored requirements (None: unknown) whether to claim it.
RequirementsFilter = Callable[[Mapping[str, Any] | None], bool]

#: How many candidates one claim looks at; jobs further back wait for the next claim.
CANDIDATE_WINDOW = 200


async def first_runnable(
    conn: AsyncConnection, now: datetime, can_run: RequirementsFilter
) -> str | None:
    """The id of the first claimable job (priority, then age) that ``can_run`` accepts."""
    rows = await conn.execute(
        select(jobs.c.job_id, jobs.c.requirements)
        .where(q.claimable(now))
        .order_by(jobs.c.priority.desc(), jobs.c.created_at, jobs.c.job_id)
        .limit(CANDIDATE_WINDOW)
    )
    for job_id, requirements in rows.all():
        if can_run(requirements if isinstance(requirements, Mapping) else None):
            return str(job_id)
    return None
