"""Fenced updates are built once per shape, from data and the shared expressions only."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from comfy_gateway.store import open_sqlite_store
from comfy_gateway.store import sql_queries as q
from comfy_gateway.store.schema import jobs
from integration.store.job_builders import make_new_job


async def test_a_fresh_expression_is_refused_and_the_same_shape_is_built_once(
    tmp_path: Path,
) -> None:
    store = await open_sqlite_store(tmp_path / "jobs.sqlite3")
    try:
        await store.create_job(make_new_job())
        claim = await store.claim_next_job("w", 30)
        assert claim is not None
        job_id, token = claim.job.job_id, claim.fencing_token

        def attempt_twice(conn: Connection) -> int:
            for prompt in ("p-1", "p-2"):
                q.held_update(conn, job_id, token, prompt_id=prompt, attempts=q.ATTEMPTS_UP)
            return len(q._HELD_UPDATES)

        before = len(q._HELD_UPDATES)
        after = await store.run_transaction(attempt_twice, write=True)
        assert after - before <= 1  # one statement for the shape, reused
        assert (await store.get_job(claim.job.tenant_id, job_id)).attempts == 2

        def fresh_expression(conn: Connection) -> None:
            q.held_update(conn, job_id, token, attempts=jobs.c.attempts + 5)

        with pytest.raises(ValueError, match="shared expressions"):
            await store.run_transaction(fresh_expression, write=True)
    finally:
        await store.close()
