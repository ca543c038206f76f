"""Errors of the gateway client, below the project's one tree::

    GatewayError
    └── GatewayClientError            anything about talking to a comfy-gateway API
        ├── GatewayApiError           the API answered an error status: code, message, body
        ├── GatewayUnreachable        no answer (refused, reset, timed out), retries spent
        ├── GatewayProtocolError      an answer that is not what API.md promises
        ├── OutputIntegrityError      a downloaded output's size or sha256 is not the job's
        └── UnsafeOutputPath          an output's local path would leave its folder

httpx's errors are converted where the client calls it, with ``raise … from exc``.
"""

from __future__ import annotations

from typing import Any

from comfy_gateway.errors import GatewayError


class GatewayClientError(GatewayError):
    """A problem talking to a comfy-gateway API."""


class GatewayApiError(GatewayClientError):
    """The API answered an error status with our ``{"error": {"code", "message"}}`` shape
    (or, from something in between such as a proxy, whatever it sent: then ``code`` is
    ``http_<status>`` and ``body`` the raw text)."""

    def __init__(self, status: int, code: str, message: str, body: Any) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body

    @property
    def details(self) -> dict[str, Any]:
        """The error object's other fields (``job_id``, ``node_errors``, …)."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if not isinstance(error, dict):
            return {}
        return {key: value for key, value in error.items() if key not in {"code", "message"}}


class GatewayUnreachable(GatewayClientError):
    """The API could not be reached or stopped answering; the job itself may be fine."""


class GatewayProtocolError(GatewayClientError):
    """The API answered something this client cannot understand."""


class OutputIntegrityError(GatewayClientError):
    """A downloaded output does not match the size or sha256 its job body promised; the
    partial file has been removed."""


class UnsafeOutputPath(GatewayClientError, ValueError):
    """An output would be written outside the folder chosen for it (a symlink planted
    there, say); nothing was written."""
