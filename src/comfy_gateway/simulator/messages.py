"""Pure builders of the WebSocket payloads ComfyUI 0.3.64 sends (shapes from ws_transcript.md).

Each builder returns the `data` object; :func:`envelope` wraps it as `{"type", "data"}`.
Key order follows the captured frames so a byte-level diff against the transcript is quiet.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
IMAGE_FORMAT_CODES = {"JPEG": 1, "PNG": 2}
IMAGE_MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def envelope(event: str, data: dict[str, Any]) -> str:
    return json.dumps({"type": event, "data": data})


def status_data(queue_remaining: int, sid: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"status": {"exec_info": {"queue_remaining": queue_remaining}}}
    if sid is not None:
        data["sid"] = sid
    return data


def executing_data(node_id: str | None, prompt_id: str) -> dict[str, Any]:
    if node_id is None:
        return {"node": None, "prompt_id": prompt_id}
    return {"node": node_id, "display_node": node_id, "prompt_id": prompt_id}


def reconnect_executing_data(node_id: str) -> dict[str, Any]:
    """What a socket reconnecting mid-run gets: the node only (scenario d4)."""
    return {"node": node_id}


def executed_data(node_id: str, output: dict[str, Any] | None, prompt_id: str) -> dict[str, Any]:
    return {"node": node_id, "display_node": node_id, "output": output, "prompt_id": prompt_id}


def progress_data(value: int, maximum: int, prompt_id: str, node_id: str) -> dict[str, Any]:
    return {"value": value, "max": maximum, "prompt_id": prompt_id, "node": node_id}


def node_meta(node_id: str) -> dict[str, Any]:
    """The history `meta` entry of a node with UI output."""
    return {
        "node_id": node_id,
        "display_node": node_id,
        "parent_node": None,
        "real_node_id": node_id,
    }


def full_type_name(exception: BaseException) -> str:
    """ComfyUI's exception_type: module-qualified, except for builtins."""
    kind = type(exception)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def format_value(value: Any) -> Any:
    """How ComfyUI renders an input value in `current_inputs`: primitives kept, else str()."""
    if value is None or isinstance(value, int | float | bool | str):
        return value
    if isinstance(value, np.ndarray):
        return tensor_repr(value)
    return str(value)


def tensor_repr(array: np.ndarray[Any, Any]) -> str:
    """Our images are numpy arrays where ComfyUI's are torch tensors: print them as torch does."""
    body = np.array2string(
        array,
        precision=4,
        separator=", ",
        threshold=1000,
        edgeitems=3,
        prefix="tensor(",
        floatmode="fixed",
        max_line_width=80,
    )
    return f"tensor({body})"


def preview_frame_legacy(image_bytes: bytes, image_format: str) -> bytes:
    """Binary event 1: event type, image format code, image bytes."""
    header = struct.pack(">II", PREVIEW_IMAGE, IMAGE_FORMAT_CODES[image_format])
    return header + image_bytes


def preview_frame_with_metadata(
    image_bytes: bytes, image_format: str, *, prompt_id: str, node_id: str
) -> bytes:
    """Binary event 4: event type, metadata length, metadata JSON, image bytes."""
    metadata = json.dumps(
        {
            "node_id": node_id,
            "prompt_id": prompt_id,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
            "image_type": IMAGE_MIME_TYPES[image_format],
        }
    ).encode()
    header = struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(metadata))
    return header + metadata + image_bytes
