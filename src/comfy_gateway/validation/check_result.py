"""What a check found: ComfyUI's error body (or nothing) and what the graph needs to run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.validation.model_folders import is_model_file_value, model_folder
from comfy_gateway.validation.node_catalogue import NodeCatalogue


@dataclass(frozen=True, kw_only=True)
class GraphRequirements:
    """Node classes and model files (per model folder) the nodes that will run use."""

    node_classes: frozenset[str] = frozenset()
    model_files: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.node_classes and not any(self.model_files.values())

    def unmet_by(self, catalogue: NodeCatalogue) -> GraphRequirements:
        """The part of these requirements that ``catalogue``'s backend cannot meet."""
        classes = frozenset(
            name for name in self.node_classes if catalogue.definition(name) is None
        )
        files = {
            folder: missing
            for folder, names in self.model_files.items()
            if (missing := names - catalogue.installed_model_files(folder))
        }
        return GraphRequirements(node_classes=classes, model_files=files)

    def to_json(self) -> dict[str, Any]:
        return {
            "node_classes": sorted(self.node_classes),
            "model_files": {
                folder: sorted(names) for folder, names in sorted(self.model_files.items())
            },
        }


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """``error`` is None when the whole graph would run; else ComfyUI's 400 body parts.

    ``stale_classes`` names classes with a value missing from a cached list: fetch their
    ``/object_info/{class}`` again and re-check before refusing (files get installed and
    uploaded while we run).
    """

    error: dict[str, Any] | None
    node_errors: dict[str, Any]
    requirements: GraphRequirements
    stale_classes: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return self.error is None

    def comfy_body(self) -> dict[str, Any]:
        """``{"error": …, "node_errors": …}`` exactly as ComfyUI's 400 answer (when not ok)."""
        return {"error": self.error, "node_errors": self.node_errors}


def graph_requirements(graph: Mapping[str, Any], output_ids: Iterable[str]) -> GraphRequirements:
    """What the nodes feeding ``output_ids`` need (the only nodes ComfyUI runs)."""
    classes: set[str] = set()
    files: dict[str, set[str]] = {}
    for node_id in nodes_feeding(graph, output_ids):
        node = graph[node_id]
        class_type = node.get("class_type")
        if not isinstance(class_type, str):
            continue
        classes.add(class_type)
        inputs = node.get("inputs")
        for input_name, value in (inputs if isinstance(inputs, dict) else {}).items():
            folder = model_folder(class_type, str(input_name))
            if folder is not None and is_model_file_value(value):
                files.setdefault(folder, set()).add(str(value))
    frozen = {folder: frozenset(names) for folder, names in files.items()}
    return GraphRequirements(node_classes=frozenset(classes), model_files=frozen)


def nodes_feeding(graph: Mapping[str, Any], output_ids: Iterable[str]) -> list[str]:
    """``output_ids`` and every node they reach through links, each once."""
    seen: dict[str, None] = {}
    pending = [node_id for node_id in output_ids if _is_node(graph, node_id)]
    while pending:
        node_id = pending.pop()
        if node_id in seen:
            continue
        seen[node_id] = None
        pending.extend(_linked_ids(graph, graph[node_id]))
    return list(seen)


def _linked_ids(graph: Mapping[str, Any], node: Mapping[str, Any]) -> list[str]:
    inputs = node.get("inputs")
    values = inputs.values() if isinstance(inputs, dict) else ()
    return [
        value[0]
        for value in values
        if isinstance(value, list) and len(value) == 2 and _is_node(graph, value[0])
    ]


def _is_node(graph: Mapping[str, Any], node_id: Any) -> bool:
    return isinstance(node_id, str) and isinstance(graph.get(node_id), dict)
