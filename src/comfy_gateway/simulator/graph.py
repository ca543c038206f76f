"""Pure graph logic of the executor: links, execution order and cache signatures.

The order reproduces ComfyUI's topological "dissolve": nodes are collected depth-first from
each output (uncached inputs only), then the ready node picked next is an output node if
one is ready, else one that feeds an output directly, else one two steps away, else the
first ready one. That is why VAELoader runs before EmptyImage in scenario (g).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

Prompt = Mapping[str, Any]


def is_link(value: Any) -> bool:
    """`[node_id, output_index]`, ComfyUI's encoding of an edge."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int | float)
        and not isinstance(value[1], bool)
    )


def node_inputs(prompt: Prompt, node_id: str) -> dict[str, Any]:
    inputs = prompt[node_id].get("inputs", {})
    return inputs if isinstance(inputs, dict) else {}


class CycleError(Exception):
    """No node is ready although some are pending: the graph has a cycle."""


class ExecutionPlan:
    """Which node runs next, given which outputs to produce and which nodes are cached."""

    def __init__(
        self,
        prompt: Prompt,
        *,
        is_output: Callable[[str], bool],
        is_cached: Callable[[str], bool],
    ) -> None:
        self._prompt = prompt
        self._is_output = is_output
        self._is_cached = is_cached
        self._pending: dict[str, None] = {}
        self._blockers: dict[str, set[str]] = {}
        self._blocking: dict[str, dict[str, None]] = {}

    def add_output(self, node_id: str) -> None:
        links: list[tuple[str, str]] = []
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current in self._pending:
                continue
            self._add_pending(current)
            for value in node_inputs(self._prompt, current).values():
                if is_link(value) and value[0] in self._prompt:
                    if not self._is_cached(value[0]):
                        stack.append(value[0])
                    links.append((value[0], current))
        for source, target in links:
            self._add_link(source, target)

    def _add_pending(self, node_id: str) -> None:
        self._pending[node_id] = None
        self._blockers[node_id] = set()
        self._blocking[node_id] = {}

    def _add_link(self, source: str, target: str) -> None:
        if self._is_cached(source) and source not in self._pending:
            return
        if source not in self._pending:
            self.add_output(source)
        self._blocking[source][target] = None
        self._blockers[target].add(source)

    def is_empty(self) -> bool:
        return not self._pending

    def next_node(self) -> str:
        ready = [node_id for node_id in self._pending if not self._blockers[node_id]]
        if not ready:
            raise CycleError(f"dependency cycle among nodes {sorted(self._pending)}")
        return self._friendly_pick(ready)

    def _friendly_pick(self, ready: list[str]) -> str:
        for node_id in ready:
            if self._is_output(node_id):
                return node_id
        for node_id in ready:
            if any(self._is_output(blocked) for blocked in self._blocking[node_id]):
                return node_id
        for node_id in ready:
            for blocked in self._blocking[node_id]:
                if any(self._is_output(further) for further in self._blocking[blocked]):
                    return node_id
        return ready[0]

    def complete(self, node_id: str) -> None:
        del self._pending[node_id]
        for blocker in self._blockers.pop(node_id):
            self._blocking.get(blocker, {}).pop(node_id, None)
        for blocked in self._blocking.pop(node_id):
            self._blockers[blocked].discard(node_id)


def node_signatures(prompt: Prompt, fingerprint: Callable[[str], str | None]) -> dict[str, str]:
    """A cache key per node: class, literal inputs, fingerprint and upstream signatures."""
    signatures: dict[str, str] = {}

    def signature(node_id: str, visiting: frozenset[str]) -> str:
        if node_id in signatures:
            return signatures[node_id]
        if node_id not in prompt or node_id in visiting:
            return f"unresolvable:{node_id}"
        parts: list[Any] = [prompt[node_id].get("class_type"), fingerprint(node_id)]
        inputs = node_inputs(prompt, node_id)
        for name in sorted(inputs):
            value = inputs[name]
            if is_link(value):
                upstream = signature(value[0], visiting | {node_id})
                parts.append([name, "link", upstream, value[1]])
            else:
                parts.append([name, value])
        encoded = json.dumps(parts, sort_keys=True, default=repr).encode()
        signatures[node_id] = hashlib.sha256(encoded).hexdigest()
        return signatures[node_id]

    for node_id in prompt:
        signature(node_id, frozenset())
    return signatures
