"""Per-node input overrides: ``{"node": "6", "field": "text", "value": "a cat"}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from comfy_gateway.jobs.domain_errors import UnknownOverrideTarget
from comfy_gateway.jobs.graph.values import Graph, copy_graph, copy_json_value, input_where


@dataclass(frozen=True, kw_only=True)
class InputOverride:
    """Set input ``field`` of node ``node`` to ``value`` (a JSON value, links included)."""

    node: str
    field: str
    value: Any


def apply_input_overrides(
    graph: Mapping[str, Mapping[str, Any]], overrides: Iterable[InputOverride]
) -> Graph:
    """A copy of ``graph`` with every override applied, in order (a later one wins).

    An override may add an input the node does not have yet (an optional input); naming a
    node the graph does not contain raises :class:`UnknownOverrideTarget`.
    """
    edited = copy_graph(graph)
    for override in overrides:
        node_id, field = str(override.node), override.field
        if node_id not in edited:
            raise UnknownOverrideTarget(node_id, str(field), known_nodes=edited.keys())
        if not isinstance(field, str) or not field:
            raise UnknownOverrideTarget(
                node_id, str(field), reason="the field name must be a non-empty string"
            )
        where = input_where(node_id, field)
        edited[node_id]["inputs"][field] = copy_json_value(override.value, where=where)
    return edited
