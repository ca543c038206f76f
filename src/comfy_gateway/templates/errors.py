"""Errors of the template registry and of rendering a template into a graph.

Like the job domain's errors, each carries the API ``code``, the HTTP status the API
answers with and JSON-safe ``details``::

    GatewayError
    └── TemplateError                  base: a template request the client must change
        ├── TemplateNotFound           no template of that name (404)
        ├── TemplatePathRefused        a name or path resolving outside the folders (403)
        ├── TemplateInvalid            a template file or definition that cannot load
        ├── ParameterError             a parameter value refused at render time (422)
        │   ├── UnknownParameter       a name the template does not declare
        │   ├── MissingParameter       a required parameter with no value
        │   └── InvalidParameterValue  wrong type, out of range, not a choice, …
        └── InvalidActionForm          an ``{"action": …}`` body we cannot read (422)
"""

from __future__ import annotations

from typing import Any

from comfy_gateway.errors import GatewayError


class TemplateError(GatewayError):
    """Root of the template errors."""

    code = "template_error"
    http_status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def as_error_body(self) -> dict[str, Any]:
        """The API's error body: ``{"error": {"code", "message", ...details}}``."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class TemplateNotFound(TemplateError):
    """No template of that name (or no file at that path) in the configured folders."""

    code = "template_not_found"
    http_status = 404

    def __init__(self, name: str) -> None:
        super().__init__(f"no template named {name[:100]!r}", template=name[:100])


class TemplatePathRefused(TemplateError):
    """A template name or path that would resolve outside the template folders."""

    code = "template_path_refused"
    http_status = 403

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"template path {path[:100]!r} refused: {reason}", reason=reason)


class TemplateInvalid(TemplateError):
    """A template definition that cannot be loaded (refused at load, never at submit)."""

    code = "template_invalid"

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{reason}", reason=reason)
        self.source = source


class ParameterError(TemplateError):
    """A parameter value refused while rendering; ``parameter`` names it."""

    code = "invalid_parameter"

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"parameter {parameter[:80]!r}: {reason}", parameter=parameter[:80])
        self.parameter = parameter
        self.reason = reason


class UnknownParameter(ParameterError):
    """A value for a parameter the template does not declare."""

    code = "unknown_parameter"

    def __init__(self, parameter: str) -> None:
        super().__init__(parameter, "the template declares no such parameter")


class MissingParameter(ParameterError):
    """A required parameter (one without a default) was not given."""

    code = "missing_parameter"

    def __init__(self, parameter: str) -> None:
        super().__init__(parameter, "is required")


class InvalidParameterValue(ParameterError):
    """A value of the wrong type, out of range, not one of the choices, …"""


class InvalidActionForm(TemplateError):
    """A RunPod-style ``{"action": …}`` body that does not name a template properly."""

    code = "invalid_action"
