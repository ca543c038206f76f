"""The `BlobStore` interface: streamed put, ranged get, delete, `url_for`.

Keys are relative, slash-separated paths such as ``{tenant}/{job_id}/{index}-{name}``.
Every implementation refuses keys that could escape its root, so a key built from user
input can never name another tenant's blob.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from comfy_gateway.errors import GatewayError


class BlobStoreError(GatewayError):
    """A problem with the blob store."""


class InvalidBlobKey(BlobStoreError):
    """The key is empty, absolute, or has an empty segment or one starting with a dot."""


class BlobNotFound(BlobStoreError):
    """No blob is stored under that key."""


class RangeNotSatisfiable(BlobStoreError):
    """The requested byte range lies outside the blob."""


class StorageFull(BlobStoreError):
    """The disk (or the user's quota) is full: nothing was stored under the key.

    The worker turns this into a job failed with code ``storage_full``; retrying the
    same write at once would only fail again.
    """


@dataclass(frozen=True, kw_only=True)
class BlobInfo:
    """What was stored: size and SHA-256 of the bytes."""

    key: str
    size_bytes: int
    sha256: str
    content_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class BlobRange:
    """An inclusive byte range ``[start, end]`` of a blob of ``total`` bytes."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def check_blob_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise `InvalidBlobKey`."""
    segments = key.split("/")
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise InvalidBlobKey(f"blob key {key!r} must be a relative path without backslashes")
    if any(segment == "" or segment.startswith(".") for segment in segments):
        raise InvalidBlobKey(f"blob key {key!r} has an empty segment or one starting with '.'")
    return key


def resolve_range(start: int | None, end: int | None, total: int) -> BlobRange:
    """Turn an HTTP-style range (either bound may be open) into an inclusive `BlobRange`.

    ``start=None, end=N`` means the last N bytes, as in ``Range: bytes=-N``.
    """
    if start is None and end is None:
        return BlobRange(start=0, end=max(total - 1, -1), total=total)
    if start is None:
        assert end is not None
        if end <= 0:
            raise RangeNotSatisfiable(f"suffix range of {end} bytes is empty")
        return BlobRange(start=max(total - end, 0), end=total - 1, total=total)
    last = total - 1 if end is None else min(end, total - 1)
    if start < 0 or start >= total or last < start:
        raise RangeNotSatisfiable(f"range {start}-{end} is outside a blob of {total} bytes")
    return BlobRange(start=start, end=last, total=total)


class BlobStore(Protocol):
    """Media and outputs: streamed in, streamed out, never held whole in memory."""

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        """Store the chunks under ``key`` (replacing it atomically); return size and sha256."""
        ...

    async def stat(self, key: str) -> BlobInfo | None:
        """Size and content type of a stored blob, or None (sha256 may be empty)."""
        ...

    def read(
        self, key: str, blob_range: BlobRange | None = None, *, chunk_size: int = 1 << 20
    ) -> AsyncIterator[bytes]:
        """Stream the blob, or the inclusive range of it; raises `BlobNotFound`."""
        ...

    async def delete(self, key: str) -> bool:
        """Delete the blob; True if something was deleted."""
        ...

    def url_for(self, key: str) -> str | None:
        """A URL a client may fetch the blob from directly, or None to go through the API."""
        ...
