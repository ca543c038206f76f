"""Simulated ComfyUI nodes: real computation where it is cheap, typed placeholders elsewhere.

The executor calls :func:`execute_node` with inputs whose links are already resolved to
upstream output values; any exception raised here is reported as an execution error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Each node module registers its classes when imported.
from comfy_gateway.simulator.nodes import (  # noqa: F401
    audio,
    generic,
    image_edits,
    image_outputs,
    images,
    large_file,
    latent,
    models,
    outputs_misc,
    samplers,
    video,
    wan,
)
from comfy_gateway.simulator.nodes.context import Interrupted, NodeContext
from comfy_gateway.simulator.nodes.registry import (
    NodeResult,
    fingerprint_function_of,
    implementation_of,
    is_registered_sampler,
    simulator_only_definitions,
)

__all__ = [
    "Interrupted",
    "NodeContext",
    "NodeResult",
    "cache_fingerprint",
    "execute_node",
    "is_sampler",
    "simulator_only_definitions",
]


def execute_node(
    class_type: str, inputs: dict[str, Any], ctx: NodeContext, node_info: dict[str, Any]
) -> NodeResult:
    """Run one node; classes without a real implementation get typed placeholders."""
    implementation = implementation_of(class_type)
    if implementation is None:
        return generic.placeholder_result(inputs, ctx, node_info)
    return implementation(inputs, ctx, node_info)


def is_sampler(class_type: str) -> bool:
    """Whether the class runs a denoising loop (reports progress once per step)."""
    return is_registered_sampler(class_type)


def cache_fingerprint(class_type: str, inputs: dict[str, Any], input_dir: Path) -> str | None:
    """An extra cache key like ComfyUI's IS_CHANGED (None: the inputs alone decide)."""
    function = fingerprint_function_of(class_type)
    return None if function is None else function(inputs, input_dir)
