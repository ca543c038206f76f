"""One contract suite for every `BlobStore` implementation (local now, S3 later)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from comfy_gateway.storage import BlobNotFound, BlobStore, InvalidBlobKey, LocalBlobStore
from comfy_gateway.storage.blobs import RangeNotSatisfiable, resolve_range
from comfy_gateway.storage.local import SMALL_BLOBS_FILE

StoreFactory = Callable[[Path], BlobStore]
FACTORIES: dict[str, StoreFactory] = {
    # Every blob of these tests fits the small-blob database...
    "local": LocalBlobStore,
    # ...every blob a file...
    "local-files": lambda root: LocalBlobStore(root, small_blob_bytes=0),
    # ...and a threshold the tests' blobs fall on both sides of.
    "local-64-bytes": lambda root: LocalBlobStore(root, small_blob_bytes=64),
}


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return FACTORIES[request.param](tmp_path / "blobs")


async def _chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def _read_all(store: BlobStore, key: str, **kwargs: object) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, **kwargs)])  # type: ignore[arg-type]


async def test_put_reports_size_and_sha256_of_the_streamed_bytes(store: BlobStore) -> None:
    data = os.urandom(1000)
    info = await store.put("t1/job/0-out.png", _chunks(data), content_type="image/png")
    assert info.size_bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert await _read_all(store, "t1/job/0-out.png") == data
    stat = await store.stat("t1/job/0-out.png")
    assert stat is not None
    assert (stat.size_bytes, stat.content_type) == (len(data), "image/png")


async def test_ranged_read_returns_exactly_the_inclusive_range(store: BlobStore) -> None:
    data = bytes(range(256)) * 4
    await store.put("k/blob.bin", _chunks(data))
    blob_range = resolve_range(10, 700, len(data))
    got = await _read_all(store, "k/blob.bin", blob_range=blob_range, chunk_size=64)
    assert got == data[10:701]
    suffix = resolve_range(None, 5, len(data))
    assert await _read_all(store, "k/blob.bin", blob_range=suffix) == data[-5:]


async def test_a_failed_put_leaves_nothing_behind(store: BlobStore, tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"half"
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await store.put("t/j/0-x.bin", broken())
    assert await store.stat("t/j/0-x.bin") is None
    leftovers = [
        path
        for path in (tmp_path / "blobs").rglob("*")
        if path.is_file() and not path.name.startswith(SMALL_BLOBS_FILE)
    ]
    assert leftovers == []


async def test_put_replaces_atomically_and_delete_removes(store: BlobStore) -> None:
    await store.put("a/b", _chunks(b"old"))
    await store.put("a/b", _chunks(b"new bytes"))
    assert await _read_all(store, "a/b") == b"new bytes"
    assert await store.delete("a/b") is True
    assert await store.delete("a/b") is False
    with pytest.raises(BlobNotFound):
        await _read_all(store, "a/b")


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a\\b", ".hidden", "a/.b"]
)
async def test_unsafe_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidBlobKey):
        await store.put(key, _chunks(b"x"))


def test_resolve_range_refuses_ranges_outside_the_blob() -> None:
    with pytest.raises(RangeNotSatisfiable):
        resolve_range(100, None, 100)
    with pytest.raises(RangeNotSatisfiable):
        resolve_range(None, 0, 100)
    assert resolve_range(90, 500, 100).length == 10
