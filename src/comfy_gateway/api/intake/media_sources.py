"""Bringing one media item in — base64 text, a URL or an uploaded file — as `StagedMedia`.

Staging learns what the storage key needs (sha256, size, extension) and keeps the bytes
where they already are: in memory for base64 (the JSON body held them anyway), in a
spooled temporary file for uploads and fetches, so a 50 MB video is never copied into a
Python string. Bytes are never altered: a corrupt PNG is stored as sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import BinaryIO, Protocol, cast
from urllib.parse import urlsplit

from starlette.datastructures import UploadFile

from comfy_gateway.api.errors import ApiError
from comfy_gateway.jobs.media import (
    check_media_size,
    data_url_content_type,
    decode_base64_strict,
    media_extension,
    stored_media_name,
    stored_media_reference,
)
from comfy_gateway.net.address_guard import FetchFailed
from comfy_gateway.net.safe_fetch import SafeFetcher

CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 64
#: Decoding and hashing a few MB take milliseconds; past this they move off the event loop.
_THREAD_DECODE_CHARS = 1 << 20
_SPOOL_IN_MEMORY_BYTES = 1 << 20


class ChunkSource(Protocol):
    """Bytes that can be read from the start as often as needed."""

    def chunks(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class BytesSource:
    data: bytes

    async def chunks(self) -> AsyncIterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK_BYTES):
            yield bytes(view[start : start + CHUNK_BYTES])


@dataclass(frozen=True)
class UploadSource:
    """A spooled file (an uploaded part, or a fetch written to disk)."""

    upload: UploadFile

    async def chunks(self) -> AsyncIterator[bytes]:
        await self.upload.seek(0)
        while chunk := await self.upload.read(CHUNK_BYTES):
            yield chunk


@dataclass(frozen=True, kw_only=True)
class StagedMedia:
    """A media item whose bytes are known (hashed, sized, typed) but not stored yet."""

    name: str
    size_bytes: int
    sha256: str
    extension: str
    source: ChunkSource

    @property
    def filename(self) -> str:
        return stored_media_name(self.sha256, self.extension)

    @property
    def reference(self) -> str:
        """What the graph input becomes: ``comfy-gateway/<sha256>.<ext>``."""
        return stored_media_reference(self.sha256, self.extension)

    @property
    def content_type(self) -> str:
        guessed, _ = mimetypes.guess_type(self.filename)
        return guessed or "application/octet-stream"


class _Digest:
    """Size, sha256 and the leading bytes of a stream, learnt while it passes."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0
        self.leading = b""

    def update(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self.size += len(chunk)
        if len(self.leading) < SNIFF_BYTES:
            self.leading += chunk[: SNIFF_BYTES - len(self.leading)]

    def staged(
        self, name: str, content_type: str | None, source: ChunkSource, *, name_hint: str
    ) -> StagedMedia:
        return StagedMedia(
            name=name,
            size_bytes=self.size,
            sha256=self.hash.hexdigest(),
            extension=media_extension(name_hint, content_type, self.leading),
            source=source,
        )


async def stage_base64(name: str, text: str, max_bytes: int) -> StagedMedia:
    """Strictly decoded base64 (a ``data:`` prefix allowed; size checked before decoding)."""
    if len(text) > _THREAD_DECODE_CHARS:
        data, digest = await asyncio.to_thread(_decode_and_digest, name, text, max_bytes)
    else:
        data, digest = _decode_and_digest(name, text, max_bytes)
    return digest.staged(name, data_url_content_type(text), BytesSource(data), name_hint=name)


def _decode_and_digest(name: str, text: str, max_bytes: int) -> tuple[bytes, _Digest]:
    data = decode_base64_strict(text, max_bytes, name=name)
    digest = _Digest()
    digest.update(data)
    return data, digest


async def stage_upload(
    name: str, upload: UploadFile, content_type: str | None, max_bytes: int
) -> StagedMedia:
    """A spooled file part: read once to hash it, kept spooled for the store."""
    digest = _Digest()
    await upload.seek(0)
    while chunk := await upload.read(CHUNK_BYTES):
        digest.update(chunk)
        check_media_size(digest.size, max_bytes, name=name)
    return digest.staged(name, content_type, UploadSource(upload), name_hint=name)


async def stage_url(name: str, url: str, fetcher: SafeFetcher, max_bytes: int) -> StagedMedia:
    """Fetched through the SSRF guard into a spooled file; any failure is a 422.

    The caller closes the returned source's file (see `close_staged`).
    """
    # Closed by close_staged once stored, or below on failure: it outlives this function.
    spool_file = SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    spool = UploadFile(cast(BinaryIO, spool_file), filename=name)
    digest = _Digest()

    async def sink(chunk: bytes) -> None:
        digest.update(chunk)
        await spool.write(chunk)

    try:
        fetched = await fetcher.fetch(url, sink, max_bytes=max_bytes)
        hint = name if "." in name else _url_file_name(fetched.final_url)
        return digest.staged(name, fetched.content_type, UploadSource(spool), name_hint=hint)
    except FetchFailed as exc:
        await spool.close()
        raise media_fetch_failed(name, url, str(exc)) from exc
    except BaseException:
        await spool.close()
        raise


def media_fetch_failed(name: str, url: str, reason: str) -> ApiError:
    return ApiError(
        422,
        "media_fetch_failed",
        f"media {name[:80]!r}: could not fetch {url[:300]!r}: {reason}",
        name=name[:200],
        url=url[:2048],
        reason=reason,
    )


def _url_file_name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


async def close_staged(items: list[StagedMedia]) -> None:
    """Close the spooled files behind staged items (closing a form's part twice is fine)."""
    for item in items:
        if isinstance(item.source, UploadSource):
            await item.source.upload.close()
