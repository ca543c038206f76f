"""Which nodes of a graph ComfyUI will run for a set of output nodes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def is_link(value: Any) -> bool:
    """Whether an input value is a link ``["node_id", output_index]`` (ComfyUI's test)."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def nodes_feeding_outputs(
    graph: Mapping[str, Mapping[str, Any]], output_node_ids: Iterable[str]
) -> frozenset[str]:
    """The output nodes that exist in ``graph`` and every node they depend on through links.

    Links to nodes that are not in the graph are skipped: reporting them is validation's
    job. The walk is iterative so a long chain cannot exhaust the recursion limit.
    """
    seen: set[str] = set()
    pending = [node_id for node_id in output_node_ids if node_id in graph]
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen.add(node_id)
        pending.extend(
            upstream for upstream in _linked_node_ids(graph[node_id]) if upstream in graph
        )
    return frozenset(seen)


def _linked_node_ids(node: Mapping[str, Any]) -> list[str]:
    inputs = node.get("inputs")
    if not isinstance(inputs, Mapping):
        return []
    return [value[0] for value in inputs.values() if is_link(value)]
