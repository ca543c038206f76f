"""The embedded job store: one SQLite file, safe for several processes at once.

WAL lets readers run beside the writer; every write transaction starts with
``BEGIN IMMEDIATE``, so it takes the write lock before reading anything and two
claimers (even in two processes) can never read the same candidate row;
``busy_timeout`` makes a writer wait for the lock instead of failing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from comfy_gateway.store.clock import Clock
from comfy_gateway.store.sql_store import IDEMPOTENCY_TTL_S, SqlJobStore
from comfy_gateway.store.store_threads import WRITE_OPTION

DEFAULT_BUSY_TIMEOUT_MS = 10_000


def install_sqlite_setup(engine: Engine, busy_timeout_ms: int) -> None:
    """Pragmas on every new connection; we emit BEGIN ourselves (see module doc)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN would be DEFERRED; turn it off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            f"busy_timeout = {int(busy_timeout_ms)}",
            "journal_mode = WAL",
            "synchronous = NORMAL",
            "foreign_keys = ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writes = conn.get_execution_options().get(WRITE_OPTION, False)
        statement = "BEGIN IMMEDIATE" if writes else "BEGIN"
        # Straight to the driver: every transaction starts here, and SQLAlchemy's full
        # execute path costs more than the BEGIN; a driver error is wrapped as it would.
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        try:
            dbapi_connection.execute(statement)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


async def open_sqlite_store(
    path: str | Path,
    *,
    clock: Clock | None = None,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    idempotency_ttl_s: float = IDEMPOTENCY_TTL_S,
) -> SqlJobStore:
    """Open (creating and migrating if needed) the SQLite job store at ``path``."""
    engine = create_engine(f"sqlite:///{Path(path)}")
    install_sqlite_setup(engine, busy_timeout_ms)
    # Tried first, on the event loop: it must never wait for a lock (busy timeout 0).
    inline_engine = create_engine(f"sqlite:///{Path(path)}", pool_size=1, max_overflow=1)
    install_sqlite_setup(inline_engine, busy_timeout_ms=0)
    store = SqlJobStore(
        engine,
        clock=clock,
        serialize_writes=True,
        inline_engine=inline_engine,
        idempotency_ttl_s=idempotency_ttl_s,
    )
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store
