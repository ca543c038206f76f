"""A streamed ``multipart/form-data`` body for POST /upload/image.

httpx's own multipart support only reads synchronous file objects; ours streams from a
file path (in a worker thread, chunk by chunk) or from any async byte iterator, so a
large video never has to sit in memory.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True, kw_only=True)
class MultipartFrame:
    """Everything around the file bytes: headers of the form, and its closing line."""

    boundary: str
    head: bytes
    tail: bytes

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"


def _quote(value: str) -> str:
    # Quotes and line breaks would end the header; percent-encode them like browsers do.
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def build_multipart_frame(
    *,
    file_field: str,
    filename: str,
    fields: Mapping[str, str],
    content_type: str = "application/octet-stream",
    boundary: str | None = None,
) -> MultipartFrame:
    """The bytes before and after the file content (text fields go first)."""
    boundary = boundary or secrets.token_hex(16)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(file_field)}"; '
        f'filename="{_quote(filename)}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return MultipartFrame(boundary=boundary, head=head, tail=tail)


async def read_file_chunks(path: Path, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    """Yield a file's bytes without blocking the event loop."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_size):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


async def multipart_body(
    frame: MultipartFrame, content: AsyncIterator[bytes]
) -> AsyncGenerator[bytes, None]:
    try:
        yield frame.head
        async for chunk in content:
            if chunk:
                yield chunk
        yield frame.tail
    finally:
        if isinstance(content, AsyncGenerator):
            await content.aclose()
