"""A `BlobStore` on a local folder.

Writes go to a temporary file beside the target and are renamed into place, so a reader
never sees half a blob and a crash leaves no partial file under the key. File I/O and
hashing run in a worker thread so the event loop stays free, in few hand-offs: incoming
chunks are gathered into writes of about a megabyte, a blob that fits in one is written
and committed in a single hand-off, and a read opens, reads and (at the end) closes in
the same one. A full disk (ENOSPC, or EDQUOT for a quota) is reported as
`StorageFull`, after the temporary file is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from comfy_gateway.storage.blobs import (
    BlobInfo,
    BlobNotFound,
    BlobRange,
    InvalidBlobKey,
    StorageFull,
    check_blob_key,
)

_META_SUFFIX = ".meta.json"
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

# How a chunk reaches the temporary file; tests inject one that fails like a full disk.
FileWriter = Callable[[IO[bytes], bytes], object]
#: Incoming chunks are joined into writes of at least this size (the last may be less).
WRITE_BATCH_BYTES = 1 << 20


def write_to_file(handle: IO[bytes], chunk: bytes) -> None:
    handle.write(chunk)


class LocalBlobStore:
    """Blobs as files under ``root``; a small JSON sidecar keeps the content type."""

    def __init__(self, root: Path, *, file_writer: FileWriter = write_to_file) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._file_writer = file_writer

    def path_for(self, key: str) -> Path:
        if check_blob_key(key).endswith(_META_SUFFIX):
            raise InvalidBlobKey(f"blob key {key!r} ends with the reserved {_META_SUFFIX!r}")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):  # symlinks inside root pointing out
            raise BlobNotFound(f"blob {key!r} resolves outside the store")
        return path

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        target = self.path_for(key)
        batches = _batched(chunks, WRITE_BATCH_BYTES)
        with _disk_full_as_storage_full(key):
            first = await anext(batches, b"")
            second = await anext(batches, None)
            if second is None:  # the whole blob is in hand: write and commit at once
                digest = await asyncio.to_thread(
                    _Incoming.write_whole, target, self._file_writer, first, content_type
                )
                return BlobInfo(
                    key=key, size_bytes=len(first), sha256=digest, content_type=content_type
                )
            incoming = await asyncio.to_thread(
                _Incoming.open_beside, target, self._file_writer, first
            )
            size = len(first)
            try:
                await asyncio.to_thread(incoming.write, second)
                size += len(second)
                async for batch in batches:
                    await asyncio.to_thread(incoming.write, batch)
                    size += len(batch)
                await asyncio.to_thread(incoming.commit, target, content_type)
            except BaseException:
                await asyncio.to_thread(incoming.discard)
                raise
        return BlobInfo(
            key=key, size_bytes=size, sha256=incoming.digest.hexdigest(), content_type=content_type
        )

    async def stat(self, key: str) -> BlobInfo | None:
        path = self.path_for(key)
        return await asyncio.to_thread(_stat, key, path)

    async def read(
        self, key: str, blob_range: BlobRange | None = None, *, chunk_size: int = 1 << 20
    ) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        start = blob_range.start if blob_range else 0
        remaining = blob_range.length if blob_range else -1
        reader = _Reader(path)
        try:
            while remaining != 0:
                want = chunk_size if remaining < 0 else min(chunk_size, remaining)
                try:
                    chunk = await asyncio.to_thread(reader.read, start, want)
                except FileNotFoundError as exc:
                    raise BlobNotFound(f"no blob stored under {key!r}") from exc
                if chunk:
                    remaining -= len(chunk) if remaining > 0 else 0
                    yield chunk
                if reader.at_end:
                    break
        finally:
            if not reader.at_end:
                await asyncio.to_thread(reader.close)

    async def delete(self, key: str) -> bool:
        path = self.path_for(key)
        return await asyncio.to_thread(_delete, path)

    def url_for(self, key: str) -> str | None:
        return None

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix/`` (e.g. ``{tenant}/{job_id}``),
        and the folder that held them; return how many blobs were deleted."""
        folder = (self.root / check_blob_key(prefix)).resolve()
        if folder == self.root or not folder.is_relative_to(self.root):
            raise InvalidBlobKey(f"blob prefix {prefix!r} does not name a folder in the store")
        return await asyncio.to_thread(_delete_folder, folder)


@dataclass
class _Incoming:
    """A temporary file beside the target, hashed as it is written."""

    handle: IO[bytes]
    path: Path
    writer: FileWriter
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    @classmethod
    def open_beside(cls, target: Path, writer: FileWriter, first: bytes = b"") -> _Incoming:
        """A new temporary file in the target's folder (made if missing), ``first`` in it."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        incoming = cls(handle=os.fdopen(fd, "wb"), path=Path(name), writer=writer)
        if first:
            try:
                incoming.write(first)
            except BaseException:
                incoming.discard()
                raise
        return incoming

    @classmethod
    def write_whole(
        cls, target: Path, writer: FileWriter, data: bytes, content_type: str | None
    ) -> str:
        """Write ``data`` as the blob at ``target`` in one go; its sha256."""
        incoming = cls.open_beside(target, writer, data)
        try:
            incoming.commit(target, content_type)
        except BaseException:
            incoming.discard()
            raise
        return incoming.digest.hexdigest()

    def write(self, chunk: bytes) -> None:
        self.writer(self.handle, chunk)
        self.digest.update(chunk)

    def commit(self, target: Path, content_type: str | None) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        meta = target.with_name(target.name + _META_SUFFIX)
        meta.write_text(json.dumps({"content_type": content_type}))
        os.replace(self.path, target)

    def discard(self) -> None:
        # Closing flushes the buffer, which fails again on a full disk: remove the file
        # whatever the close says.
        with contextlib.suppress(OSError):
            self.handle.close()
        self.path.unlink(missing_ok=True)


class _Reader:
    """A blob file read in order; opened by the first read, closed by the one that
    reaches its end (or by ``close``)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._handle: IO[bytes] | None = None
        self.at_end = False

    def read(self, start: int, want: int) -> bytes:
        """Up to ``want`` bytes; the first read starts at ``start``."""
        if self._handle is None:
            self._handle = self._path.open("rb")
            self._handle.seek(start)
        chunk = self._handle.read(want)
        if len(chunk) < want:  # a regular file returns less only at its end
            self.close()
        return chunk

    def close(self) -> None:
        self.at_end = True
        if self._handle is not None:
            self._handle.close()


async def _batched(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """``chunks`` joined into pieces of at least ``size`` bytes (the last may be less)."""
    pending: list[bytes] = []
    pending_bytes = 0
    async for chunk in chunks:
        pending.append(chunk)
        pending_bytes += len(chunk)
        if pending_bytes >= size:
            yield b"".join(pending)
            pending, pending_bytes = [], 0
    if pending:
        yield b"".join(pending)


@contextlib.contextmanager
def _disk_full_as_storage_full(key: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno not in _DISK_FULL_ERRNOS:
            raise
        raise StorageFull(
            f"blob {key!r} was not stored: the disk or quota is full ({exc.strerror}); "
            "free space in the blob store's folder"
        ) from exc


def _stat(key: str, path: Path) -> BlobInfo | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    meta = path.with_name(path.name + _META_SUFFIX)
    content_type = json.loads(meta.read_text()).get("content_type") if meta.exists() else None
    return BlobInfo(key=key, size_bytes=size, sha256="", content_type=content_type)


def _delete(path: Path) -> bool:
    path.with_name(path.name + _META_SUFFIX).unlink(missing_ok=True)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _delete_folder(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    # Dot-names are sidecars and temporary files, never keys.
    blobs = sum(
        1
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(_META_SUFFIX)
    )
    shutil.rmtree(folder, ignore_errors=True)
    return blobs
