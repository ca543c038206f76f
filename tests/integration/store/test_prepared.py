"""`Prepared` statements run on the driver's cursor must behave exactly as the same
statement through ``Connection.execute``: the same values in the same types out, the
same SQLAlchemy errors, the same changed-row counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import DateTime, bindparam, create_engine, insert, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from comfy_gateway.store.column_types import UTCDateTime
from comfy_gateway.store.migrate import upgrade_to_head
from comfy_gateway.store.prepared import Prepared
from comfy_gateway.store.rows import new_job_values
from comfy_gateway.store.schema import job_outputs, jobs
from comfy_gateway.store.sqlite import install_sqlite_setup
from comfy_gateway.store.store_threads import WRITE_OPTION
from integration.store.job_builders import make_new_job

CREATED = datetime(2026, 12, 5, 11, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    install_sqlite_setup(engine, busy_timeout_ms=0)
    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def stored_row(job_id: str = "j1", **changes: object) -> dict[str, object]:
    values = {**new_job_values(make_new_job(job_id=job_id)), "created_at": CREATED}
    values.update(changes)
    return values


def test_a_row_comes_back_as_core_gives_it(engine: Engine) -> None:
    returning = Prepared(insert(jobs).returning(*jobs.c))
    by_id = select(jobs).where(jobs.c.job_id == bindparam("job_id"))
    lease = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    with engine.begin() as conn:
        inserted = returning.first(
            conn,
            stored_row(
                resolved_params={"seed": 7, "nested": [1, None]},
                claimed_by="w",
                lease_expires_at=lease,
                cancel_requested=True,
                error=None,
            ),
        )
        through_core = dict(conn.execute(by_id, {"job_id": "j1"}).mappings().one())
        prepared = Prepared(by_id).first(conn, {"job_id": "j1"})

    assert inserted == through_core == prepared
    assert prepared is not None
    assert prepared["created_at"] == CREATED
    assert prepared["created_at"].tzinfo is not None
    assert prepared["lease_expires_at"] == lease
    assert prepared["resolved_params"] == {"seed": 7, "nested": [1, None]}
    assert prepared["error"] is None  # SQL NULL, not the JSON text 'null'
    assert prepared["cancel_requested"] is True


def test_constant_conditions_and_limits_are_bound_once(engine: Engine) -> None:
    active = or_(jobs.c.status == "queued", jobs.c.status == "running")
    waiting = Prepared(select(jobs.c.job_id).where(active).order_by(jobs.c.job_id).limit(2))
    with engine.begin() as conn:
        for job_id, status in (("a", "queued"), ("b", "completed"), ("c", "running")):
            conn.execute(insert(jobs), stored_row(job_id, status=status))
        assert [row["job_id"] for row in waiting.rows(conn, {})] == ["a", "c"]


def test_counts_of_changed_rows_match(engine: Engine) -> None:
    bump = Prepared(
        update(jobs).where(jobs.c.status == bindparam("from_status")).values(priority=5)
    )
    with engine.begin() as conn:
        conn.execute(insert(jobs), [stored_row("a"), stored_row("b"), stored_row("c")])
        assert bump.execute(conn, {"from_status": "queued"}) == 3
        assert bump.execute(conn, {"from_status": "running"}) == 0


def test_many_rows_in_one_call(engine: Engine) -> None:
    outputs = Prepared(insert(job_outputs))
    row = {
        "job_id": "j1",
        "node_id": "9",
        "kind": "image",
        "filename": "a.png",
        "subfolder": "",
        "content_type": "image/png",
        "size_bytes": 3,
        "sha256": "x",
        "temporary": False,
        "storage_key": "t/j1/0-a.png",
    }
    with engine.begin() as conn:
        conn.execute(insert(jobs), stored_row("j1"))
        outputs.execute_many(conn, [{**row, "output_index": 0}, {**row, "output_index": 1}])
        stored = conn.execute(select(job_outputs.c.output_index)).scalars().all()
    assert sorted(stored) == [0, 1]


def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    insert_job = Prepared(insert(jobs))
    with engine.begin() as conn:
        insert_job.execute(conn, stored_row("same"))
        with pytest.raises(IntegrityError) as caught:
            insert_job.execute(conn, stored_row("same"))
    assert isinstance(caught.value.orig, sqlite3.IntegrityError)


def test_a_locked_database_is_sqlalchemys_operational_error(engine: Engine) -> None:
    bump = Prepared(update(jobs).values(priority=1))
    holder = sqlite3.connect(engine.url.database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        conn: Connection
        with engine.connect() as conn, pytest.raises(OperationalError) as caught:
            bump.execute(conn, {})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert getattr(caught.value.orig, "sqlite_errorcode", None) == 5  # SQLITE_BUSY


def test_an_expanding_parameter_is_refused(engine: Engine) -> None:
    expanding = Prepared(select(jobs.c.job_id).where(jobs.c.status.in_(["queued", "running"])))
    with engine.connect() as conn, pytest.raises(ValueError, match="cannot expand"):
        expanding.rows(conn, {})


def test_runs_inside_the_callers_transaction(engine: Engine) -> None:
    insert_job = Prepared(insert(jobs))
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    with write_engine.connect() as conn:
        transaction = conn.begin()
        insert_job.execute(conn, stored_row("rolled-back"))
        transaction.rollback()
    with engine.connect() as conn:
        assert conn.execute(select(jobs.c.job_id)).all() == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 5, 11, 0, 0, tzinfo=UTC),  # no microseconds: still written
        datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=timezone(timedelta(hours=-7))),
    ],
)
def test_times_are_written_and_read_as_sqlalchemys_sqlite_text(moment: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime()
    write, read = ours.bind_processor(dialect), ours.result_processor(dialect, None)
    assert write is not None
    assert read is not None
    naive_utc = moment.astimezone(UTC).replace(tzinfo=None)
    core_write = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert core_write is not None

    text = write(moment)

    assert text == core_write(naive_utc)  # the text SQLAlchemy itself stores (and sorts)
    assert read(text) == moment
    assert read(None) is None
    assert write(None) is None
    with pytest.raises(ValueError, match="naive"):
        write(naive_utc)
