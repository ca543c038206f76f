"""`SimulatorOnlyLargeFile`: a simulator-only output node that writes one big `.bin` file.

It exists for the large-output benchmark and is never part of a real ComfyUI: the
simulator lists its definition in `/object_info` beside the captured catalogue. The file
is exactly `size_mb` MiB, written one MiB at a time (never the whole file in memory).
Each MiB is a block derived from the seed with the block's number in its first 8 bytes,
so files of different seeds differ and no two MiB of one file are identical.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.registry import NodeResult, implements, simulator_only
from comfy_gateway.simulator.nodes.save_files import save_target

CLASS_TYPE = "SimulatorOnlyLargeFile"
UI_KEY = "files"
EXTENSION = "bin"
MIB = 1 << 20
MAX_SIZE_MB = 4096
_COUNTER_BYTES = 8

#: The `/object_info` definition, in the shape ComfyUI gives a V1 output node.
DEFINITION: dict[str, Any] = {
    "input": {
        "required": {
            "size_mb": ["INT", {"default": 1, "min": 1, "max": MAX_SIZE_MB, "step": 1}],
            "filename_prefix": ["STRING", {"default": "large/ComfyUI"}],
            "seed": ["INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}],
        }
    },
    "input_order": {"required": ["size_mb", "filename_prefix", "seed"]},
    "output": [],
    "output_is_list": [],
    "output_name": [],
    "name": CLASS_TYPE,
    "display_name": "Large File (simulator only)",
    "description": "Simulator-only: writes a file of size_mb MiB to the output folder.",
    "python_module": "comfy_gateway.simulator",
    "category": "_simulator_only",
    "output_node": True,
}
simulator_only(CLASS_TYPE, DEFINITION)


def seed_block(seed: int) -> bytes:
    """One MiB of pseudo-random bytes that depend only on the seed."""
    return hashlib.shake_256(seed.to_bytes(16, "big", signed=True)).digest(MIB)


def write_large_file(path: Path, size_mb: int, seed: int, ctx: NodeContext) -> None:
    """`size_mb` MiB to `path`, one MiB per write, stopping when the prompt is interrupted."""
    block = bytearray(seed_block(seed))
    with path.open("wb") as stream:
        for number in range(size_mb):
            ctx.check_interrupted()
            block[:_COUNTER_BYTES] = number.to_bytes(_COUNTER_BYTES, "big")
            stream.write(block)


@implements(CLASS_TYPE)
def large_file(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    size_mb, seed = int(inputs["size_mb"]), int(inputs["seed"])
    target = save_target(str(inputs.get("filename_prefix", "large/ComfyUI")), ctx.output_dir)
    write_large_file(target.path(EXTENSION), size_mb, seed, ctx)
    return NodeResult(outputs=(), ui={UI_KEY: [target.result(EXTENSION, 0, "output")]})
