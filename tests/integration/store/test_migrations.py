"""The Alembic migrations build exactly the schema declared in ``store/schema.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from comfy_gateway.store import open_sqlite_store
from comfy_gateway.store.schema import metadata
from integration.store.job_builders import TENANT, make_new_job


def _schema_differences(connection: Connection, target: sa.MetaData) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target))


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_migrations_build_the_declared_schema(tmp_path: Path) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        differences = await store.run_transaction(
            lambda conn: _schema_differences(conn, metadata), write=False
        )
        revision = await store.run_transaction(_current_revision, write=False)
    finally:
        await store.close()

    assert differences == []
    assert revision is not None


async def test_the_comparison_would_notice_a_drift(tmp_path: Path) -> None:
    # Guards the test above: a schema that differs from the migrations must show up.
    drifted = sa.MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    sa.Table("jobs", drifted, sa.Column("extra_column", sa.Integer), extend_existing=True)
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        differences = await store.run_transaction(
            lambda conn: _schema_differences(conn, drifted), write=False
        )
    finally:
        await store.close()

    assert [diff[0] for diff in differences] == ["add_column"]


async def test_reopening_a_migrated_store_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    first = await open_sqlite_store(path)
    job, _ = await first.create_job(make_new_job())
    await first.close()

    second = await open_sqlite_store(path)
    try:
        assert await second.get_job(TENANT, job.job_id) == job
    finally:
        await second.close()
