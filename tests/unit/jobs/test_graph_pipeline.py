"""prepare_graph: the contract's order of edits and what each step sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from comfy_gateway.jobs.domain_errors import (
    InvalidWorkflow,
    UnfilledPlaceholder,
    UnknownOverrideTarget,
    UnreferencedMedia,
    UnsafeFilenamePrefix,
)
from comfy_gateway.jobs.graph import InputOverride, prepare_graph

JOB = "0193a5c4-7b1e-7000-8000-000000000002"
REF = "comfy-gateway/" + "b" * 64 + ".png"


def _workflow() -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": "__IMAGE__"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "__PROMPT__"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": "__SEED__", "model": ["9", 0]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
    }


def test_every_edit_is_applied_in_order() -> None:
    workflow = _workflow()
    original = copy.deepcopy(workflow)
    prepared = prepare_graph(
        workflow,
        job_id=JOB,
        params={"image": "photo.png", "prompt": "a fox", "seed": 5},
        overrides=[InputOverride(node="2", field="text", value="an owl")],
        media_refs={"photo.png": REF},
    )
    inputs = {node_id: node["inputs"] for node_id, node in prepared.graph.items()}
    # The placeholder produced the media name, which wiring then replaced.
    assert inputs["1"]["image"] == REF
    assert inputs["2"]["text"] == "an owl"
    assert inputs["3"]["seed"] == 5
    assert inputs["4"]["filename_prefix"] == f"comfy-gateway/{JOB}/x"
    assert prepared.used_params == {"image", "prompt", "seed"}
    assert prepared.used_media == {"photo.png"}
    assert set(prepared.prefix_rewrites) == {"4"}
    assert workflow == original


def test_an_overridden_input_needs_no_param_for_its_placeholder() -> None:
    prepared = prepare_graph(
        _workflow(),
        job_id=JOB,
        params={"prompt": "p", "seed": 1},
        overrides=[InputOverride(node="1", field="image", value="photo.png")],
        media_refs={"photo.png": REF},
    )
    assert prepared.graph["1"]["inputs"]["image"] == REF


def test_placeholder_text_brought_by_params_or_overrides_is_not_unfilled() -> None:
    prepared = prepare_graph(
        _workflow(),
        job_id=JOB,
        params={"image": "a.png", "prompt": "write __MAIN__", "seed": 1},
        overrides=[InputOverride(node="4", field="note", value="__ALSO_TEXT__")],
        media_refs={"a.png": REF},
    )
    assert prepared.graph["2"]["inputs"]["text"] == "write __MAIN__"
    assert prepared.graph["4"]["inputs"]["note"] == "__ALSO_TEXT__"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"workflow": []}, InvalidWorkflow),
        ({"params": {"image": "a.png", "seed": 1}}, UnfilledPlaceholder),
        (
            {"overrides": [InputOverride(node="77", field="x", value=1)]},
            UnknownOverrideTarget,
        ),
        ({"media_refs": {"a.png": REF, "b.png": REF}}, UnreferencedMedia),
        (
            {"overrides": [InputOverride(node="4", field="filename_prefix", value="../up")]},
            UnsafeFilenamePrefix,
        ),
    ],
)
def test_each_step_can_refuse(kwargs: dict[str, Any], error: type[Exception]) -> None:
    arguments: dict[str, Any] = {
        "workflow": _workflow(),
        "params": {"image": "a.png", "prompt": "p", "seed": 1},
        "media_refs": {"a.png": REF},
        **kwargs,
    }
    workflow = arguments.pop("workflow")
    with pytest.raises(error):
        prepare_graph(workflow, job_id=JOB, **arguments)
