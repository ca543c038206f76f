"""Typed ComfyUI WebSocket events and the pure parsers that build them.

One frozen class per message type observed on a real ComfyUI 0.3.64 socket (see
``shared/comfyui/ws_transcript.md``). Text frames are ``{"type": str, "data": {...}}``;
binary frames are a 4-byte big-endian event number followed by a payload. Anything we do
not know is passed through as :class:`UnknownEvent` rather than dropped, because ComfyUI
and its custom nodes add message types freely.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from comfy_gateway.errors import ComfyProtocolError

# Binary event numbers from ComfyUI's protocol.py.
BINARY_PREVIEW_IMAGE = 1
BINARY_TEXT = 3
BINARY_PREVIEW_IMAGE_WITH_METADATA = 4
_IMAGE_FORMATS = {1: "JPEG", 2: "PNG"}


@dataclass(frozen=True, kw_only=True)
class Status:
    """Queue size broadcast to every socket; ``sid`` only in the first one after connect."""

    queue_remaining: int
    sid: str | None = None


@dataclass(frozen=True, kw_only=True)
class FeatureFlags:
    """The server's feature flags, sent in reply to our own ``feature_flags`` message."""

    flags: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ExecutionStart:
    prompt_id: str
    timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class ExecutionCached:
    prompt_id: str
    nodes: tuple[str, ...]
    timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class Executing:
    """A node started; ``node is None`` with a prompt id is the end-of-prompt marker.

    On reconnect ComfyUI sends ``{"node": id}`` with neither ``prompt_id`` nor
    ``display_node``: the prompt must then be found through ``GET /queue``.
    """

    node: str | None
    prompt_id: str | None = None
    display_node: str | None = None

    @property
    def is_end_marker(self) -> bool:
        return self.node is None and self.prompt_id is not None


@dataclass(frozen=True, kw_only=True)
class Executed:
    """An output node produced UI data (also re-sent for cached output nodes)."""

    prompt_id: str
    node: str
    output: dict[str, Any]
    display_node: str | None = None


@dataclass(frozen=True, kw_only=True)
class Progress:
    prompt_id: str | None
    node: str | None
    value: int
    max: int


@dataclass(frozen=True, kw_only=True)
class NodeProgress:
    """One node's entry in a ``progress_state`` message."""

    node_id: str
    value: float
    max: float
    state: str
    display_node_id: str | None = None
    parent_node_id: str | None = None
    real_node_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProgressState:
    prompt_id: str
    nodes: dict[str, NodeProgress]


@dataclass(frozen=True, kw_only=True)
class ExecutionSuccess:
    prompt_id: str
    timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class ExecutionError:
    prompt_id: str
    node_id: str
    node_type: str
    exception_type: str
    exception_message: str
    traceback: tuple[str, ...] = ()
    executed: tuple[str, ...] = ()
    current_inputs: dict[str, Any] | None = None
    current_outputs: tuple[str, ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class ExecutionInterrupted:
    prompt_id: str
    node_id: str
    node_type: str
    executed: tuple[str, ...] = ()
    timestamp: int | None = None


@dataclass(frozen=True, kw_only=True)
class PreviewImage:
    """A binary preview (event 1, or event 4 which adds metadata naming the prompt)."""

    image_format: str
    image: bytes
    metadata: dict[str, Any] | None = None

    @property
    def prompt_id(self) -> str | None:
        value = (self.metadata or {}).get("prompt_id")
        return value if isinstance(value, str) else None

    @property
    def node_id(self) -> str | None:
        value = (self.metadata or {}).get("node_id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, kw_only=True)
class UnknownEvent:
    """A text message type we do not model, or a binary event we do not decode."""

    type: str
    data: Any


Event = (
    Status
    | FeatureFlags
    | ExecutionStart
    | ExecutionCached
    | Executing
    | Executed
    | Progress
    | ProgressState
    | ExecutionSuccess
    | ExecutionError
    | ExecutionInterrupted
    | PreviewImage
    | UnknownEvent
)


def parse_text_frame(text: str) -> Event:
    """Parse one JSON text frame; raise ComfyProtocolError if it is not an envelope."""
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise ComfyProtocolError(f"WebSocket text frame is not JSON: {text[:200]!r}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ComfyProtocolError(f"WebSocket frame lacks a string 'type': {text[:200]!r}")
    return parse_event(message["type"], message.get("data"))


def parse_event(kind: str, data: Any) -> Event:
    """Build the event for a message ``type`` and its ``data`` (also used for history)."""
    parser = _TEXT_PARSERS.get(kind)
    if parser is None or not isinstance(data, dict):
        return UnknownEvent(type=kind, data=data)
    try:
        event: Event = parser(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ComfyProtocolError(
            f"ComfyUI {kind!r} message has an unexpected shape: {str(data)[:300]!r}"
        ) from exc
    return event


def parse_binary_frame(frame: bytes) -> Event:
    """Decode a binary frame: previews become PreviewImage, others UnknownEvent."""
    if len(frame) < 4:
        raise ComfyProtocolError(f"binary WebSocket frame of {len(frame)} bytes has no header")
    (event_number,) = struct.unpack(">I", frame[:4])
    payload = frame[4:]
    if event_number == BINARY_PREVIEW_IMAGE:
        return _preview_image(payload)
    if event_number == BINARY_PREVIEW_IMAGE_WITH_METADATA:
        return _preview_with_metadata(payload)
    return UnknownEvent(type=f"binary:{event_number}", data=payload)


def _preview_image(payload: bytes) -> PreviewImage:
    if len(payload) < 4:
        raise ComfyProtocolError("binary preview frame is too short for its image format")
    (format_number,) = struct.unpack(">I", payload[:4])
    image_format = _IMAGE_FORMATS.get(format_number, f"format-{format_number}")
    return PreviewImage(image_format=image_format, image=payload[4:])


def _preview_with_metadata(payload: bytes) -> PreviewImage:
    if len(payload) < 4:
        raise ComfyProtocolError("binary preview frame is too short for its metadata length")
    (length,) = struct.unpack(">I", payload[:4])
    raw_metadata = payload[4 : 4 + length]
    if len(raw_metadata) != length:
        raise ComfyProtocolError("binary preview frame ends inside its metadata")
    try:
        metadata = json.loads(raw_metadata)
    except ValueError as exc:
        raise ComfyProtocolError("binary preview metadata is not JSON") from exc
    if not isinstance(metadata, dict):
        raise ComfyProtocolError("binary preview metadata is not a JSON object")
    image_type = str(metadata.get("image_type", ""))
    image_format = image_type.removeprefix("image/").upper() or "UNKNOWN"
    return PreviewImage(image_format=image_format, image=payload[4 + length :], metadata=metadata)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _ids(values: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in values or ())


def _status(data: dict[str, Any]) -> Status:
    remaining = data["status"]["exec_info"]["queue_remaining"]
    return Status(queue_remaining=int(remaining), sid=_optional_str(data.get("sid")))


def _executing(data: dict[str, Any]) -> Executing:
    return Executing(
        node=_optional_str(data.get("node")),
        prompt_id=_optional_str(data.get("prompt_id")),
        display_node=_optional_str(data.get("display_node")),
    )


def _executed(data: dict[str, Any]) -> Executed:
    output = data.get("output") or {}
    if not isinstance(output, dict):
        raise TypeError("executed.output is not an object")
    return Executed(
        prompt_id=str(data["prompt_id"]),
        node=str(data["node"]),
        output=output,
        display_node=_optional_str(data.get("display_node")),
    )


def _progress(data: dict[str, Any]) -> Progress:
    return Progress(
        prompt_id=_optional_str(data.get("prompt_id")),
        node=_optional_str(data.get("node")),
        value=int(data["value"]),
        max=int(data["max"]),
    )


def _node_progress(node_id: str, entry: dict[str, Any]) -> NodeProgress:
    return NodeProgress(
        node_id=str(entry.get("node_id", node_id)),
        value=float(entry["value"]),
        max=float(entry["max"]),
        state=str(entry["state"]),
        display_node_id=_optional_str(entry.get("display_node_id")),
        parent_node_id=_optional_str(entry.get("parent_node_id")),
        real_node_id=_optional_str(entry.get("real_node_id")),
    )


def _progress_state(data: dict[str, Any]) -> ProgressState:
    nodes = {str(key): _node_progress(str(key), entry) for key, entry in data["nodes"].items()}
    return ProgressState(prompt_id=str(data["prompt_id"]), nodes=nodes)


def _execution_error(data: dict[str, Any]) -> ExecutionError:
    return ExecutionError(
        prompt_id=str(data["prompt_id"]),
        node_id=str(data["node_id"]),
        node_type=str(data["node_type"]),
        exception_type=str(data.get("exception_type", "")),
        exception_message=str(data.get("exception_message", "")),
        traceback=tuple(str(line) for line in data.get("traceback") or ()),
        executed=_ids(data.get("executed")),
        current_inputs=data.get("current_inputs"),
        current_outputs=_ids(data.get("current_outputs")),
        timestamp=data.get("timestamp"),
    )


def _execution_interrupted(data: dict[str, Any]) -> ExecutionInterrupted:
    return ExecutionInterrupted(
        prompt_id=str(data["prompt_id"]),
        node_id=str(data["node_id"]),
        node_type=str(data["node_type"]),
        executed=_ids(data.get("executed")),
        timestamp=data.get("timestamp"),
    )


_TEXT_PARSERS: dict[str, Any] = {
    "status": _status,
    "feature_flags": lambda data: FeatureFlags(flags=dict(data)),
    "execution_start": lambda data: ExecutionStart(
        prompt_id=str(data["prompt_id"]), timestamp=data.get("timestamp")
    ),
    "execution_cached": lambda data: ExecutionCached(
        prompt_id=str(data["prompt_id"]),
        nodes=_ids(data.get("nodes")),
        timestamp=data.get("timestamp"),
    ),
    "executing": _executing,
    "executed": _executed,
    "progress": _progress,
    "progress_state": _progress_state,
    "execution_success": lambda data: ExecutionSuccess(
        prompt_id=str(data["prompt_id"]), timestamp=data.get("timestamp")
    ),
    "execution_error": _execution_error,
    "execution_interrupted": _execution_interrupted,
}


def event_prompt_id(event: Event) -> str | None:
    """The prompt an event belongs to, or None (status, reconnect executing, legacy preview)."""
    if isinstance(event, PreviewImage):
        return event.prompt_id
    if isinstance(event, Status | FeatureFlags | UnknownEvent):
        return None
    return event.prompt_id
