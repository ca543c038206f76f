"""A small test-side check of an API graph against captured node definitions.

Deliberately independent of the gateway's own checker: it only asks what the built-in
builders must get right (classes exist, required inputs present, links land on an output
of the declared type, combos and numbers in range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def input_specs(info: dict[str, Any]) -> dict[str, tuple[bool, list[Any]]]:
    specs: dict[str, tuple[bool, list[Any]]] = {}
    for section, required in (("required", True), ("optional", False)):
        for name, spec in info["input"].get(section, {}).items():
            specs[name] = (required, spec)
    return specs


def combo_options(spec: list[Any]) -> list[Any] | None:
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO":
        return list(spec[1].get("options", []))
    return None


UPLOAD_FLAGS = ("image_upload", "audio_upload", "video_upload")


@dataclass(frozen=True)
class Context:
    graph: dict[str, Any]
    object_info: dict[str, Any]
    installed: frozenset[str]


def problems_of(
    graph: dict[str, Any], object_info: dict[str, Any], installed: frozenset[str] = frozenset()
) -> list[str]:
    """What is wrong with ``graph``; ``installed`` model files count as present in combos."""
    context = Context(graph, object_info, installed)
    problems: list[str] = []
    for node_id, node in graph.items():
        info = object_info.get(node["class_type"])
        if info is None:
            problems.append(f"{node_id}: unknown class {node['class_type']}")
            continue
        specs = input_specs(info)
        for name, (required, _) in specs.items():
            if required and name not in node["inputs"]:
                problems.append(f"{node_id}: missing {name}")
        for name, value in node["inputs"].items():
            if name not in specs:
                problems.append(f"{node_id}: unknown input {name}")
                continue
            problems += value_problems(context, f"{node_id}.{name}", value, specs[name][1])
    return problems


def value_problems(context: Context, where: str, value: Any, spec: list[Any]) -> list[str]:
    if isinstance(value, list):
        source = context.graph.get(value[0])
        if source is None:
            return [f"{where}: link to missing node {value[0]}"]
        outputs = context.object_info[source["class_type"]]["output"]
        if value[1] >= len(outputs) or outputs[value[1]] != spec[0]:
            return [f"{where}: link type mismatch"]
        return []
    limits = spec[1] if len(spec) > 1 else {}
    options = combo_options(spec)
    if options is not None:
        # Upload combos take the job's media (wired later); model files count if installed.
        if any(limits.get(flag) for flag in UPLOAD_FLAGS) or value in context.installed:
            return []
        return [] if value in options else [f"{where}: {value!r} not in list"]
    if spec[0] in ("INT", "FLOAT"):
        low, high = limits.get("min", float("-inf")), limits.get("max", float("inf"))
        if not low <= value <= high:
            return [f"{where}: {value} out of range"]
    return []
