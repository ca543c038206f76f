"""Per-prompt node progress, rendered as ComfyUI's `progress_state` payload.

Captured quirks kept on purpose: a node that starts shows `0.0/1.0` floats; a node that
reports progress shows the integers it reported; a cached output node that is only
"finished" shows integer `1/1`. Only nodes that left the pending state are listed, in the
order they first appeared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(kw_only=True)
class _NodeProgress:
    value: float | int
    maximum: float | int
    state: str


class ProgressRegistry:
    """The progress of every started node of one prompt."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self._nodes: dict[str, _NodeProgress] = {}

    def start(self, node_id: str) -> None:
        self._nodes[node_id] = _NodeProgress(value=0.0, maximum=1.0, state="running")

    def update(self, node_id: str, value: int, maximum: int) -> None:
        self._nodes[node_id] = _NodeProgress(value=value, maximum=maximum, state="running")

    def finish(self, node_id: str) -> None:
        node = self._nodes.get(node_id)
        if node is None:
            self._nodes[node_id] = _NodeProgress(value=1, maximum=1, state="finished")
            return
        node.value = node.maximum
        node.state = "finished"

    def state_data(self) -> dict[str, Any]:
        nodes = {node_id: self._node_data(node_id, node) for node_id, node in self._nodes.items()}
        return {"prompt_id": self.prompt_id, "nodes": nodes}

    def _node_data(self, node_id: str, node: _NodeProgress) -> dict[str, Any]:
        return {
            "value": node.value,
            "max": node.maximum,
            "state": node.state,
            "node_id": node_id,
            "prompt_id": self.prompt_id,
            "display_node_id": node_id,
            "parent_node_id": None,
            "real_node_id": node_id,
        }
