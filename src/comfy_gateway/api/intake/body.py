"""Reading request bodies under a byte cap, before anything parses them.

A declared ``Content-Length`` over the cap is refused at once, without reading; a body
without one (chunked) is counted while it is read and refused as soon as it passes the
cap, so a client can never make us buffer more than the cap.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any

from starlette.requests import Request

from comfy_gateway.api.errors import ApiError

JSON_TYPES = frozenset({"application/json"})
MULTIPART_TYPE = "multipart/form-data"


class BodyKind(Enum):
    JSON = "json"
    MULTIPART = "multipart"


def body_kind(content_type: str | None) -> BodyKind:
    """JSON or multipart from the ``Content-Type``; anything else is a 415."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return BodyKind.JSON
    if media_type == MULTIPART_TYPE:
        return BodyKind.MULTIPART
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Type {content_type or '(none)'!r} is not accepted; send application/json "
        "or multipart/form-data",
    )


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the request body is larger than {limit} bytes",
        limit_bytes=limit,
    )


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse at once a body whose ``Content-Length`` is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise ApiError(400, "bad_request", "Content-Length must be a number of bytes")
    if int(declared) > limit:
        raise too_large(limit)


async def capped_stream(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body's chunks, raising 413 once more than ``limit`` bytes came in."""
    check_declared_length(request, limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        yield chunk


async def read_capped_body(request: Request, limit: int) -> bytes:
    chunks = [chunk async for chunk in capped_stream(request, limit)]
    return b"".join(chunks)


def parse_json(raw: bytes | str, *, what: str = "the request body") -> Any:
    """JSON text → value; malformed JSON is a 400 ``invalid_json`` naming the position."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            "invalid_json",
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_json", f"{what} is not UTF-8 text") from exc


async def read_json_body(request: Request, limit: int) -> Any:
    return parse_json(await read_capped_body(request, limit))
