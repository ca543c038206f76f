"""A recording NodeContext and a tiny graph runner shared by the node tests.

Imported by the other `test_nodes_*` modules; its own tests check the fallback paths.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from comfy_gateway.simulator.catalogue import load_captured_object_info
from comfy_gateway.simulator.nodes import (
    Interrupted,
    NodeContext,
    NodeResult,
    cache_fingerprint,
    execute_node,
    is_sampler,
)
from comfy_gateway.simulator.nodes.values import Marker


@dataclass
class RecordingContext:
    """Records progress and previews; raises Interrupted once `interrupt_after` ticks passed."""

    input_dir: Path
    output_dir: Path
    temp_dir: Path
    prompt_id: str = "prompt-1"
    node_id: str = "1"
    interrupt_after: int | None = None
    events: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def progress(self) -> list[tuple[int, int]]:
        return [value for kind, value in self.events if kind == "progress"]

    @property
    def previews(self) -> list[tuple[bytes, str]]:
        return [value for kind, value in self.events if kind == "preview"]

    def report_progress(self, value: int, total: int) -> None:
        self.check_interrupted()
        self.events.append(("progress", (value, total)))

    def simulate_steps(self, steps: int) -> None:
        for step in range(steps):
            self.report_progress(step + 1, steps)

    def check_interrupted(self) -> None:
        if self.interrupt_after is not None and len(self.progress) >= self.interrupt_after:
            raise Interrupted("Processing interrupted")

    def send_preview(self, image_bytes: bytes, image_format: str) -> None:
        self.events.append(("preview", (image_bytes, image_format)))


def make_context(root: Path) -> RecordingContext:
    folders = [root / name for name in ("input", "output", "temp")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return RecordingContext(input_dir=folders[0], output_dir=folders[1], temp_dir=folders[2])


@functools.cache
def object_info() -> dict[str, Any]:
    return load_captured_object_info()


def run_node(ctx: NodeContext, class_type: str, **inputs: Any) -> NodeResult:
    return execute_node(class_type, inputs, ctx, object_info()[class_type])


@dataclass
class GraphRun:
    values: dict[str, tuple[Any, ...]]
    ui: dict[str, dict[str, Any]]
    progress: dict[str, list[tuple[int, int]]]


def run_graph(ctx: RecordingContext, graph: dict[str, Any]) -> GraphRun:
    """Execute an API-format graph in dependency order, resolving links (no caching)."""
    run = GraphRun(values={}, ui={}, progress={})
    pending = dict(graph)
    while pending:
        ready = [node_id for node_id, node in pending.items() if _inputs_ready(node, run)]
        assert ready, f"graph has a cycle or a dangling link: {sorted(pending)}"
        for node_id in ready:
            _run_graph_node(ctx, node_id, pending.pop(node_id), run)
    return run


def _inputs_ready(node: dict[str, Any], run: GraphRun) -> bool:
    return all(v[0] in run.values for v in node["inputs"].values() if _is_link(v))


def _run_graph_node(
    ctx: RecordingContext, node_id: str, node: dict[str, Any], run: GraphRun
) -> None:
    inputs = {
        name: run.values[value[0]][value[1]] if _is_link(value) else value
        for name, value in node["inputs"].items()
    }
    before = len(ctx.progress)
    ctx.node_id = node_id
    result = run_node(ctx, node["class_type"], **inputs)
    run.values[node_id] = result.outputs
    run.progress[node_id] = ctx.progress[before:]
    if result.ui is not None:
        run.ui[node_id] = result.ui


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


# --- tests of the fallback paths ---------------------------------------------------------


@pytest.fixture
def ctx(tmp_path: Path) -> RecordingContext:
    return make_context(tmp_path)


def test_unimplemented_class_gets_placeholders_typed_by_declared_outputs(
    ctx: RecordingContext,
) -> None:
    result = run_node(ctx, "unCLIPCheckpointLoader", ckpt_name="x.safetensors")
    kinds = [value.kind for value in result.outputs]
    assert kinds == object_info()["unCLIPCheckpointLoader"]["output"]
    assert all(isinstance(value, Marker) for value in result.outputs)

    image = run_node(
        ctx, "ImageBlur", image=np.zeros((1, 8, 8, 3), np.float32), blur_radius=1, sigma=1.0
    ).outputs[0]
    assert image.shape[0] == 1
    assert image.shape[-1] == 3
    assert image.dtype == np.float32


def test_generic_marker_remembers_its_inputs(ctx: RecordingContext) -> None:
    first = run_node(ctx, "KSamplerSelect", sampler_name="euler").outputs[0]
    second = run_node(ctx, "KSamplerSelect", sampler_name="heun").outputs[0]
    assert first.kind == "SAMPLER"
    assert first.detail("sampler_name") == "euler"
    assert first != second


def test_generic_node_honours_interrupts(ctx: RecordingContext) -> None:
    ctx.interrupt_after = 0
    with pytest.raises(Interrupted):
        run_node(ctx, "KSamplerSelect", sampler_name="euler")


def test_samplers_are_flagged() -> None:
    assert is_sampler("KSampler")
    assert is_sampler("KSamplerAdvanced")
    assert is_sampler("SamplerCustomAdvanced")
    assert not is_sampler("SaveImage")
    assert not is_sampler("NoSuchNode")


def test_fingerprint_is_none_for_nodes_without_one(tmp_path: Path) -> None:
    assert cache_fingerprint("ImageInvert", {"image": ["1", 0]}, tmp_path) is None


def test_websocket_saver_is_never_cached(tmp_path: Path) -> None:
    first = cache_fingerprint("SaveImageWebsocket", {}, tmp_path)
    second = cache_fingerprint("SaveImageWebsocket", {}, tmp_path)
    assert first is not None
    assert first != second
