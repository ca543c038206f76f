"""The table of simulated node implementations, filled by decorators in each node module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_gateway.simulator.nodes.context import NodeContext


@dataclass(frozen=True, kw_only=True)
class NodeResult:
    """What a node produced: its output values (one per declared output) and its UI dict."""

    outputs: tuple[Any, ...]
    ui: dict[str, Any] | None = None


NodeFunction = Callable[[dict[str, Any], NodeContext, dict[str, Any]], NodeResult]
FingerprintFunction = Callable[[dict[str, Any], Path], "str | None"]

_IMPLEMENTATIONS: dict[str, NodeFunction] = {}
_FINGERPRINTS: dict[str, FingerprintFunction] = {}
_SAMPLERS: set[str] = set()
_SIMULATOR_ONLY_DEFINITIONS: dict[str, dict[str, Any]] = {}


def implements(*class_types: str, sampler: bool = False) -> Callable[[NodeFunction], NodeFunction]:
    """Register the decorated function as the implementation of `class_types`."""

    def register(function: NodeFunction) -> NodeFunction:
        for class_type in class_types:
            _IMPLEMENTATIONS[class_type] = function
            if sampler:
                _SAMPLERS.add(class_type)
        return function

    return register


def fingerprints(*class_types: str) -> Callable[[FingerprintFunction], FingerprintFunction]:
    """Register the decorated function as the IS_CHANGED-like key of `class_types`."""

    def register(function: FingerprintFunction) -> FingerprintFunction:
        for class_type in class_types:
            _FINGERPRINTS[class_type] = function
        return function

    return register


def simulator_only(class_type: str, definition: dict[str, Any]) -> None:
    """List a class that no real ComfyUI has: its `/object_info` definition, by name."""
    _SIMULATOR_ONLY_DEFINITIONS[class_type] = definition


def simulator_only_definitions() -> dict[str, dict[str, Any]]:
    """The simulator-only classes' definitions, to add to the captured catalogue."""
    return dict(_SIMULATOR_ONLY_DEFINITIONS)


def implementation_of(class_type: str) -> NodeFunction | None:
    return _IMPLEMENTATIONS.get(class_type)


def fingerprint_function_of(class_type: str) -> FingerprintFunction | None:
    return _FINGERPRINTS.get(class_type)


def is_registered_sampler(class_type: str) -> bool:
    return class_type in _SAMPLERS
