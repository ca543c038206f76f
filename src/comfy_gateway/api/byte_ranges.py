"""HTTP ``Range`` requests on one blob (RFC 9110 §14), single ranges only (pure).

A header we cannot use — another unit, several ranges, bad syntax — is ignored and the
whole file is sent, as RFC 9110 allows; only a well-formed range that lies outside the
file is refused (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from comfy_gateway.storage.blobs import BlobRange, RangeNotSatisfiable, resolve_range

_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True, kw_only=True)
class RequestedRange:
    """``bytes=start-end`` with either bound open (``start`` None: the last ``end`` bytes)."""

    start: int | None
    end: int | None


class UnsatisfiableRange(Exception):
    """The range is well formed but outside the file: answer 416."""

    def __init__(self, total: int) -> None:
        super().__init__(f"the requested range is outside the file of {total} bytes")
        self.total = total


def parse_range_header(header: str | None) -> RequestedRange | None:
    """The single byte range asked for, or None to send the whole file."""
    if not header:
        return None
    match = _SINGLE_RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    start = int(first) if first else None
    end = int(last) if last else None
    if start is not None and end is not None and end < start:
        return None  # syntactically invalid: ignored, not refused (RFC 9110 §14.1.1)
    return RequestedRange(start=start, end=end)


def select_range(requested: RequestedRange | None, total: int) -> BlobRange | None:
    """The inclusive range to send, None for the whole file; `UnsatisfiableRange` if none."""
    if requested is None:
        return None
    if total == 0:
        raise UnsatisfiableRange(total)  # an empty file has no byte to point at
    try:
        return resolve_range(requested.start, requested.end, total)
    except RangeNotSatisfiable as exc:
        raise UnsatisfiableRange(total) from exc


def content_range(blob_range: BlobRange) -> str:
    return f"bytes {blob_range.start}-{blob_range.end}/{blob_range.total}"


def unsatisfied_content_range(total: int) -> str:
    return f"bytes */{total}"
