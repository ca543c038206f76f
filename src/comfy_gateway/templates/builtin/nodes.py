"""Tiny helpers for writing API-format graphs in Python: nodes and links."""

from __future__ import annotations

from typing import Any, TypeAlias

#: A link to another node's output: ``["39", 0]`` is output slot 0 of node 39.
Link: TypeAlias = list[Any]


def link(node_id: str, slot: int = 0) -> Link:
    return [node_id, slot]


def node(class_type: str, title: str, **inputs: Any) -> dict[str, Any]:
    """One API-format node; the title goes to ``_meta`` as ComfyUI's own exports do."""
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}}
