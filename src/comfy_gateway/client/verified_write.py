"""Write a downloaded stream to disk, checked against the size and sha256 it should have.

Bytes go to a temporary file beside the destination and are hashed as they arrive; only
a file that matches is renamed into place, so a destination never holds a partial or
corrupt download, and a failed one leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from comfy_gateway.client.errors import OutputIntegrityError


@dataclass(frozen=True, kw_only=True)
class DownloadedFile:
    """A file written and checked: where, how big, its sha256."""

    path: Path
    size_bytes: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class ExpectedContent:
    """What the job body promised (either may be unknown)."""

    size_bytes: int | None
    sha256: str | None


def integrity_problem(expected: ExpectedContent, size: int, digest: str) -> str | None:
    """Why the bytes do not match, or None when they do."""
    if expected.size_bytes is not None and size != expected.size_bytes:
        return f"got {size} bytes, expected {expected.size_bytes}"
    if expected.sha256 is not None and digest != expected.sha256.lower():
        return f"sha256 {digest} differs from the expected {expected.sha256}"
    return None


async def write_verified(
    chunks: AsyncIterator[bytes], dest: Path, expected: ExpectedContent
) -> DownloadedFile:
    """Stream ``chunks`` into ``dest`` (replacing it) only if they match ``expected``."""
    # A fresh name opened exclusively ("xb"), not mkstemp: the file keeps the umask's mode.
    temp_name = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.part"
    temp = anyio.Path(temp_name)
    try:
        size, digest = await _copy_hashing(chunks, temp)
        problem = integrity_problem(expected, size, digest)
        if problem is not None:
            raise OutputIntegrityError(f"{dest.name}: {problem}; the download was discarded")
        await temp.replace(dest)
    except BaseException:
        # Synchronous on purpose: the clean-up must also run when the task is cancelled.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    return DownloadedFile(path=dest, size_bytes=size, sha256=digest)


async def _copy_hashing(chunks: AsyncIterator[bytes], path: anyio.Path) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    async with await anyio.open_file(path, "xb") as file:
        async for chunk in chunks:
            hasher.update(chunk)
            size += len(chunk)
            await file.write(chunk)
    return size, hasher.hexdigest()
