"""The worker's writes on the SQL store: claim, lease, attempts, progress, the end.

A mixin of :class:`~comfy_gateway.store.sql_store.SqlJobStore`. Every write is fenced:
it names the claim's fencing token and changes the row only while that claim still
holds the job (one ``UPDATE … WHERE fencing_token = … RETURNING``); otherwise it raises
:class:`~comfy_gateway.jobs.errors.LeaseLost` and writes nothing. These writes sit on
the path of every job, so each is as few statements as it can be: an active job has no
outputs to read back, and the updated row comes back from the update itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, or_, update
from sqlalchemy.engine import Connection

from comfy_gateway.jobs.model import Attempt, Claim, Job, JobError, JobOutput
from comfy_gateway.jobs.status import JobStatus, check_transition
from comfy_gateway.store import queue_queries as queue
from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.capable_claim import RequirementsFilter, first_claimable
from comfy_gateway.store.clock import Clock
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.rows import error_to_json, job_from_row, output_values
from comfy_gateway.store.schema import job_attempts, jobs
from comfy_gateway.store.store_threads import transaction

# Built once: every claim runs it (parameters: candidate, now, holder, until).
_CLAIM = Prepared(
    update(jobs)
    .where(
        jobs.c.job_id == bindparam("candidate"),
        q.IS_ACTIVE,
        or_(
            jobs.c.claimed_by.is_(None),
            jobs.c.lease_expires_at <= bindparam("now", type_=jobs.c.lease_expires_at.type),
        ),
    )
    .values(
        claimed_by=bindparam("holder", type_=jobs.c.claimed_by.type),
        lease_expires_at=bindparam("until", type_=jobs.c.lease_expires_at.type),
        fencing_token=jobs.c.fencing_token + 1,
        version=jobs.c.version + 1,
    )
    .returning(*jobs.c)
)
# "100 only when completed": a running job's progress stops just short of it.
PROGRESS_CEILING_UNTIL_DONE = 99.9
T = TypeVar("T")


class WorkerWrites:
    """Store methods of the worker (mixed into `SqlJobStore`)."""

    _clock: Clock

    if TYPE_CHECKING:

        async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T: ...

    @transaction(write=False)
    def claimable_job_waiting(self, conn: Connection) -> bool:
        return queue.claimable_job_waiting(conn, self._clock.now())

    async def claim_next_job(
        self, worker_id: str, lease_s: float, *, can_run: RequirementsFilter | None = None
    ) -> Claim | None:
        _check_lease(lease_s)
        return await self._claim(worker_id, lease_s, can_run)

    @transaction(write=True)
    def _claim(
        self, conn: Connection, worker_id: str, lease_s: float, can_run: RequirementsFilter | None
    ) -> Claim | None:
        now = self._clock.now()
        candidate = first_claimable(conn, now, can_run)
        if candidate is None:
            return None
        expires = now + timedelta(seconds=lease_s)
        parameters = {
            "candidate": candidate.job_id,
            "now": now,
            "holder": worker_id,
            "until": expires,
        }
        row = _CLAIM.first(conn, parameters)
        if row is None:
            return None
        job = job_from_row(row, ())  # claimable jobs are active: no outputs yet
        return Claim(
            job=job,
            fencing_token=row["fencing_token"],
            lease_expires_at=expires,
            more_waiting=candidate.more_waiting,
        )

    async def heartbeat(self, job_id: str, fencing_token: int, lease_s: float) -> Job:
        _check_lease(lease_s)
        return await self._heartbeat(job_id, fencing_token, lease_s)

    @transaction(write=True)
    def _heartbeat(self, conn: Connection, job_id: str, fencing_token: int, lease_s: float) -> Job:
        expires = self._clock.now() + timedelta(seconds=lease_s)
        # Only the lease moves: not a change a client sees, so no version bump.
        row = q.held_update(conn, job_id, fencing_token, bump=False, lease_expires_at=expires)
        return q.job_with_outputs(conn, row)

    @transaction(write=True)
    def record_attempt_start(  # noqa: PLR0917 - the JobStore protocol's signature
        self,
        conn: Connection,
        job_id: str,
        fencing_token: int,
        backend: str,
        prompt_id: str,
        client_id: str,
    ) -> Attempt:
        q.held_update(
            conn,
            job_id,
            fencing_token,
            prompt_id=prompt_id,
            backend=backend,
            attempts=q.ATTEMPTS_UP,
        )
        now = self._clock.now()
        # An attempt left open belonged to a holder whose lease ran out.
        q.close_open_attempt(conn, job_id, now, "abandoned")
        attempt = Attempt(
            number=q.next_attempt_number(conn, job_id),
            backend=backend,
            prompt_id=prompt_id,
            client_id=client_id,
            started_at=now,
        )
        q.insert_attempt(conn, job_id, attempt)
        return attempt

    @transaction(write=True)
    def record_prompt_id(
        self, conn: Connection, job_id: str, fencing_token: int, prompt_id: str
    ) -> Job:
        row = q.held_update(conn, job_id, fencing_token, prompt_id=prompt_id)
        conn.execute(
            update(job_attempts)
            .where(job_attempts.c.job_id == job_id, job_attempts.c.ended_at.is_(None))
            .values(prompt_id=prompt_id)
        )
        return q.job_with_outputs(conn, row)

    @transaction(write=True)
    def mark_running(
        self,
        conn: Connection,
        job_id: str,
        fencing_token: int,
        started_at: datetime | None = None,
    ) -> Job:
        try:
            row = q.held_update(
                conn,
                job_id,
                fencing_token,
                q.STILL_QUEUED,
                status=JobStatus.RUNNING.value,
                started_at=started_at or self._clock.now(),
            )
        except q.ConditionNotMet as other:
            status = JobStatus(other.row["status"])
            # Re-attaching to a prompt that is already running is not a transition.
            if status is not JobStatus.RUNNING:
                check_transition(status, JobStatus.RUNNING, job_id=job_id)
            row = other.row
        return q.job_with_outputs(conn, row)

    @transaction(write=True)
    def update_progress(
        self,
        conn: Connection,
        job_id: str,
        fencing_token: int,
        progress: float,
        details: dict[str, Any],
    ) -> Job:
        # Progress never goes back: the larger of the stored and the new value.
        row = q.held_update(
            conn,
            job_id,
            fencing_token,
            parameters={"progress_floor": min(progress, PROGRESS_CEILING_UNTIL_DONE)},
            progress=q.PROGRESS_NEVER_BACK,
            progress_details=details,
        )
        return q.job_with_outputs(conn, row)

    @transaction(write=True)
    def finish_job(
        self,
        conn: Connection,
        job_id: str,
        fencing_token: int,
        status: JobStatus,
        *,
        outputs: Sequence[JobOutput] = (),
        error: JobError | None = None,
        timings: dict[str, int] | None = None,
        progress_details: dict[str, Any] | None = None,
        started_at: datetime | None = None,
    ) -> Job:
        if not status.is_terminal:
            raise ValueError(f"finish_job needs a terminal status, not {status.value}")
        row = q.fenced_row(conn, job_id, fencing_token)
        old_status = JobStatus(row["status"])
        start: dict[str, Any] = {}
        if started_at is not None and old_status is JobStatus.QUEUED:
            # It ran before `running` was stored: through running to its end, in one write.
            check_transition(old_status, JobStatus.RUNNING, job_id=job_id)
            old_status, start = JobStatus.RUNNING, {"started_at": started_at}
        check_transition(old_status, status, job_id=job_id)
        now = self._clock.now()
        q.insert_outputs(conn, [output_values(job_id, output) for output in outputs])
        detail = error.code if error else None
        had_attempt = q.close_open_attempt(conn, job_id, now, status.value, detail)
        # An attempt counts only if it started executing (API.md): a job cancelled or
        # refused while still queued gives its open attempt back.
        uncount = had_attempt and old_status is JobStatus.QUEUED
        finished = q.held_update(
            conn,
            job_id,
            fencing_token,
            attempts=q.ATTEMPTS_DOWN if uncount else q.ATTEMPTS_KEPT,
            status=status.value,
            completed_at=now,
            progress=100.0 if status is JobStatus.COMPLETED else row["progress"],
            progress_details=(
                row["progress_details"] if progress_details is None else progress_details
            ),
            error=error_to_json(error),
            timings={**row["timings"], **(timings or {})},
            claimed_by=None,
            lease_expires_at=None,
            **start,
        )
        job = job_from_row(finished, outputs)
        q.insert_outbox_entry(conn, job, now)
        return job

    @transaction(write=True)
    def release_job(
        self, conn: Connection, job_id: str, fencing_token: int, count_attempt: bool
    ) -> Job:
        row = q.fenced_row(conn, job_id, fencing_token)
        status = JobStatus(row["status"])
        if status is not JobStatus.QUEUED:
            check_transition(status, JobStatus.QUEUED, job_id=job_id)
        outcome = "retried" if count_attempt else "released"
        had_attempt = q.close_open_attempt(conn, job_id, self._clock.now(), outcome)
        values: dict[str, Any] = {"status": JobStatus.QUEUED.value}
        if had_attempt and not count_attempt:
            values["attempts"] = jobs.c.attempts - 1
        q.update_job(conn, job_id, claimed_by=None, lease_expires_at=None, **values)
        return q.load_job(conn, job_id)


def _check_lease(lease_s: float) -> None:
    if lease_s <= 0:
        raise ValueError(f"a lease must last a positive time, not {lease_s} s")
