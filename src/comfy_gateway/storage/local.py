"""A `BlobStore` on a local folder.

Writes go to a temporary file beside the target and are renamed into place, so a reader
never sees half a blob and a crash leaves no partial file under the key. File I/O and
hashing run in a worker thread so the event loop stays free, in few hand-offs: the
temporary file is made while the first bytes are still on their way (creating files is
the slow part on many disks), incoming chunks are gathered into writes of about a
megabyte, a blob that fits in one is written and committed in a single hand-off, and a
read opens, reads and (at the end) closes in the same one. A full disk (ENOSPC, or
EDQUOT for a quota) is reported as `StorageFull`, after the temporary file is removed.

The content type lives in a sidecar file only when the key's extension does not already
say it (Python's own table, never the machine's, so the answer cannot change under a
stored blob): a ``.png`` needs no second file.

Blobs up to ``small_blob_bytes`` (256 KiB) are not files at all: they are rows of one
SQLite file in the root (``.small-blobs.sqlite3``, a name no key can take), written and
read on the event loop (see ``small_blobs.py`` for why and what it costs). Reads look
there first. A key is stored in one place: a large blob replacing a small one deletes
the row first, a small one replacing a file shadows it until the key is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import mimetypes
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
from comfy_gateway.storage.small_blobs import SMALL_BLOB_BYTES, SmallBlobs

_META_SUFFIX = ".meta.json"
#: The small-blob database in the root: a dot-name, which no key segment may start with.
SMALL_BLOBS_FILE = ".small-blobs.sqlite3"
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

# How a chunk reaches the temporary file; tests inject one that fails like a full disk.
FileWriter = Callable[[IO[bytes], bytes], object]
#: Incoming chunks are joined into writes of at least this size (the last may be less).
WRITE_BATCH_BYTES = 1 << 20
#: Python's built-in extension table only (no /etc/mime.types): the same on every machine.
_BUILTIN_TYPES = mimetypes.MimeTypes(filenames=())


def type_from_extension(path: Path) -> str | None:
    """The content type a key's extension implies, from Python's own table."""
    return _BUILTIN_TYPES.guess_type(path.name)[0]


def write_to_file(handle: IO[bytes], chunk: bytes) -> None:
    handle.write(chunk)


class LocalBlobStore:
    """Blobs as files under ``root`` (the small ones as rows of a SQLite file there)."""

    def __init__(
        self,
        root: Path,
        *,
        file_writer: FileWriter = write_to_file,
        small_blob_bytes: int = SMALL_BLOB_BYTES,
    ) -> None:
        """``small_blob_bytes=0``: every blob is a file."""
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._file_writer = file_writer
        self._small_limit = small_blob_bytes
        self._small = SmallBlobs(self.root / SMALL_BLOBS_FILE) if small_blob_bytes > 0 else None

    def close(self) -> None:
        """Close the small-blob database (files need nothing)."""
        if self._small is not None:
            self._small.close()

    @staticmethod
    def checked_key(key: str) -> str:
        """``key`` if it is a safe key for this store (no filesystem access)."""
        if check_blob_key(key).endswith(_META_SUFFIX):
            raise InvalidBlobKey(f"blob key {key!r} ends with the reserved {_META_SUFFIX!r}")
        return key

    def path_for(self, key: str) -> Path:
        """The file of ``key``, symlinks resolved (a syscall per folder): only for files."""
        path = (self.root / self.checked_key(key)).resolve()
        if not path.is_relative_to(self.root):  # symlinks inside root pointing out
            raise BlobNotFound(f"blob {key!r} resolves outside the store")
        return path

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        if self._small is None:
            return await self._put_file(key, self.path_for(key), chunks, content_type)
        self.checked_key(key)
        head, more = await _read_up_to(chunks, self._small_limit)
        if not more:
            digest = hashlib.sha256(head).hexdigest()
            await self._small.put(key, head, content_type, digest)
            return BlobInfo(key=key, size_bytes=len(head), sha256=digest, content_type=content_type)
        target = self.path_for(key)
        await self._small.delete(key)  # a small blob stored earlier under the key gives way
        return await self._put_file(key, target, _after(head, chunks), content_type)

    async def _put_file(
        self, key: str, target: Path, chunks: AsyncIterator[bytes], content_type: str | None
    ) -> BlobInfo:
        batches = _batched(chunks, WRITE_BATCH_BYTES)
        with _disk_full_as_storage_full(key):
            # Made while the first bytes are on their way (an output still being fetched).
            opening = asyncio.ensure_future(
                asyncio.to_thread(_Incoming.open_beside, target, self._file_writer)
            )
            try:
                first = await anext(batches, b"")
                second = await anext(batches, None)
                incoming = await opening
            except BaseException:
                await _discard_when_made(opening)
                raise
            try:
                if second is None:  # the whole blob is in hand: write and commit at once
                    await asyncio.to_thread(incoming.write_and_commit, first, target, content_type)
                    return BlobInfo(
                        key=key,
                        size_bytes=len(first),
                        sha256=incoming.digest.hexdigest(),
                        content_type=content_type,
                    )
                size = await self._write_all(incoming, [first, second], batches)
                await asyncio.to_thread(incoming.commit, target, content_type)
            except BaseException:
                await asyncio.to_thread(incoming.discard)
                raise
        return BlobInfo(
            key=key, size_bytes=size, sha256=incoming.digest.hexdigest(), content_type=content_type
        )

    @staticmethod
    async def _write_all(
        incoming: _Incoming, head: list[bytes], batches: AsyncIterator[bytes]
    ) -> int:
        size = 0
        for batch in head:
            await asyncio.to_thread(incoming.write, batch)
            size += len(batch)
        async for batch in batches:
            await asyncio.to_thread(incoming.write, batch)
            size += len(batch)
        return size

    async def stat(self, key: str) -> BlobInfo | None:
        small = await self._small.stat(self.checked_key(key)) if self._small is not None else None
        if small is not None:
            return BlobInfo(
                key=key,
                size_bytes=small.size_bytes,
                sha256=small.sha256,
                content_type=small.content_type,
            )
        return await asyncio.to_thread(_stat, key, self.path_for(key))

    async def read(
        self, key: str, blob_range: BlobRange | None = None, *, chunk_size: int = 1 << 20
    ) -> AsyncIterator[bytes]:
        small = await self._small.get(self.checked_key(key)) if self._small is not None else None
        if small is not None:
            content = small.content
            if blob_range is not None:
                content = content[blob_range.start : blob_range.end + 1]
            for offset in range(0, len(content), chunk_size):
                yield content[offset : offset + chunk_size]
            return
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
        small = await self._small.delete(key) if self._small is not None else False
        return await asyncio.to_thread(_delete, path) or small

    def url_for(self, key: str) -> str | None:
        return None

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix/`` (e.g. ``{tenant}/{job_id}``),
        and the folder that held them; return how many blobs were deleted."""
        folder = (self.root / check_blob_key(prefix)).resolve()
        if folder == self.root or not folder.is_relative_to(self.root):
            raise InvalidBlobKey(f"blob prefix {prefix!r} does not name a folder in the store")
        small = await self._small.delete_prefix(prefix) if self._small is not None else 0
        return small + await asyncio.to_thread(_delete_folder, folder)


@dataclass
class _Incoming:
    """A temporary file beside the target, hashed as it is written."""

    handle: IO[bytes]
    path: Path
    writer: FileWriter
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    @classmethod
    def open_beside(cls, target: Path, writer: FileWriter) -> _Incoming:
        """A new, empty temporary file in the target's folder (made if missing)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        return cls(handle=os.fdopen(fd, "wb"), path=Path(name), writer=writer)

    def write_and_commit(self, data: bytes, target: Path, content_type: str | None) -> None:
        """``data`` as the whole blob, renamed into place at ``target``."""
        self.write(data)
        self.commit(target, content_type)

    def write(self, chunk: bytes) -> None:
        self.writer(self.handle, chunk)
        self.digest.update(chunk)

    def commit(self, target: Path, content_type: str | None) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        meta = target.with_name(target.name + _META_SUFFIX)
        if content_type == type_from_extension(target):
            meta.unlink(missing_ok=True)  # a blob stored again under the key
        else:
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


async def _read_up_to(chunks: AsyncIterator[bytes], limit: int) -> tuple[bytes, bool]:
    """The first bytes of ``chunks``, until the end or past ``limit`` bytes; and whether
    more may follow (True once past ``limit``: the caller goes on with the rest)."""
    head: list[bytes] = []
    size = 0
    async for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(head), True
    return b"".join(head), False


async def _after(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


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


async def _discard_when_made(opening: asyncio.Future[_Incoming]) -> None:
    """The temporary file being made is not wanted: remove it once it exists."""
    try:
        incoming = await asyncio.shield(opening)
    except BaseException:  # never made, or our own wait was cancelled
        if not opening.done():
            opening.add_done_callback(_discard_late)
        return
    await asyncio.to_thread(incoming.discard)


def _discard_late(opening: asyncio.Future[_Incoming]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().discard()


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
    try:
        content_type = json.loads(meta.read_text()).get("content_type")
    except FileNotFoundError:
        content_type = type_from_extension(path)
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
