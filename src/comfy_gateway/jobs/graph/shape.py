"""Checking that a submitted workflow is an API-format graph before anything edits it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.jobs.domain_errors import InvalidWorkflow
from comfy_gateway.jobs.graph.values import Graph, copy_graph

#: Node ids are short strings in every real graph; a cap keeps error messages and logs sane.
MAX_NODE_ID_LENGTH = 256
MAX_NODES = 10_000


def check_workflow_shape(obj: object) -> Graph:
    """A validated copy of ``obj`` if it is an API-format graph, else :class:`InvalidWorkflow`.

    The shape is ``{node_id: {"class_type": str, "inputs": {name: value}}}``; ``_meta`` and
    other keys ComfyUI ignores are kept. Whether the classes and inputs exist is the job of
    validation against the backend's node definitions, later.
    """
    if not isinstance(obj, dict):
        raise InvalidWorkflow(f"expected a JSON object of nodes, got {_json_type(obj)}")
    if _looks_like_ui_format(obj):
        raise InvalidWorkflow(
            "this is a UI-format workflow (it has 'nodes' and 'links'); "
            "export it from ComfyUI with 'Export (API)'"
        )
    if not obj:
        raise InvalidWorkflow("the workflow has no nodes")
    if len(obj) > MAX_NODES:
        raise InvalidWorkflow(f"the workflow has {len(obj)} nodes, more than {MAX_NODES}")
    for node_id, node in obj.items():
        _check_node(node_id, node)
    return copy_graph(obj)


def _check_node(node_id: object, node: object) -> None:
    if not isinstance(node_id, str) or not node_id:
        raise InvalidWorkflow(f"node id {node_id!r:.80} is not a non-empty string")
    if len(node_id) > MAX_NODE_ID_LENGTH:
        raise InvalidWorkflow(f"node id is longer than {MAX_NODE_ID_LENGTH} characters")
    if not isinstance(node, dict):
        raise InvalidWorkflow(f"expected an object, got {_json_type(node)}", node_id=node_id)
    class_type = node.get("class_type")
    if not isinstance(class_type, str) or not class_type:
        raise InvalidWorkflow("'class_type' is missing or not a non-empty string", node_id=node_id)
    _check_inputs(node_id, node.get("inputs"))


def _check_inputs(node_id: str, inputs: object) -> None:
    if not isinstance(inputs, dict):
        raise InvalidWorkflow(
            f"'inputs' must be an object, got {_json_type(inputs)}", node_id=node_id
        )
    for name in inputs:
        if not isinstance(name, str) or not name:
            raise InvalidWorkflow(
                f"input name {name!r:.80} is not a non-empty string", node_id=node_id
            )


def _looks_like_ui_format(obj: Mapping[Any, Any]) -> bool:
    return isinstance(obj.get("nodes"), list) and "links" in obj


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__
