"""Reading the API's answers (pure): our error shape into `GatewayApiError`, bodies into
views, and which failures are worth another try."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from comfy_gateway.client.errors import GatewayApiError, GatewayProtocolError
from comfy_gateway.client.job_view import JobView

#: Statuses a stream reconnect may outlast: a restarting server or a busy proxy.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def parse_json_text(text: str) -> Any:
    """The JSON value, or the text itself when it is not JSON (a proxy's HTML page)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def api_error(status: int, text: str) -> GatewayApiError:
    """Our ``{"error": {"code", "message"}}`` when the body has it, else ``http_<status>``."""
    body = parse_json_text(text)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return GatewayApiError(status, error["code"], str(error.get("message") or ""), body)
    snippet = " ".join(text.split())[:300]
    return GatewayApiError(status, f"http_{status}", snippet or _reason(status), body)


def job_from_json(text: str) -> JobView:
    body = parse_json_text(text)
    if not isinstance(body, dict):
        raise GatewayProtocolError(f"expected a job body, got {text[:200]!r}")
    return JobView.from_body(body)
