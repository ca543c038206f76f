"""Map failed HTTP exchanges with ComfyUI onto our exception tree (pure functions).

The I/O layer calls these at the edge and raises the result ``from`` the original
exception, so callers only ever catch :mod:`comfy_gateway.errors` classes. Nothing here
knows an HTTP library: each wire reduces its own exceptions to a :class:`TransportFault`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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


class FaultKind(StrEnum):
    """How an exchange failed before a full answer arrived, whatever the HTTP library."""

    TIMEOUT = "timeout"  # no answer in time; the detail names which wait ran out
    REFUSED = "refused"  # no connection: refused, unresolvable host
    DROPPED = "dropped"  # the connection broke mid-exchange (reset, closed mid-body)
    OTHER = "other"  # anything else the library raised


@dataclass(frozen=True, kw_only=True)
class TransportFault:
    """A library exception reduced to what our error messages need (see the wires)."""

    kind: FaultKind
    detail: str


def error_for_transport(fault: TransportFault, label: RequestLabel) -> ComfyError:
    """The error for an exchange that failed before a full answer arrived."""
    where = f"ComfyUI at {label.base_url}"
    if fault.kind is FaultKind.TIMEOUT:
        return ComfyTimeout(
            f"{where} did not answer in time ({fault.detail}) ({label}): it may be "
            "overloaded or stuck; retry later or raise the timeout.",
            backend=label.backend,
        )
    if fault.kind is FaultKind.REFUSED:
        return ComfyUnavailable(
            f"{where} refused the connection or could not be resolved: is it running? "
            f"({label}: {fault.detail})",
            backend=label.backend,
        )
    if fault.kind is FaultKind.DROPPED:
        return ComfyUnavailable(
            f"{where} dropped the connection ({label}: {fault.detail}); "
            "it may have crashed or restarted, retry once it is back.",
            backend=label.backend,
        )
    return ComfyError(f"{where}: {label} failed: {fault.detail}", backend=label.backend)


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
