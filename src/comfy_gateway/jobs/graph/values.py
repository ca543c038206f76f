"""Walking the JSON values of an API-format graph, safely and without mutating it.

A graph comes from a client, so every walk is bounded: values nested deeper than
:data:`MAX_VALUE_DEPTH` are refused instead of exhausting Python's recursion limit, and
only JSON types (str keys, finite numbers) are accepted. Every walk builds new containers,
which makes it a deep copy at the same time: edits never touch the caller's graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from comfy_gateway.jobs.domain_errors import InvalidWorkflow

#: An API-format graph: node id → {"class_type": str, "inputs": {name: value}, ...}.
Graph: TypeAlias = dict[str, dict[str, Any]]

#: Real inputs are scalars, links ``["4", 0]`` or small lists/dicts of custom nodes;
#: anything deeper is a mistake or an attack on our recursion.
MAX_VALUE_DEPTH = 32

StringTransform: TypeAlias = Callable[[str], Any]


def map_json_strings(value: Any, transform: StringTransform, *, where: str, depth: int = 0) -> Any:
    """A copy of ``value`` with every string (not keys) replaced by ``transform(string)``."""
    if isinstance(value, str):
        return transform(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return _finite(value, where)
    if depth >= MAX_VALUE_DEPTH:
        raise InvalidWorkflow(f"{where} is nested deeper than {MAX_VALUE_DEPTH} levels")
    if isinstance(value, list):
        return [map_json_strings(item, transform, where=where, depth=depth + 1) for item in value]
    if isinstance(value, dict):
        return {
            _json_key(key, where): map_json_strings(item, transform, where=where, depth=depth + 1)
            for key, item in value.items()
        }
    raise InvalidWorkflow(f"{where} holds a {type(value).__name__}, which is not a JSON value")


def copy_json_value(value: Any, *, where: str) -> Any:
    """A validated deep copy of a JSON value."""
    return map_json_strings(value, _same_string, where=where)


def map_input_values(
    graph: Mapping[str, Mapping[str, Any]], edit: Callable[[str, str, Any], Any]
) -> Graph:
    """A copy of ``graph`` whose every input value is ``edit(node_id, input_name, value)``.

    Only ``inputs`` are edited: ``class_type``, ``_meta`` and any other node keys are copied
    as they are, so text that looks like a placeholder in a title is never touched.
    """
    edited: Graph = {}
    for node_id, node in graph.items():
        copied = {
            key: copy_json_value(item, where=f"node {node_id!r} {key}")
            for key, item in node.items()
            if key != "inputs"
        }
        inputs = node.get("inputs", {})
        copied["inputs"] = {name: edit(node_id, name, value) for name, value in inputs.items()}
        edited[node_id] = copied
    return edited


def copy_graph(graph: Mapping[str, Mapping[str, Any]]) -> Graph:
    """A validated deep copy of a graph."""
    return map_input_values(
        graph, lambda node_id, name, value: copy_json_value(value, where=input_where(node_id, name))
    )


def input_where(node_id: str, name: str) -> str:
    """How error messages name one input of one node."""
    return f"input {name[:80]!r} of node {node_id[:80]!r}"


def _same_string(text: str) -> str:
    return text


def _finite(number: float, where: str) -> float:
    # json.loads accepts NaN and Infinity, but they are not JSON and ComfyUI cannot use them.
    if not math.isfinite(number):
        raise InvalidWorkflow(f"{where} holds {number}, which is not a finite number")
    return number


def _json_key(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise InvalidWorkflow(f"{where} has a key of type {type(key).__name__}; keys must be text")
    return key
