"""The local blob store's files: the temporary file made beside the target, the content
type in a sidecar only when the key's extension does not say it; and its small blobs,
rows of one SQLite file instead of files."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.storage import BlobNotFound, StorageFull
from comfy_gateway.storage.local import SMALL_BLOBS_FILE, LocalBlobStore


def files_under(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.mark.parametrize(
    ("key", "content_type", "sidecar"),
    [
        ("t/j/0-a.png", "image/png", False),
        ("t/j/0-a.mp4", "video/mp4", False),
        ("t/j/0-a.png", "image/webp", True),  # the extension says otherwise
        ("t/j/0-a.bin3d", "model/gltf-binary", True),  # an extension with no known type
        ("t/j/0-a.png", None, True),  # "no type" must not read back as image/png
    ],
)
async def test_the_type_reads_back_with_a_sidecar_only_when_needed(
    tmp_path: Path, key: str, content_type: str | None, sidecar: bool
) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=0)
    await blobs.put(key, one_chunk(b"data"), content_type=content_type)

    info = await blobs.stat(key)
    assert info is not None
    assert (info.content_type, info.size_bytes) == (content_type, 4)
    expected = [key, f"{key}.meta.json"] if sidecar else [key]
    assert files_under(tmp_path) == expected
    assert await blobs.delete(key)
    assert files_under(tmp_path) == []


async def test_storing_again_under_a_key_drops_a_sidecar_that_no_longer_applies(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=0)
    await blobs.put("t/j/0-a.png", one_chunk(b"one"), content_type="image/webp")
    await blobs.put("t/j/0-a.png", one_chunk(b"two"), content_type="image/png")

    info = await blobs.stat("t/j/0-a.png")
    assert info is not None
    assert info.content_type == "image/png"
    assert files_under(tmp_path) == ["t/j/0-a.png"]


async def test_a_stream_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=0)

    async def fails_after_a_chunk() -> AsyncIterator[bytes]:
        yield b"x" * 10
        raise ConnectionError("the backend went away")

    with pytest.raises(ConnectionError):
        await blobs.put("t/j/0-a.png", fails_after_a_chunk(), content_type="image/png")
    assert files_under(tmp_path) == []  # dot-files (the temporary one) included


async def test_a_cancelled_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=0)
    asked, never = asyncio.Event(), asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        asked.set()  # the file is being made by now: it is made before bytes arrive
        await never.wait()
        yield b""

    writing = asyncio.create_task(blobs.put("t/j/0-a.png", stalls()))
    await asked.wait()
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    assert files_under(tmp_path) == []


def blob_files(root: Path) -> list[str]:
    """Files that hold blobs: not the small-blob database."""
    return [name for name in files_under(root) if not name.startswith(SMALL_BLOBS_FILE)]


async def read_all(blobs: LocalBlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in blobs.read(key)])


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def test_a_blob_up_to_the_limit_is_a_row_and_one_past_it_a_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=4096)
    at_limit, past_limit = b"a" * 4096, b"b" * 4097

    small = await blobs.put("t/j/0-a.png", chunks_of(at_limit), content_type="image/png")
    large = await blobs.put("t/j/1-b.png", chunks_of(past_limit), content_type="image/png")

    assert blob_files(tmp_path) == ["t/j/1-b.png"]
    assert (small.size_bytes, small.sha256) == (4096, hashlib.sha256(at_limit).hexdigest())
    assert (large.size_bytes, large.sha256) == (4097, hashlib.sha256(past_limit).hexdigest())
    assert await read_all(blobs, "t/j/0-a.png") == at_limit
    assert await read_all(blobs, "t/j/1-b.png") == past_limit
    info = await blobs.stat("t/j/0-a.png")
    assert info is not None
    assert (info.size_bytes, info.content_type, info.sha256) == (4096, "image/png", small.sha256)
    blobs.close()


async def test_one_key_lives_in_one_place_whatever_its_size(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=10)
    await blobs.put("t/j/0-a.bin", chunks_of(b"small"))
    await blobs.put("t/j/0-a.bin", chunks_of(b"now a large one"))
    assert await read_all(blobs, "t/j/0-a.bin") == b"now a large one"
    await blobs.put("t/j/0-a.bin", chunks_of(b"small again"[:9]))
    assert await read_all(blobs, "t/j/0-a.bin") == b"small aga"

    assert await blobs.delete("t/j/0-a.bin")
    assert blob_files(tmp_path) == []
    with pytest.raises(BlobNotFound):
        await read_all(blobs, "t/j/0-a.bin")
    blobs.close()


async def test_a_job_folder_is_deleted_from_both_places(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path, small_blob_bytes=10)
    for key, size in (("t/j1/0-a", 5), ("t/j1/1-b", 50), ("t/j10/0-a", 5), ("t/j2/0-a", 50)):
        await blobs.put(key, chunks_of(b"x" * size))

    assert await blobs.delete_prefix("t/j1") == 2

    assert await blobs.stat("t/j1/0-a") is None
    assert await blobs.stat("t/j1/1-b") is None
    assert await read_all(blobs, "t/j10/0-a") == b"x" * 5  # "t/j10" is not under "t/j1/"
    assert await read_all(blobs, "t/j2/0-a") == b"x" * 50
    blobs.close()


async def test_another_process_sees_a_small_blob_at_once(tmp_path: Path) -> None:
    writer, reader = LocalBlobStore(tmp_path), LocalBlobStore(tmp_path)
    await writer.put("t/j/0-a.png", chunks_of(b"png bytes"), content_type="image/png")
    assert await read_all(reader, "t/j/0-a.png") == b"png bytes"
    writer.close()
    reader.close()


async def test_a_small_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    await blobs.put("t/j/0-a", chunks_of(b"first"))  # the database exists now
    other = sqlite3.connect(tmp_path / SMALL_BLOBS_FILE, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    writing = asyncio.create_task(blobs.put("t/j/1-b", chunks_of(b"second")))
    for _ in range(20):  # let the write go as far as it can: it waits on its thread
        await asyncio.sleep(0)
    assert not writing.done()
    other.execute("COMMIT")
    other.close()
    info = await asyncio.wait_for(writing, 10)
    assert info.size_bytes == 6
    assert await read_all(blobs, "t/j/1-b") == b"second"
    blobs.close()


async def test_a_full_small_blob_database_is_storage_full(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
    await blobs.put("t/j/0-a", chunks_of(b"fits"))
    capped = sqlite3.connect(tmp_path / SMALL_BLOBS_FILE, isolation_level=None)
    pages = capped.execute("PRAGMA page_count").fetchone()[0]
    capped.close()
    # The cap lasts for the connection that sets it: set it on the store's own one.
    blobs._small._inline.execute(f"PRAGMA max_page_count = {pages}")  # type: ignore[union-attr]

    with pytest.raises(StorageFull):
        await blobs.put("t/j/1-b", chunks_of(b"z" * 100_000))

    assert await blobs.stat("t/j/1-b") is None
    assert await read_all(blobs, "t/j/0-a") == b"fits"
    blobs.close()
