"""check_workflow_shape: what an API-format graph is, and hostile look-alikes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.jobs.domain_errors import GraphEditError, InvalidWorkflow
from comfy_gateway.jobs.graph import MAX_VALUE_DEPTH, check_workflow_shape


def _nested_list(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _node(**inputs: Any) -> dict[str, Any]:
    return {"class_type": "SaveImage", "inputs": inputs}


INVALID: list[tuple[str, object, str]] = [
    ("list", [_node()], "JSON object"),
    ("string", "graph", "JSON object"),
    ("null", None, "JSON object"),
    ("empty", {}, "no nodes"),
    ("ui format", {"nodes": [], "links": [], "last_node_id": 3}, "Export (API)"),
    ("node not object", {"1": ["SaveImage"]}, "expected an object"),
    ("no class_type", {"1": {"inputs": {}}}, "class_type"),
    ("empty class_type", {"1": {"class_type": "", "inputs": {}}}, "class_type"),
    ("class_type number", {"1": {"class_type": 3, "inputs": {}}}, "class_type"),
    ("no inputs", {"1": {"class_type": "SaveImage"}}, "'inputs' must be an object"),
    ("inputs list", {"1": {"class_type": "X", "inputs": [1, 2]}}, "'inputs' must be an object"),
    ("integer node id", {1: _node()}, "node id"),
    ("empty node id", {"": _node()}, "node id"),
    ("huge node id", {"9" * 10_000: _node()}, "longer than"),
    ("integer input name", {"1": {"class_type": "X", "inputs": {3: "a"}}}, "input name"),
    ("non-string nested key", {"1": _node(opts={1: "a"})}, "key of type int"),
    ("nan", {"1": _node(cfg=float("nan"))}, "finite"),
    ("infinity in list", {"1": _node(v=[1, float("inf")])}, "finite"),
    ("python object", {"1": _node(v={1, 2})}, "not a JSON value"),
    ("bytes", {"1": _node(v=b"x")}, "not a JSON value"),
    ("too deep", {"1": _node(v=_nested_list(MAX_VALUE_DEPTH + 1))}, "deeper than"),
    ("deep _meta", {"1": {**_node(), "_meta": _nested_list(10_000)}}, "deeper than"),
]


@pytest.mark.parametrize(("case", "obj", "fragment"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_workflows_are_refused_with_a_useful_message(
    case: str, obj: object, fragment: str
) -> None:
    with pytest.raises(InvalidWorkflow, match="workflow") as raised:
        check_workflow_shape(obj)
    assert fragment in str(raised.value)
    assert raised.value.code == "workflow_invalid"
    assert raised.value.http_status == 422


def test_error_body_names_the_node() -> None:
    with pytest.raises(GraphEditError) as raised:
        check_workflow_shape({"7": {"class_type": "X", "inputs": "nope"}})
    body = raised.value.as_error_body()["error"]
    assert body["code"] == "workflow_invalid"
    assert body["node_id"] == "7"
    assert "'7'" in body["message"]


def test_valid_graph_is_copied_with_meta_and_unknown_keys_kept() -> None:
    graph: dict[str, dict[str, Any]] = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "opts": {"a": [1, None]}}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}, "_meta": {"title": "t"}},
    }
    checked = check_workflow_shape(graph)
    assert checked == graph
    checked["1"]["inputs"]["opts"]["a"].append(2)
    assert graph["1"]["inputs"]["opts"]["a"] == [1, None], "the caller's graph was shared"


def test_nesting_just_under_the_limit_is_accepted() -> None:
    graph = {"1": _node(v=_nested_list(MAX_VALUE_DEPTH))}
    assert check_workflow_shape(graph) == graph


def test_captured_wan_graphs_are_valid(shared_comfyui_dir: Path) -> None:
    for name in ("wan22_i2v_api_example.json", "wan22_s2v_api_example.json"):
        graph = json.loads((shared_comfyui_dir / name).read_text(encoding="utf-8"))
        assert check_workflow_shape(graph) == graph
