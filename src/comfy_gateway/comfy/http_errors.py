"""Map failed HTTP exchanges with ComfyUI onto our exception tree (pure functions).

The I/O layer calls these at the edge and raises the result ``from`` the original
exception, so callers only ever catch :mod:`comfy_gateway.errors` classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from comfy_gateway.errors import (
    ComfyError,
    ComfyRequestRejected,
    ComfyServerError,
    ComfyTimeout,
    ComfyUnavailable,
    DuplicatePromptId,
    PromptValidationError,
)


@dataclass(frozen=True, kw_only=True)
class RequestLabel:
    """Which backend and which request, to make messages say where things went wrong."""

    base_url: str
    method: str
    path: str
    backend: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def error_for_transport(exc: httpx.HTTPError, label: RequestLabel) -> ComfyError:
    """The error for an exception raised by httpx before a full answer arrived."""
    where = f"ComfyUI at {label.base_url}"
    if isinstance(exc, httpx.TimeoutException):
        return ComfyTimeout(
            f"{where} did not answer in time ({_timeout_kind(exc)}) ({label}): it may be "
            "overloaded or stuck; retry later or raise the timeout.",
            backend=label.backend,
        )
    if isinstance(exc, httpx.ConnectError):
        return ComfyUnavailable(
            f"{where} refused the connection or could not be resolved: is it running? "
            f"({label}: {exc})",
            backend=label.backend,
        )
    if isinstance(exc, httpx.TransportError):
        return ComfyUnavailable(
            f"{where} dropped the connection ({label}: {type(exc).__name__}: {exc}); "
            "it may have crashed or restarted, retry once it is back.",
            backend=label.backend,
        )
    return ComfyError(
        f"{where}: {label} failed: {type(exc).__name__}: {exc}", backend=label.backend
    )


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    names = {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "connection pool timeout",
    }
    return names.get(type(exc), "timeout")


def error_for_status(status_code: int, body: str, label: RequestLabel) -> ComfyError | None:
    """The error for a non-2xx answer to any request, or None when it is a success."""
    if status_code < 400:
        return None
    where = f"ComfyUI at {label.base_url}"
    if status_code >= 500:
        return ComfyServerError(
            f"{where} failed with HTTP {status_code} on {label}: {body[:300]!r}; "
            "see the ComfyUI log for the cause.",
            status_code=status_code,
            body=body,
            backend=label.backend,
        )
    return ComfyRequestRejected(
        f"{where} refused {label} with HTTP {status_code}: {body[:300]!r}",
        status_code=status_code,
        body=body,
        backend=label.backend,
    )


def error_for_prompt_answer(
    status_code: int, body: str, label: RequestLabel, *, prompt_id: str | None
) -> ComfyError | None:
    """POST /prompt: 400 with ``error`` → PromptValidationError, 409 → DuplicatePromptId."""
    if status_code == 409:
        return DuplicatePromptId(
            f"ComfyUI at {label.base_url} already knows prompt id {prompt_id!r}: follow it "
            "instead of submitting it again.",
            prompt_id=prompt_id or "",
            backend=label.backend,
        )
    if status_code == 400:
        validation = _validation_error(body, label)
        if validation is not None:
            return validation
    return error_for_status(status_code, body, label)


def _validation_error(body: str, label: RequestLabel) -> PromptValidationError | None:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None
    error: dict[str, Any] = data["error"]
    node_errors = data.get("node_errors") or {}
    return PromptValidationError(
        describe_validation_failure(error, node_errors, label.base_url),
        error=error,
        node_errors=dict(node_errors) if isinstance(node_errors, dict) else {},
        backend=label.backend,
    )


def describe_validation_failure(error: dict[str, Any], node_errors: Any, base_url: str) -> str:
    """One readable line per failing node: ``node 2 (ImageScale): value_not_in_list …``."""
    lines = [f"ComfyUI at {base_url} refused the prompt: {error.get('message', '')}".rstrip()]
    if isinstance(node_errors, dict):
        for node_id, entry in node_errors.items():
            lines.extend(_node_error_lines(str(node_id), entry))
    lines.append("Fix the workflow (or install the missing models) and submit again.")
    return "\n".join(lines)


def _node_error_lines(node_id: str, entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return [f"  node {node_id}: {entry!r:.200}"]
    class_type = entry.get("class_type", "?")
    return [
        f"  node {node_id} ({class_type}): {item.get('type')}: {item.get('message')}"
        f" {item.get('details') or ''}".rstrip()
        for item in entry.get("errors") or ()
        if isinstance(item, dict)
    ]
