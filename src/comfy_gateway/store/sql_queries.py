"""SQL building blocks shared by the store's methods; each runs on the caller's
transaction (the caller decides where transactions begin and end)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement, ColumnElement, Select

from comfy_gateway.jobs.errors import JobNotFound, LeaseLost
from comfy_gateway.jobs.model import Attempt, Job, JobOutput
from comfy_gateway.jobs.status import TERMINAL_STATUSES, JobStatus
from comfy_gateway.store.cursor import ListPosition
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.rows import Row, job_from_row, output_from_row
from comfy_gateway.store.schema import job_attempts, job_outputs, jobs, webhook_outbox

ACTIVE_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
#: ``status IN (active)`` written out, so prepared statements (no expanding IN) can use it.
IS_ACTIVE = or_(*(jobs.c.status == status for status in ACTIVE_STATUSES))
# Columns of a listed job: everything but the graph, which can be large.
LIST_COLUMNS = [column for column in jobs.c if column.name != "workflow"]


# The statements every job reads several times, built once with named parameters: a
# statement built per call costs more in SQLAlchemy than the query costs in SQLite.
_OUTPUTS_OF_ONE_JOB = Prepared(
    select(job_outputs).where(job_outputs.c.job_id == bindparam("job_id"))
)


def _job_by_id(*, with_tenant: bool, lock: bool, workflow: bool = True) -> Select[Any]:
    query = select(*(jobs.c if workflow else LIST_COLUMNS)).where(
        jobs.c.job_id == bindparam("job_id")
    )
    if with_tenant:
        query = query.where(jobs.c.tenant_id == bindparam("tenant_id"))
    return query.with_for_update() if lock else query


_JOB_ROW = {
    (with_tenant, lock): Prepared(_job_by_id(with_tenant=with_tenant, lock=lock))
    for with_tenant in (False, True)
    for lock in (False, True)
}
#: A client's read: everything but the graph, which can be large and is never shown.
_TENANT_JOB_WITHOUT_GRAPH = Prepared(_job_by_id(with_tenant=True, lock=False, workflow=False))


def load_outputs(conn: Connection, job_ids: Collection[str]) -> dict[str, list[JobOutput]]:
    """Outputs of several jobs in one query, grouped by job id."""
    found: dict[str, list[JobOutput]] = {job_id: [] for job_id in job_ids}
    if not job_ids:
        return found
    if len(found) == 1:
        [job_id] = found
        rows: Iterable[Row] = _OUTPUTS_OF_ONE_JOB.rows(conn, {"job_id": job_id})
    else:
        query = select(job_outputs).where(job_outputs.c.job_id.in_(list(job_ids)))
        rows = conn.execute(query).mappings()
    for row in rows:
        found[row["job_id"]].append(output_from_row(row))
    return found


def job_row(
    conn: Connection, job_id: str, tenant_id: str | None = None, *, lock: bool = False
) -> Row:
    """The job's row (limited to ``tenant_id`` when given), or :class:`JobNotFound`.
    ``lock``: a PostgreSQL row lock (SQLite's write transaction holds the database)."""
    query = _JOB_ROW[(tenant_id is not None, lock)]
    parameters = (
        {"job_id": job_id} if tenant_id is None else {"job_id": job_id, "tenant_id": tenant_id}
    )
    row = query.first(conn, parameters)
    if row is None:
        raise JobNotFound(job_id)
    return row


def load_job(conn: Connection, job_id: str, tenant_id: str | None = None) -> Job:
    return job_with_outputs(conn, job_row(conn, job_id, tenant_id))


#: One output of a tenant's job in one read: no row, no such job for the tenant; a row of
#: NULLs, the job has no such output.
_TENANT_OUTPUT = Prepared(
    select(jobs.c.job_id.label("of_job"), *job_outputs.c)
    .select_from(
        jobs.outerjoin(
            job_outputs,
            and_(
                job_outputs.c.job_id == jobs.c.job_id,
                job_outputs.c.output_index == bindparam("index"),
            ),
        )
    )
    .where(jobs.c.job_id == bindparam("job_id"), jobs.c.tenant_id == bindparam("tenant_id"))
)


def load_output(conn: Connection, tenant_id: str, job_id: str, index: int) -> JobOutput | None:
    """Output ``index`` of the tenant's job; None if it has none; ``JobNotFound``."""
    row = _TENANT_OUTPUT.first(conn, {"job_id": job_id, "tenant_id": tenant_id, "index": index})
    if row is None:
        raise JobNotFound(job_id)
    return None if row["output_index"] is None else output_from_row(row)


def load_job_without_graph(conn: Connection, job_id: str, tenant_id: str) -> Job:
    """The job as a client sees it: ``workflow`` is None (not read)."""
    row = _TENANT_JOB_WITHOUT_GRAPH.first(conn, {"job_id": job_id, "tenant_id": tenant_id})
    if row is None:
        raise JobNotFound(job_id)
    return job_with_outputs(conn, row)


def job_with_outputs(conn: Connection, row: Row) -> Job:
    """The job of ``row``; its outputs are read only once it ended: they are written
    in the same transaction as the terminal status, so an active job has none."""
    if JobStatus(row["status"]) not in TERMINAL_STATUSES:
        return job_from_row(row, ())
    return job_from_row(row, load_outputs(conn, [row["job_id"]])[row["job_id"]])


#: SQL expressions the worker's writes set or test, shared so that a statement using them
#: can be built once per shape and reused (see ``held_update``).
ATTEMPTS_UP = jobs.c.attempts + 1
ATTEMPTS_DOWN = jobs.c.attempts - 1
ATTEMPTS_KEPT = jobs.c.attempts
STILL_QUEUED = jobs.c.status == JobStatus.QUEUED.value
#: The larger of the stored progress and the ``progress_floor`` parameter.
PROGRESS_NEVER_BACK = case(
    (jobs.c.progress > bindparam("progress_floor", type_=Float), jobs.c.progress),
    else_=bindparam("progress_floor", type_=Float),
)
_SHARED = {id(expression) for expression in (ATTEMPTS_UP, ATTEMPTS_DOWN, ATTEMPTS_KEPT)}
_SHARED |= {id(STILL_QUEUED), id(PROGRESS_NEVER_BACK)}
_HELD = and_(
    jobs.c.job_id == bindparam("held_job"),
    jobs.c.claimed_by.is_not(None),
    jobs.c.fencing_token == bindparam("held_token"),
)
_HELD_UPDATES: dict[tuple[Any, ...], Prepared] = {}


def held_update(
    conn: Connection,
    job_id: str,
    fencing_token: int,
    *conditions: ColumnElement[bool],
    bump: bool = True,
    parameters: dict[str, Any] | None = None,
    **values: Any,
) -> Row:
    """Set columns of a job the caller still holds (and that meets ``conditions``) in
    one statement; its new row. :class:`LeaseLost` (or :class:`JobNotFound`) when the
    lease moved on; ``ConditionNotMet`` when only ``conditions`` failed. A value is data
    or one of the shared expressions above (which may need ``parameters``)."""
    data = {key: value for key, value in values.items() if id(value) not in _SHARED}
    statement = _held_update_statement(conditions, values, bump)
    bound = {f"new_{key}": value for key, value in data.items()}
    bound.update(held_job=job_id, held_token=fencing_token, **(parameters or {}))
    row = statement.first(conn, bound)
    if row is not None:
        return row
    current = fenced_row(conn, job_id, fencing_token)  # raises when the lease moved on
    raise ConditionNotMet(current)


def _held_update_statement(
    conditions: tuple[ColumnElement[bool], ...], values: dict[str, Any], bump: bool
) -> Prepared:
    """The UPDATE for this shape (which columns, which shared expressions), built once."""
    for expression in (*conditions, *values.values()):
        if isinstance(expression, ClauseElement) and id(expression) not in _SHARED:
            raise ValueError("held_update takes data or the shared expressions only")
    shape = (
        tuple(id(condition) for condition in conditions),
        tuple(
            sorted(
                (key, id(value) if id(value) in _SHARED else None) for key, value in values.items()
            )
        ),
        bump,
    )
    statement = _HELD_UPDATES.get(shape)
    if statement is None:
        assignments: dict[str, Any] = {
            key: value if id(value) in _SHARED else bindparam(f"new_{key}", type_=jobs.c[key].type)
            for key, value in values.items()
        }
        if bump:
            assignments["version"] = jobs.c.version + 1
        # The new row comes back without the graph: the holder has it from its claim.
        statement = Prepared(
            update(jobs).where(_HELD, *conditions).values(**assignments).returning(*LIST_COLUMNS)
        )
        _HELD_UPDATES[shape] = statement
    return statement


class ConditionNotMet(Exception):
    """A held job's update found the row in another state; ``row`` is how it is."""

    def __init__(self, row: Row) -> None:
        super().__init__(f"job {row['job_id']} is {row['status']}")
        self.row = row


#: A holder's own read: everything but the graph (the holder has it from its claim).
_HELD_ROW = Prepared(_job_by_id(with_tenant=False, lock=True, workflow=False))


def fenced_row(conn: Connection, job_id: str, fencing_token: int) -> Row:
    """The row of a job the caller still holds, without its graph; :class:`LeaseLost` if
    it does not hold it."""
    row = _HELD_ROW.first(conn, {"job_id": job_id})
    if row is None:
        raise JobNotFound(job_id)
    if row["claimed_by"] is None or row["fencing_token"] != fencing_token:
        raise LeaseLost(job_id, fencing_token)
    return row


def update_job(conn: Connection, job_id: str, *, bump: bool = True, **values: Any) -> None:
    """Set columns of one job; ``bump`` adds one to its version (a visible change)."""
    if bump:
        values["version"] = jobs.c.version + 1
    conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))


_CLOSE_OPEN_ATTEMPT = Prepared(
    update(job_attempts)
    .where(job_attempts.c.job_id == bindparam("of_job"), job_attempts.c.ended_at.is_(None))
    .values(
        ended_at=bindparam("at", type_=job_attempts.c.ended_at.type),
        outcome=bindparam("how"),
        detail=bindparam("why"),
    )
)
_LAST_ATTEMPT_NUMBER = Prepared(
    select(func.coalesce(func.max(job_attempts.c.number), 0)).where(
        job_attempts.c.job_id == bindparam("job_id")
    )
)
#: Every column bound (none has a default, so an absent value inserts NULL, as omitted).
_INSERT_OUTPUTS = Prepared(insert(job_outputs))


def close_open_attempt(
    conn: Connection, job_id: str, ended_at: datetime, outcome: str, detail: str | None = None
) -> bool:
    """End the job's attempt still in progress, if any; whether there was one."""
    parameters = {"of_job": job_id, "at": ended_at, "how": outcome, "why": detail}
    return bool(_CLOSE_OPEN_ATTEMPT.execute(conn, parameters))


_INSERT_ATTEMPT = Prepared(insert(job_attempts))


def insert_attempt(conn: Connection, job_id: str, attempt: Attempt) -> None:
    _INSERT_ATTEMPT.execute(
        conn,
        {
            "job_id": job_id,
            "number": attempt.number,
            "backend": attempt.backend,
            "prompt_id": attempt.prompt_id,
            "client_id": attempt.client_id,
            "started_at": attempt.started_at,
        },
    )


def next_attempt_number(conn: Connection, job_id: str) -> int:
    return int(_LAST_ATTEMPT_NUMBER.scalar(conn, {"job_id": job_id})) + 1


def insert_outputs(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        _INSERT_OUTPUTS.execute_many(conn, rows)


def insert_outbox_entry(conn: Connection, job: Job, now: datetime) -> None:
    """Queue the job's end for webhook delivery (same transaction as the status)."""
    if job.webhook_url is None:
        return
    payload = {"job_id": job.job_id, "status": job.status.value, "version": job.version}
    conn.execute(
        insert(webhook_outbox).values(
            job_id=job.job_id,
            tenant_id=job.tenant_id,
            url=job.webhook_url,
            event=f"job.{job.status.value}",
            payload=payload,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
    )


def older_than(position: ListPosition) -> ColumnElement[bool]:
    """Jobs after ``position`` in newest-first order; a row-value comparison, which
    the database turns into a range of the (tenant, created_at, job_id) index."""
    return tuple_(jobs.c.created_at, jobs.c.job_id) < tuple_(
        literal(position.created_at, type_=jobs.c.created_at.type),
        literal(position.job_id, type_=jobs.c.job_id.type),
    )


def count_by_status(conn: Connection, tenant_id: str | None) -> dict[str, int]:
    query = (
        select(jobs.c.status, func.count())
        .where(jobs.c.status.in_(ACTIVE_STATUSES))
        .group_by(jobs.c.status)
    )
    if tenant_id is not None:
        query = query.where(jobs.c.tenant_id == tenant_id)
    return {str(status): int(count) for status, count in conn.execute(query)}
