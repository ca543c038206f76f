"""Where the store's SQL runs: whole transactions on a few threads, one hop each.

The store's methods are async, but each transaction is plain synchronous SQLAlchemy
Core run on a thread of its own: the event loop hands the whole transaction over once
and gets the result back once. (An async driver such as aiosqlite hands *every*
statement, cursor and fetch to its thread and back: about a dozen round trips for a
two-query read, which measured three times slower than this.)

Writes go to one thread when the database takes one writer at a time (SQLite), so
writers queue here instead of in SQLite's busy handler, which sleeps and retries.
Reads use a small pool beside it, or, for an embedded database whose readers never wait
(SQLite in WAL mode: a reader reads its snapshot while a writer writes), run right on
the event loop: a read of one job takes less time there than the hand-off to a thread
and back. A transaction that has started runs to its end even if the awaiting task is
cancelled: its outcome is then committed or rolled back whole, never cut in the middle.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from comfy_gateway.jobs.errors import ConstraintViolation, StoreError

# Execution option marking a connection whose transactions will write; the dialect
# setup reads it to begin with a write lock (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "comfy_gateway_write"
DEFAULT_READ_THREADS = 2

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
        inline_reads: bool = False,
        read_threads: int = DEFAULT_READ_THREADS,
    ) -> None:
        self.engine = engine
        self._inline_reads = inline_reads
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._readers = ThreadPoolExecutor(read_threads, thread_name_prefix="store-read")
        self._writer = (
            ThreadPoolExecutor(1, thread_name_prefix="store-write")
            if single_writer
            else self._readers
        )
        self._closed = False

    async def run(self, body: Callable[[Connection], T], *, write: bool) -> T:
        """``body(conn)`` inside one transaction on a store thread; its result."""
        if self._closed:
            raise StoreError("the job store is closed")
        if self._inline_reads and not write:
            return self._transaction(body, write)
        executor = self._writer if write else self._readers
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, self._transaction, body, write)

    def _transaction(self, body: Callable[[Connection], T], write: bool) -> T:
        try:
            with (self._write_engine if write else self.engine).begin() as conn:
                return body(conn)
        except IntegrityError as exc:
            raise ConstraintViolation(f"the job store refused a write: {exc.orig}") from exc
        except DBAPIError as exc:
            raise StoreError(f"the job store failed: {exc.orig}") from exc

    async def close(self) -> None:
        """Refuse new work, let started transactions finish, close every connection."""
        self._closed = True
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()


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
