"""Other output nodes: PreviewAny (text) and SaveGLB (a minimal valid binary glTF)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.save_files import save_target
from comfy_gateway.simulator.nodes.values import FloatArray, MeshValue

_GLB_MAGIC = b"glTF"
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_FLOAT, _UNSIGNED_INT = 5126, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER, _TRIANGLES = 34962, 34963, 4


def preview_text(source: Any) -> str:
    """PreviewAny's rendering: strings as they are, scalars by str(), the rest as JSON."""
    if source is None:
        return "None"
    if isinstance(source, str):
        return source
    if isinstance(source, int | float | bool):
        return str(source)
    try:
        return json.dumps(source)
    except (TypeError, ValueError):
        return str(source)


@implements("PreviewAny")
def preview_any(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=(), ui={"text": [preview_text(inputs.get("source"))]})


@implements("SaveGLB")
def save_glb(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    mesh: MeshValue = inputs["mesh"]
    target = save_target(str(inputs.get("filename_prefix", "mesh/ComfyUI")), ctx.output_dir)
    results = []
    for offset in range(mesh.vertices.shape[0]):
        write_glb(target.path("glb", offset), mesh.vertices[offset], mesh.faces[offset])
        results.append(target.result("glb", offset, "output"))
    return NodeResult(outputs=(), ui={"3d": results})


def write_glb(path: Path, vertices: FloatArray, faces: Any) -> None:
    """One triangle mesh as GLB 2.0: a JSON chunk and a BIN chunk (positions, indices)."""
    positions = np.ascontiguousarray(vertices, dtype=np.float32).tobytes()
    indices = np.ascontiguousarray(faces, dtype=np.uint32).tobytes()
    binary = _pad(positions, b"\0") + _pad(indices, b"\0")
    document = _pad(json.dumps(_gltf(vertices, faces, len(positions), len(indices))).encode(), b" ")
    total = 12 + 8 + len(document) + 8 + len(binary)
    with path.open("wb") as stream:
        stream.write(struct.pack("<4sII", _GLB_MAGIC, 2, total))
        stream.write(struct.pack("<II", len(document), _CHUNK_JSON) + document)
        stream.write(struct.pack("<II", len(binary), _CHUNK_BIN) + binary)


def _gltf(
    vertices: FloatArray, faces: Any, positions_size: int, indices_size: int
) -> dict[str, Any]:
    bounds = vertices if len(vertices) else np.zeros((1, 3), np.float32)
    indices_offset = positions_size + (-positions_size % 4)
    return {
        "asset": {"version": "2.0", "generator": "comfy-gateway simulator"},
        "buffers": [{"byteLength": indices_offset + indices_size + (-indices_size % 4)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions_size, "target": _ARRAY_BUFFER},
            {
                "buffer": 0,
                "byteOffset": indices_offset,
                "byteLength": indices_size,
                "target": _ELEMENT_ARRAY_BUFFER,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": _FLOAT,
                "count": len(vertices),
                "type": "VEC3",
                "max": bounds.max(axis=0).tolist(),
                "min": bounds.min(axis=0).tolist(),
            },
            {
                "bufferView": 1,
                "componentType": _UNSIGNED_INT,
                "count": int(np.size(faces)),
                "type": "SCALAR",
            },
        ],
        "meshes": [
            {"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": _TRIANGLES}]}
        ],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }


def _pad(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)
