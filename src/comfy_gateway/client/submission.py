"""What a submit sends (pure): the ``request`` JSON and the media file parts.

Media files travel as multipart file parts whose filename is the file's base name, the
name the workflow uses to refer to them; without media the request goes as plain JSON.
``--set`` and ``--param`` command-line values are parsed here too, so the SDK and the CLI
read them the same way.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MEDIA_PART = "media"
REQUEST_PART = "request"


@dataclass(frozen=True, kw_only=True)
class InputOverride:
    """Set one node input: ``{"node", "field", "value"}`` of the request's ``inputs``."""

    node: str
    field: str
    value: Any

    def to_body(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "value": self.value}


@dataclass(frozen=True, kw_only=True)
class MediaFile:
    """A local file sent as a file part; the workflow names it ``name``."""

    path: Path
    name: str
    content_type: str

    @classmethod
    def from_path(cls, path: Path) -> MediaFile:
        guessed, _ = mimetypes.guess_type(path.name)
        return cls(path=path, name=path.name, content_type=guessed or "application/octet-stream")


@dataclass(frozen=True, kw_only=True)
class Submission:
    """Everything a ``POST /v1/jobs`` carries."""

    workflow: dict[str, Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[InputOverride] = ()
    media: Sequence[MediaFile] = ()
    priority: int = 0
    timeout_s: float | None = None
    webhook_url: str | None = None

    def request_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"workflow": self.workflow, "priority": self.priority}
        if self.params:
            body["params"] = dict(self.params)
        if self.inputs:
            body["inputs"] = [item.to_body() for item in self.inputs]
        if self.timeout_s is not None:
            body["timeout_s"] = self.timeout_s
        if self.webhook_url is not None:
            body["webhook_url"] = self.webhook_url
        return body

    def request_part(self) -> str:
        return json.dumps(self.request_body(), ensure_ascii=False)


def media_files(paths: Sequence[Path]) -> list[MediaFile]:
    """One part per path; two files with one base name would be ambiguous to the graph."""
    files = [MediaFile.from_path(path) for path in paths]
    names = [item.name for item in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"media files must have distinct names; repeated: {duplicates}")
    return files


def parse_cli_value(text: str) -> Any:
    """JSON when the text parses as JSON (``42`` → 42, ``true``, ``[1,2]``), else the text
    itself (``a cat``); quote it as JSON (``'"42"'``) to force a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_param(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` → ``(NAME, value)``."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), parse_cli_value(value)


def parse_input_override(text: str) -> InputOverride:
    """``NODE.FIELD=VALUE`` → an override; the node id ends at the first dot (ComfyUI's
    ids are numbers or ``a:b`` for subgraphs, never dotted)."""
    target, equals, value = text.partition("=")
    node, dot, field_name = target.partition(".")
    if not equals or not dot or not node.strip() or not field_name.strip():
        raise ValueError(f"expected NODE.FIELD=VALUE, got {text!r}")
    return InputOverride(node=node.strip(), field=field_name.strip(), value=parse_cli_value(value))


def parse_workflow(text: str) -> dict[str, Any]:
    """The workflow file's graph: a JSON object (ComfyUI's API format)."""
    try:
        graph = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the workflow is not JSON: {exc}") from exc
    if not isinstance(graph, dict):
        raise ValueError("the workflow must be a JSON object {node_id: {class_type, inputs}}")
    return graph
