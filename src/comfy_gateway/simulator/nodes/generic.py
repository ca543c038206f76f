"""Placeholder outputs for node classes the simulator does not implement for real."""

from __future__ import annotations

from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.digests import digest_of
from comfy_gateway.simulator.nodes.registry import NodeResult
from comfy_gateway.simulator.nodes.values import (
    IMAGE_LATENT_CHANNELS,
    Marker,
    MeshValue,
    VideoValue,
    audio_value,
    image_batch,
    latent_value,
)

PLACEHOLDER_SIZE = 64
PLACEHOLDER_SAMPLE_RATE = 16000
_SCALARS = (str, int, float, bool, type(None))


def placeholder_result(
    inputs: dict[str, Any], ctx: NodeContext, node_info: dict[str, Any]
) -> NodeResult:
    """One placeholder per declared output, typed by the output's declared type."""
    ctx.check_interrupted()
    class_type = str(node_info.get("name", "unknown"))
    types = node_info.get("output", [])
    details = marker_details(inputs)
    outputs = tuple(placeholder_value(kind, class_type, details) for kind in types)
    return NodeResult(outputs=outputs, ui=None)


def placeholder_value(
    output_type: Any, class_type: str, details: tuple[tuple[str, Any], ...] = ()
) -> Any:
    """A value of `output_type` small enough to cost nothing."""
    if isinstance(output_type, list):
        return output_type[0] if output_type else ""
    builder = _BUILDERS.get(str(output_type))
    if builder is not None:
        return builder()
    return Marker(kind=str(output_type), source=class_type, details=details)


def marker_details(inputs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Scalar inputs as they are, anything bigger as a digest: what a marker remembers."""
    return tuple(
        (name, value if isinstance(value, _SCALARS) else digest_of(value))
        for name, value in sorted(inputs.items())
    )


def _image() -> Any:
    return image_batch(1, PLACEHOLDER_SIZE, PLACEHOLDER_SIZE)


def _mask() -> Any:
    return np.zeros((1, PLACEHOLDER_SIZE, PLACEHOLDER_SIZE), dtype=np.float32)


def _latent() -> Any:
    side = PLACEHOLDER_SIZE // 8
    return latent_value(np.zeros((1, IMAGE_LATENT_CHANNELS, side, side), dtype=np.float32))


def _audio() -> Any:
    return audio_value(
        np.zeros((1, 1, PLACEHOLDER_SAMPLE_RATE), np.float32), PLACEHOLDER_SAMPLE_RATE
    )


def _video() -> Any:
    return VideoValue(frames=image_batch(1, PLACEHOLDER_SIZE, PLACEHOLDER_SIZE), fps=8.0)


def _mesh() -> Any:
    # One tetrahedron, so a SaveGLB downstream writes a real (if tiny) model.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], dtype=np.uint32)
    return MeshValue(vertices=vertices[np.newaxis], faces=faces[np.newaxis])


_BUILDERS: dict[str, Any] = {
    "IMAGE": _image,
    "MASK": _mask,
    "LATENT": _latent,
    "AUDIO": _audio,
    "VIDEO": _video,
    "MESH": _mesh,
    "INT": lambda: 0,
    "FLOAT": lambda: 0.0,
    "STRING": lambda: "",
    "BOOLEAN": lambda: False,
}
