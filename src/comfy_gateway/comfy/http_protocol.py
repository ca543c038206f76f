"""Pure builders and parsers for ComfyUI's HTTP routes (no I/O here).

Shapes follow ``shared/comfyui/protocol.md`` (ComfyUI 0.3.64). Parsers raise
:class:`ComfyProtocolError` when an answer is not what the protocol promises, so the
I/O layer only moves bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from comfy_gateway.errors import ComfyProtocolError

FolderType = Literal["input", "output", "temp"]


@dataclass(frozen=True, kw_only=True)
class QueuedPrompt:
    """POST /prompt accepted the prompt (``node_errors`` lists outputs it dropped)."""

    prompt_id: str
    number: int
    node_errors: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class QueueItem:
    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: tuple[str, ...]

    @property
    def client_id(self) -> str | None:
        value = self.extra_data.get("client_id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, kw_only=True)
class QueueSnapshot:
    """GET /queue: running items and pending items (pending is in heap order)."""

    running: tuple[QueueItem, ...]
    pending: tuple[QueueItem, ...]

    def state_of(self, prompt_id: str) -> Literal["running", "pending"] | None:
        if any(item.prompt_id == prompt_id for item in self.running):
            return "running"
        if any(item.prompt_id == prompt_id for item in self.pending):
            return "pending"
        return None

    @property
    def running_prompt_id(self) -> str | None:
        return self.running[0].prompt_id if self.running else None


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One ``/history`` entry; ``messages`` are the stored execution events."""

    prompt_id: str
    status_str: str
    completed: bool
    outputs: dict[str, dict[str, Any]]
    messages: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True, kw_only=True)
class UploadedFile:
    """What POST /upload/image stored: ``name`` may differ from ours (``x (1).png``)."""

    name: str
    subfolder: str
    type: str

    @property
    def reference(self) -> str:
        """The value to put in LoadImage.image: ``subfolder/name`` or just ``name``."""
        return f"{self.subfolder}/{self.name}" if self.subfolder else self.name


def build_prompt_body(
    prompt: dict[str, Any],
    *,
    client_id: str,
    prompt_id: str | None = None,
    front: bool = False,
    extra_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /prompt."""
    body: dict[str, Any] = {"prompt": prompt, "client_id": client_id}
    if prompt_id is not None:
        body["prompt_id"] = prompt_id
    if front:
        body["front"] = True
    if extra_data:
        body["extra_data"] = extra_data
    return body


def build_view_params(
    filename: str, subfolder: str = "", folder_type: str = "output"
) -> dict[str, str]:
    return {"filename": filename, "subfolder": subfolder, "type": folder_type}


def build_upload_fields(
    *, subfolder: str = "", folder_type: FolderType = "input", overwrite: bool = False
) -> dict[str, str]:
    """Text fields of the upload form; ComfyUI only honours overwrite as "true"/"1"."""
    fields: dict[str, str] = {"type": folder_type}
    if subfolder:
        fields["subfolder"] = subfolder
    if overwrite:
        fields["overwrite"] = "true"
    return fields


def decode_json(text: str, what: str) -> Any:
    """Parse a JSON answer; ``what`` names the request in the error message."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ComfyProtocolError(
            f"{what} answered something that is not JSON: {text[:200]!r}"
        ) from exc


def _expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ComfyProtocolError(f"{what} answered {type(value).__name__}, expected an object")
    return value


def parse_queued_prompt(raw: Any) -> QueuedPrompt:
    data = _expect_dict(raw, "POST /prompt")
    try:
        return QueuedPrompt(
            prompt_id=str(data["prompt_id"]),
            number=int(data["number"]),
            node_errors=dict(data.get("node_errors") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ComfyProtocolError(
            f"POST /prompt answered an unexpected shape: {data!r:.200}"
        ) from exc


def parse_queue_item(raw: Any) -> QueueItem:
    number, prompt_id, prompt, extra_data, outputs = raw[:5]
    return QueueItem(
        number=float(number),
        prompt_id=str(prompt_id),
        prompt=dict(prompt),
        extra_data=dict(extra_data or {}),
        outputs_to_execute=tuple(str(node) for node in outputs or ()),
    )


def parse_queue(raw: Any) -> QueueSnapshot:
    data = _expect_dict(raw, "GET /queue")
    try:
        return QueueSnapshot(
            running=tuple(parse_queue_item(item) for item in data.get("queue_running") or ()),
            pending=tuple(parse_queue_item(item) for item in data.get("queue_pending") or ()),
        )
    except (TypeError, ValueError) as exc:
        raise ComfyProtocolError("GET /queue answered items of an unexpected shape") from exc


def parse_history_entry(prompt_id: str, raw: Any) -> HistoryEntry:
    entry = _expect_dict(raw, f"GET /history/{prompt_id}")
    status = entry.get("status") or {}
    try:
        messages = tuple((str(name), dict(data)) for name, data in status.get("messages") or ())
        return HistoryEntry(
            prompt_id=prompt_id,
            status_str=str(status.get("status_str") or ""),
            completed=bool(status.get("completed", False)),
            outputs={str(node): dict(ui) for node, ui in (entry.get("outputs") or {}).items()},
            messages=messages,
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ComfyProtocolError(f"history entry {prompt_id} has an unexpected shape") from exc


def parse_history(raw: Any) -> dict[str, HistoryEntry]:
    data = _expect_dict(raw, "GET /history")
    return {str(key): parse_history_entry(str(key), value) for key, value in data.items()}


def parse_uploaded_file(raw: Any) -> UploadedFile:
    data = _expect_dict(raw, "POST /upload/image")
    try:
        return UploadedFile(
            name=str(data["name"]),
            subfolder=str(data.get("subfolder") or ""),
            type=str(data.get("type") or "input"),
        )
    except KeyError as exc:
        raise ComfyProtocolError("POST /upload/image answered without a 'name'") from exc
