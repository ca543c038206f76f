"""A full disk: `put` raises `StorageFull` and leaves nothing behind; and `delete_prefix`."""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

import pytest

from comfy_gateway.storage import InvalidBlobKey, LocalBlobStore
from comfy_gateway.storage.blobs import BlobStoreError, StorageFull


class FillsUpAfter:
    """A file writer that writes ``room`` bytes, then fails as a full disk would."""

    def __init__(self, room: int, code: int = errno.ENOSPC) -> None:
        self.room = room
        self.code = code
        self.failed = False

    def __call__(self, handle: IO[bytes], chunk: bytes) -> None:
        if len(chunk) > self.room:
            handle.write(chunk[: self.room])
            handle.flush()  # the partial write is on disk, in the temporary file
            self.failed = True
            raise OSError(self.code, os.strerror(self.code))
        self.room -= len(chunk)
        handle.write(chunk)


async def chunks(count: int, size: int = 1000) -> AsyncIterator[bytes]:
    for number in range(count):
        yield bytes([number]) * size


def files_under(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
async def test_a_full_disk_raises_storage_full_and_leaves_no_file(
    tmp_path: Path, code: int
) -> None:
    writer = FillsUpAfter(room=2500, code=code)
    blobs = LocalBlobStore(tmp_path / "blobs", small_blob_bytes=0, file_writer=writer)
    with pytest.raises(StorageFull) as caught:
        await blobs.put("acme/job/0-out.png", chunks(5), content_type="image/png")
    assert writer.failed
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == code
    assert files_under(blobs.root) == []
    assert await blobs.stat("acme/job/0-out.png") is None


async def test_a_full_disk_keeps_the_blob_that_was_there(tmp_path: Path) -> None:
    writer = FillsUpAfter(room=1500)
    blobs = LocalBlobStore(tmp_path / "blobs", small_blob_bytes=0, file_writer=writer)
    await blobs.put("acme/job/0-out.png", chunks(1))
    with pytest.raises(StorageFull):
        await blobs.put("acme/job/0-out.png", chunks(3))
    assert files_under(blobs.root) == ["acme/job/0-out.png", "acme/job/0-out.png.meta.json"]
    assert (blobs.root / "acme/job/0-out.png").read_bytes() == bytes([0]) * 1000


async def test_other_io_errors_are_not_storage_full(tmp_path: Path) -> None:
    blobs = LocalBlobStore(
        tmp_path / "blobs", small_blob_bytes=0, file_writer=FillsUpAfter(0, code=errno.EIO)
    )
    with pytest.raises(OSError, match="Input/output error") as caught:
        await blobs.put("acme/job/0-out.png", chunks(2))
    assert not isinstance(caught.value, StorageFull)
    assert caught.value.errno == errno.EIO
    assert files_under(blobs.root) == []


def test_storage_full_is_a_blob_store_error() -> None:
    assert issubclass(StorageFull, BlobStoreError)


async def test_delete_prefix_removes_one_job_folder_only(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs", small_blob_bytes=0)
    for key in ("acme/j1/0-a.png", "acme/j1/media/x.png", "acme/j2/0-a.png", "beta/j1/0-a.png"):
        await blobs.put(key, chunks(1))
    assert await blobs.delete_prefix("acme/j1") == 2
    assert files_under(blobs.root) == [
        "acme/j2/0-a.png",
        "acme/j2/0-a.png.meta.json",
        "beta/j1/0-a.png",
        "beta/j1/0-a.png.meta.json",
    ]
    assert await blobs.delete_prefix("acme/j1") == 0


@pytest.mark.parametrize("prefix", ["", "/", "..", "acme/..", "acme/../..", "./acme"])
async def test_delete_prefix_refuses_the_root_and_escapes(tmp_path: Path, prefix: str) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs", small_blob_bytes=0)
    await blobs.put("acme/j1/0-a.png", chunks(1))
    with pytest.raises(InvalidBlobKey):
        await blobs.delete_prefix(prefix)
    assert files_under(blobs.root) == ["acme/j1/0-a.png", "acme/j1/0-a.png.meta.json"]
