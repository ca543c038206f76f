"""Responses shaped like aiohttp's: JSON with `charset=utf-8`, bodiless ones with no type."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
INTERNAL_ERROR_TEXT = "500 Internal Server Error\n\nServer got itself in trouble"


def json_response(data: Any, status_code: int = 200) -> Response:
    # json.dumps' default separators match aiohttp's json_response byte for byte
    return Response(json.dumps(data), status_code=status_code, headers={"Content-Type": JSON_TYPE})


def empty_response(status_code: int = 200) -> Response:
    return Response(status_code=status_code)


def text_response(text: str, status_code: int) -> Response:
    return Response(text, status_code=status_code, headers={"Content-Type": TEXT_TYPE})


def internal_error() -> Response:
    """What aiohttp answers when a handler raises."""
    return text_response(INTERNAL_ERROR_TEXT, 500)


def not_found() -> Response:
    return Response(status_code=404, headers={"Content-Type": "application/octet-stream"})
