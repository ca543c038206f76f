"""The one exception tree of comfy-gateway.

Every error we raise derives from :class:`GatewayError`. Errors from httpx, websockets,
SQL drivers or boto are converted at the boundary with ``raise X from exc`` so callers
only ever catch ours. The ComfyUI branch lives here; each other branch lives beside the
code that raises it (so lower layers need not import upper ones)::

    GatewayError
    ├── ConfigError                  settings that cannot work (refuse to start)
    ├── ComfyError                   anything about talking to a ComfyUI backend
    │   ├── ComfyUnavailable         cannot connect / connection dropped (retry later)
    │   ├── ComfyTimeout             a wait on the backend ran out of time
    │   ├── ComfyServerError         the backend answered 5xx
    │   ├── ComfyProtocolError       the backend answered something we cannot parse
    │   ├── ComfyRequestRejected     the backend answered a 4xx we did not expect
    │   ├── PromptValidationError    POST /prompt answered 400 with error + node_errors
    │   ├── DuplicatePromptId        POST /prompt answered 409: that prompt id exists
    │   ├── PromptNotFound           a followed prompt is in neither /queue nor /history
    │   └── ComfySocketClosed        the WebSocket closed and could not be reopened
    ├── JobOperationError            jobs/errors.py: IllegalTransition, JobNotFound,
    │                                LeaseLost, IdempotencyKeyReused, QueueFull,
    │                                InvalidCursor, StoreError > ConstraintViolation
    ├── GraphEditError               jobs/domain_errors.py: InvalidWorkflow, InvalidParams,
    │                                UnfilledPlaceholder, UnknownOverrideTarget,
    │                                UnsafeFilenamePrefix, UnreferencedMedia, MediaError >
    │                                (UnsafeMediaName, UnsupportedMediaType, TooManyMedia,
    │                                MediaTooLarge); api: WorkflowRejected
    ├── BlobStoreError               storage/blobs.py: InvalidBlobKey, BlobNotFound,
    │                                RangeNotSatisfiable, StorageFull
    ├── FetchFailed                  net/: AddressRefused, FetchTooLarge
    ├── TemplateError                templates/errors.py: TemplateNotFound,
    │                                TemplatePathRefused, TemplateInvalid, ParameterError >
    │                                (Unknown/Missing/InvalidParameterValue), InvalidActionForm
    ├── IllegalSupervisorTransition  supervisor/lifecycle.py
    ├── ApiError                     api/errors.py: an HTTP answer (status, code, details)
    └── GatewayClientError           client/errors.py: errors of our own API's client

The API maps each branch to one JSON shape, ``{"error": {"code", "message", …}}``.
Each error's message says what happened and what a person can do about it.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Root of every error raised by comfy-gateway."""


class ConfigError(GatewayError):
    """The configuration cannot work; the process refuses to start."""


class ComfyError(GatewayError):
    """A problem talking to a ComfyUI backend."""

    def __init__(self, message: str, *, backend: str | None = None) -> None:
        super().__init__(message)
        self.backend = backend


class ComfyUnavailable(ComfyError):
    """The backend cannot be reached (refused, reset, DNS); it may come back."""


class ComfyTimeout(ComfyError):
    """A request to, or a wait on, the backend ran out of time."""


class ComfyServerError(ComfyError):
    """The backend answered with a 5xx status."""

    def __init__(self, message: str, *, status_code: int, body: str, backend: str | None = None):
        super().__init__(message, backend=backend)
        self.status_code = status_code
        self.body = body


class ComfyProtocolError(ComfyError):
    """The backend answered something that is not what its protocol promises."""


class ComfyRequestRejected(ComfyError):
    """The backend refused a request with a 4xx we have no more specific error for."""

    def __init__(self, message: str, *, status_code: int, body: str, backend: str | None = None):
        super().__init__(message, backend=backend)
        self.status_code = status_code
        self.body = body


class PromptValidationError(ComfyError):
    """POST /prompt was refused: ComfyUI's ``error`` and per-node ``node_errors``."""

    def __init__(
        self,
        message: str,
        *,
        error: dict[str, Any],
        node_errors: dict[str, Any],
        backend: str | None = None,
    ) -> None:
        super().__init__(message, backend=backend)
        self.error = error
        self.node_errors = node_errors

    @property
    def error_type(self) -> str:
        """ComfyUI's error ``type`` string, such as ``prompt_outputs_failed_validation``."""
        return str(self.error.get("type", ""))


class DuplicatePromptId(ComfyError):
    """POST /prompt answered 409: a prompt with this id is already known to the backend."""

    def __init__(self, message: str, *, prompt_id: str, backend: str | None = None) -> None:
        super().__init__(message, backend=backend)
        self.prompt_id = prompt_id


class ComfySocketClosed(ComfyError):
    """The backend's WebSocket closed and could not be reopened within the budget."""


class PromptNotFound(ComfyError):
    """A followed prompt is in neither ``/queue`` nor ``/history`` (deleted, or lost in a
    backend restart): it will never report an outcome."""

    def __init__(self, message: str, *, prompt_id: str, backend: str | None = None) -> None:
        super().__init__(message, backend=backend)
        self.prompt_id = prompt_id
