"""The local blob store's files: the temporary file made beside the target, the content
type in a sidecar only when the key's extension does not say it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.storage.local import LocalBlobStore


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
    blobs = LocalBlobStore(tmp_path)
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
    blobs = LocalBlobStore(tmp_path)
    await blobs.put("t/j/0-a.png", one_chunk(b"one"), content_type="image/webp")
    await blobs.put("t/j/0-a.png", one_chunk(b"two"), content_type="image/png")

    info = await blobs.stat("t/j/0-a.png")
    assert info is not None
    assert info.content_type == "image/png"
    assert files_under(tmp_path) == ["t/j/0-a.png"]


async def test_a_stream_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)

    async def fails_after_a_chunk() -> AsyncIterator[bytes]:
        yield b"x" * 10
        raise ConnectionError("the backend went away")

    with pytest.raises(ConnectionError):
        await blobs.put("t/j/0-a.png", fails_after_a_chunk(), content_type="image/png")
    assert files_under(tmp_path) == []  # dot-files (the temporary one) included


async def test_a_cancelled_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path)
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
