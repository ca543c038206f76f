"""Errors raised while turning a submission into a runnable graph.

Every one carries the API error ``code``, the HTTP status the API should answer with and
JSON-safe ``details`` that go next to ``code`` and ``message`` in the error body::

    GatewayError
    └── GraphEditError                 the submission cannot become a runnable graph (422)
        ├── InvalidWorkflow            not an API-format graph (workflow_invalid)
        ├── InvalidParams              params that cannot fill placeholders
        ├── UnfilledPlaceholder        ``__NAME__`` left without a param
        ├── UnknownOverrideTarget      an ``inputs`` entry names a node that is not there
        ├── UnsafeFilenamePrefix       ``filename_prefix`` with ``..`` or an absolute path
        ├── UnreferencedMedia          a media item no graph input uses
        └── MediaError                 a media item we refuse before storing the job
            ├── UnsafeMediaName        separators, ``..``, leading dot, control chars, too long
            ├── InvalidBase64          not strict base64 (or a bad ``data:`` prefix)
            ├── UnsupportedMediaType   neither bytes, content type nor name say what it is
            ├── TooManyMedia           more items than the configured limit
            └── MediaTooLarge          an item over the size limit (413)

Media errors sit under ``GraphEditError`` because media wiring is one of the graph edits
of a submission: the API catches one class and answers with its code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from comfy_gateway.errors import GatewayError


class GraphEditError(GatewayError):
    """The submission cannot be turned into a runnable graph; the client must change it."""

    code = "invalid_request"
    http_status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def as_error_body(self) -> dict[str, Any]:
        """The API's error body: ``{"error": {"code", "message", ...details}}``."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


def _quoted_list(names: Iterable[str], limit: int = 10) -> str:
    # Long lists are cut so that a hostile submission cannot blow up an error message.
    ordered = sorted(names)
    shown = ", ".join(repr(name[:80]) for name in ordered[:limit])
    return shown if len(ordered) <= limit else f"{shown} and {len(ordered) - limit} more"


class InvalidWorkflow(GraphEditError):
    """The workflow is not an API-format graph (ids → {class_type, inputs})."""

    code = "workflow_invalid"

    def __init__(self, reason: str, *, node_id: str | None = None) -> None:
        where = f"node {node_id[:80]!r}: " if node_id is not None else ""
        super().__init__(f"workflow is not a valid API-format graph: {where}{reason}")
        self.details = {"node_id": node_id, "reason": reason}


class InvalidParams(GraphEditError):
    """``params`` that cannot be used to fill placeholders."""

    code = "invalid_params"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid params: {reason}", reason=reason)


class UnfilledPlaceholder(GraphEditError):
    """Placeholders such as ``__PROMPT__`` left in the graph without a param to fill them."""

    code = "unfilled_placeholder"

    def __init__(self, names: Iterable[str]) -> None:
        ordered = sorted(set(names))
        super().__init__(
            f"the workflow uses placeholders with no value: {_quoted_list(ordered)}; "
            "pass them in params (e.g. params.prompt fills __PROMPT__)",
            placeholders=ordered[:100],
        )


class UnknownOverrideTarget(GraphEditError):
    """An ``inputs`` override names a node id that the graph does not contain."""

    code = "unknown_override_target"

    def __init__(
        self, node: str, field: str, *, known_nodes: Iterable[str] = (), reason: str | None = None
    ) -> None:
        why = reason or (
            f"the workflow has no node {node[:80]!r} (node ids: {_quoted_list(known_nodes)})"
        )
        super().__init__(
            f"input override {node[:80]!r}.{field[:80]!r}: {why}", node=node, field=field
        )


class UnsafeFilenamePrefix(GraphEditError):
    """A save node's ``filename_prefix`` tries to leave the output folder."""

    code = "unsafe_filename_prefix"

    def __init__(self, node_id: str, prefix: str, reason: str) -> None:
        super().__init__(
            f"node {node_id[:80]!r}: filename_prefix {prefix[:200]!r} {reason}; "
            "use a relative prefix such as 'video/clip'",
            node_id=node_id,
            prefix=prefix[:200],
        )


class UnreferencedMedia(GraphEditError):
    """Media items that no graph input names: probably a typo in the name or the graph."""

    code = "unreferenced_media"

    def __init__(self, names: Iterable[str]) -> None:
        ordered = sorted(set(names))
        super().__init__(
            f"media not used by any node input: {_quoted_list(ordered)}; set a node input "
            "(e.g. LoadImage.image) to exactly the media name",
            names=ordered[:100],
        )


class MediaError(GraphEditError):
    """A media item we refuse before the job is stored."""

    code = "invalid_media"


class UnsafeMediaName(MediaError):
    """A media name that could be read as a path or hide characters; never rewritten."""

    code = "unsafe_media_name"

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"media name {name[:80]!r} {reason}; use a plain file name such as 'input.png'",
            name=name[:200],
            reason=reason,
        )


class InvalidBase64(MediaError):
    """Media data that is not strict standard base64."""

    code = "invalid_base64"

    def __init__(self, reason: str, *, name: str | None = None) -> None:
        where = f"media {name[:80]!r}: " if name is not None else ""
        super().__init__(f"{where}{reason}", name=name, reason=reason)


class UnsupportedMediaType(MediaError):
    """Neither the bytes, the content type nor the name tell us what a media item is."""

    code = "unsupported_media_type"

    def __init__(self, name: str, content_type: str | None) -> None:
        super().__init__(
            f"media {name[:80]!r} (content type {content_type!r}) is not a known image, "
            "audio or video format; give the name an extension such as .png, .wav or .mp4",
            name=name[:200],
            content_type=content_type,
        )


class TooManyMedia(MediaError):
    """More media items (media-typed ``inputs`` included) than the configured limit."""

    code = "too_many_media"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"{count} media items given, at most {limit} are allowed per job",
            count=count,
            limit=limit,
        )


class MediaTooLarge(MediaError):
    """A media item whose decoded size is over the limit."""

    code = "media_too_large"
    http_status = 413

    def __init__(self, limit_bytes: int, *, name: str | None = None, size: int | None = None):
        what = f"media {name[:80]!r}" if name is not None else "a media item"
        size_text = f" ({size} bytes)" if size is not None else ""
        super().__init__(
            f"{what}{size_text} is over the limit of {limit_bytes} bytes; send a smaller file",
            name=name,
            size_bytes=size,
            limit_bytes=limit_bytes,
        )
