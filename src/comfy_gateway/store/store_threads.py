"""Where the store's SQL runs: whole transactions on a few threads, one hop each.

The store's methods are async, but each transaction is plain synchronous SQLAlchemy
Core run on a thread of its own: the event loop hands the whole transaction over once
and gets the result back once. (An async driver such as aiosqlite hands *every*
statement, cursor and fetch to its thread and back: about a dozen round trips for a
two-query read, which measured three times slower than this.)

Writes go to one thread when the database takes one writer at a time (SQLite), so
writers queue here instead of in SQLite's busy handler, which sleeps and retries.
Reads use a small pool beside it.

An embedded database (SQLite) can do better still: given an ``inline_engine`` that never
waits for a lock (busy timeout 0), a transaction first runs right on the event loop,
where one job's read or write takes less time than the hand-off to a thread and back.
Only if the database is locked (another process is writing, or our own writer thread
is) does it go to the threads, which wait for the lock. A read may be retried there
at any point (it changed nothing); a write only when its ``BEGIN`` found the lock
taken, before anything was written.

A transaction that has started runs to its end even if the awaiting task is cancelled:
its outcome is then committed or rolled back whole, never cut in the middle.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from comfy_gateway.jobs.errors import ConstraintViolation, StoreError

# Execution option marking a connection whose transactions will write; the dialect
# setup reads it to begin with a write lock (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "comfy_gateway_write"
DEFAULT_READ_THREADS = 2
#: Set (in its own task) by a caller that must never hold the event loop, such as the
#: worker's background bookkeeping: its transactions go to the threads, even those that
#: would run on the loop without waiting, so the loop goes on reading sockets meanwhile.
OFF_THE_LOOP: ContextVar[bool] = ContextVar("comfy_gateway_store_off_the_loop", default=False)

T = TypeVar("T")
P = ParamSpec("P")


class TransactionRunner(Protocol):
    """Something that runs a synchronous transaction body on its store thread."""

    async def run_transaction(self, body: Callable[[Connection], T], *, write: bool) -> T: ...


R = TypeVar("R", bound=TransactionRunner)


class StoreThreads:
    """The engine and the threads its transactions run on."""

    def __init__(
        self,
        engine: Engine,
        *,
        single_writer: bool,
        inline_engine: Engine | None = None,
        read_threads: int = DEFAULT_READ_THREADS,
    ) -> None:
        self.engine = engine
        self._inline = inline_engine
        self._inline_write = (
            inline_engine.execution_options(**{WRITE_OPTION: True}) if inline_engine else None
        )
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="store-read")
        self._writer = (
            ThreadPoolExecutor(1, thread_name_prefix="store-write")
            if single_writer
            else self._readers
        )
        self._closed = False
        #: The inline engine's connections, kept open between transactions (a checkout
        #: from the pool and its reset on return cost more than a short transaction):
        #: one for reads and one for writes per thread that runs transactions inline.
        self._inline_connections: dict[tuple[int, bool], Connection] = {}

    @property
    def engines(self) -> tuple[Engine, ...]:
        """Every engine a transaction may run on."""
        return (self.engine,) if self._inline is None else (self.engine, self._inline)

    async def run(self, body: Callable[[Connection], T], *, write: bool) -> T:
        """``body(conn)`` inside one transaction on a store thread; its result."""
        if self._closed:
            raise StoreError("the job store is closed")
        if self._inline is not None and not OFF_THE_LOOP.get():
            try:
                with _store_errors():
                    return self._inline_transaction(body, write)
            except _Locked:
                pass  # the threads wait for the lock
        executor = self._writer if write else self._readers
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._transaction, body, write)

    def _transaction(self, body: Callable[[Connection], T], write: bool) -> T:
        with _store_errors(), (self._write_engine if write else self.engine).begin() as conn:
            return body(conn)

    def _inline_connection(self, write: bool) -> Connection:
        key = (threading.get_ident(), write)
        conn = self._inline_connections.get(key)
        if conn is None or conn.closed or conn.invalidated:
            engine = self._inline_write if write else self._inline
            assert engine is not None
            conn = self._inline_connections[key] = engine.connect()
        return conn

    def _inline_transaction(self, body: Callable[[Connection], T], write: bool) -> T:
        conn = self._inline_connection(write)
        try:
            transaction = conn.begin()
        except OperationalError as exc:
            if _is_locked(exc):
                raise _Locked() from exc
            raise
        try:
            result = body(conn)
        except OperationalError as exc:
            transaction.rollback()
            if not write and _is_locked(exc):
                raise _Locked() from exc
            raise
        except BaseException:
            transaction.rollback()
            raise
        transaction.commit()
        return result

    async def close(self) -> None:
        """Refuse new work, let started transactions finish, close every connection."""
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        for conn in self._inline_connections.values():
            conn.close()
        self._inline_connections.clear()
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()


class _Locked(Exception):
    """The inline attempt found the database locked: run it on a thread instead."""


#: SQLite's result codes for "another connection holds the lock".
_LOCKED_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED


def _is_locked(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlite_errorcode", None) in _LOCKED_CODES


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """The driver's errors as the store's: a refused write, or a failure."""
    try:
        yield
    except IntegrityError as exc:
        raise ConstraintViolation(f"the job store refused a write: {exc.orig}") from exc
    except DBAPIError as exc:
        raise StoreError(f"the job store failed: {exc.orig}") from exc


def transaction(
    *, write: bool
) -> Callable[
    [Callable[Concatenate[R, Connection, P], T]],
    Callable[Concatenate[R, P], Coroutine[Any, Any, T]],
]:
    """Make a synchronous ``method(self, conn, ...)`` an async ``method(self, ...)``
    whose body runs as one transaction on the store's thread."""

    def decorate(
        body: Callable[Concatenate[R, Connection, P], T],
    ) -> Callable[Concatenate[R, P], Coroutine[Any, Any, T]]:
        @functools.wraps(body)
        async def run(self: R, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return await self.run_transaction(
                lambda conn: body(self, conn, *args, **kwargs), write=write
            )

        return run

    return decorate
