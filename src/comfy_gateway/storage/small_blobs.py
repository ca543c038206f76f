"""Small blobs in one SQLite file beside the large ones (see `LocalBlobStore`).

Storing a small output as a file costs more than the bytes: a folder for its job, a
temporary file, an fsync, a rename, each a round of filesystem syscalls, run on a worker
thread that the event loop hands the work to and waits for. Measured on this project's
2-core machine for a 5 KB output on a job's path: 1.5 to 2.5 ms, most of it creating
files and handing work to threads. A row in SQLite is one short transaction on the
event loop (about 0.1 ms), and reading it back is one SELECT.

Durability is the job store's own (both are SQLite in WAL mode, synchronous=NORMAL): a
blob is committed before the job that names it is finished, and survives a killed
process; a power cut may lose the last commits of either, as it may the job's record
itself. (Large blobs, files, are fsynced.) Writes first run right on the event loop
through a connection that never waits for a lock; when another process holds the lock
they move to a thread whose connection waits (``busy_timeout``). Reads never wait for
writers (WAL).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from comfy_gateway.storage.blobs import BlobStoreError, StorageFull

T = TypeVar("T")
#: The largest blob kept in the database; larger ones are files.
SMALL_BLOB_BYTES = 256 * 1024
DEFAULT_BUSY_TIMEOUT_MS = 10_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS blobs ("
    " key TEXT PRIMARY KEY, content BLOB NOT NULL, content_type TEXT, sha256 TEXT NOT NULL)"
)
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_FULL_CODES = frozenset({13})  # SQLITE_FULL


@dataclass(frozen=True, slots=True)
class SmallBlob:
    content: bytes
    content_type: str | None
    sha256: str


@dataclass(frozen=True, slots=True)
class SmallBlobInfo:
    size_bytes: int
    content_type: str | None
    sha256: str


class SmallBlobs:
    """Key → bytes in ``path`` (made if missing); safe for several processes at once."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        # The waiting connection lives on its one thread; it also makes the schema.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="small-blobs")
        self._waiting = self._thread.submit(self._connect, busy_timeout_ms).result()
        self._thread.submit(self._waiting.execute, _SCHEMA).result()
        self._inline = self._connect(0)
        self._inline_lock = threading.Lock()  # one user at a time (the loop, normally)

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        for pragma in (
            f"busy_timeout = {int(busy_timeout_ms)}",
            "journal_mode = WAL",
            "synchronous = NORMAL",
        ):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    async def put(self, key: str, content: bytes, content_type: str | None, sha256: str) -> None:
        await self._write(
            "INSERT OR REPLACE INTO blobs (key, content, content_type, sha256) VALUES (?,?,?,?)",
            (key, content, content_type, sha256),
        )

    async def get(self, key: str) -> SmallBlob | None:
        row = await self._read(
            "SELECT content, content_type, sha256 FROM blobs WHERE key = ?", (key,)
        )
        return None if row is None else SmallBlob(bytes(row[0]), row[1], row[2])

    async def stat(self, key: str) -> SmallBlobInfo | None:
        row = await self._read(
            "SELECT length(content), content_type, sha256 FROM blobs WHERE key = ?", (key,)
        )
        return None if row is None else SmallBlobInfo(int(row[0]), row[1], row[2])

    async def delete(self, key: str) -> bool:
        return await self._write("DELETE FROM blobs WHERE key = ?", (key,)) > 0

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix/``; how many there were."""
        # Keys under "p/" sort from "p/" up to (not including) "p0" ('0' follows '/').
        return await self._write(
            "DELETE FROM blobs WHERE key >= ? AND key < ?", (f"{prefix}/", f"{prefix}0")
        )

    def close(self) -> None:
        with self._inline_lock:
            self._inline.close()
        self._thread.submit(self._waiting.close).result()
        self._thread.shutdown(wait=True)

    # -- where a statement runs ---------------------------------------------------------

    async def _write(self, sql: str, arguments: Sequence[Any]) -> int:
        return await self._run(lambda conn: _write_on(conn, sql, arguments))

    async def _read(self, sql: str, arguments: Sequence[Any]) -> Any:
        return await self._run(lambda conn: conn.execute(sql, arguments).fetchone())

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._inline_lock.acquire(blocking=False):
            try:
                return self._guarded(work, self._inline, may_retry=True)
            except _Busy:
                pass  # another process writes: wait for it on the thread
            finally:
                self._inline_lock.release()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._guarded, work, self._waiting, False)

    def _guarded(
        self, work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection, may_retry: bool
    ) -> T:
        """``work(conn)`` with SQLite's errors as the blob store's."""
        try:
            return work(conn)
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if code in _BUSY_CODES and may_retry:
                raise _Busy() from exc
            if code in _FULL_CODES:
                raise StorageFull(
                    f"the small-blob database {self.path} is full ({exc}); free space in "
                    "the blob store's folder"
                ) from exc
            raise BlobStoreError(f"the small-blob database {self.path} failed: {exc}") from exc


class _Busy(Exception):
    """The inline connection met a lock: run the work where waiting is allowed."""


def _write_on(conn: sqlite3.Connection, sql: str, arguments: Sequence[Any]) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        changed = conn.execute(sql, arguments).rowcount
    except BaseException:
        if conn.in_transaction:  # some errors (a full disk) already rolled it back
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(changed)
