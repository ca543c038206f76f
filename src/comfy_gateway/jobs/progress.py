"""Job progress from execution events, as an immutable value.

The formula is the API contract's: 50 × (nodes finished or cached ÷ nodes to run)
+ 50 × mean(value ÷ max) over the sampler nodes that will run. With no sampler the nodes
count for the whole 100. The figure never decreases and stays below 100 until
:meth:`ProgressTracker.completed`. Progress ticks of non-sampler nodes (a tiled VAE
decode, an upscaler) only fill ``step``/``steps`` in the details.

The worker translates ComfyUI's messages into the small event values below, so this
module knows nothing of the wire format.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

#: Core sampler classes whose ``progress`` ticks are denoising steps.
SAMPLER_CLASS_TYPES = frozenset(
    {"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"}
)
#: The figure shown before completion is capped here, so 100 always means "completed".
MAX_RUNNING_PERCENT = 99.9


@dataclass(frozen=True, kw_only=True)
class NodeStarted:
    """A node began executing (ComfyUI ``executing`` with a node id)."""

    node_id: str


@dataclass(frozen=True, kw_only=True)
class NodesCached:
    """Nodes whose outputs come from the cache (``execution_cached``): they count as done."""

    node_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NodeFinished:
    """A node finished executing (``progress_state`` with the node ``finished``)."""

    node_id: str


@dataclass(frozen=True, kw_only=True)
class NodeProgress:
    """A progress tick of a running node (``progress``: value out of max)."""

    node_id: str
    value: float
    max: float


ProgressEvent: TypeAlias = NodeStarted | NodesCached | NodeFinished | NodeProgress


@dataclass(frozen=True, kw_only=True)
class ProgressDetails:
    """The API's ``progress_details``."""

    current_node: str | None
    nodes_done: int
    nodes_total: int
    step: int | None
    steps: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "current_node": self.current_node,
            "nodes_done": self.nodes_done,
            "nodes_total": self.nodes_total,
            "step": self.step,
            "steps": self.steps,
        }


@dataclass(frozen=True, kw_only=True)
class ProgressTracker:
    """Progress of one prompt; :meth:`apply` returns a new tracker, never mutates."""

    nodes_to_run: frozenset[str]
    sampler_nodes: frozenset[str]
    done: frozenset[str] = frozenset()
    sampler_fractions: Mapping[str, float] = field(default_factory=dict)
    percent: float = 0.0
    current_node: str | None = None
    step: int | None = None
    steps: int | None = None
    is_completed: bool = False

    @classmethod
    def start(cls, nodes_to_run: Iterable[str], sampler_nodes: Iterable[str]) -> ProgressTracker:
        """A tracker at 0 for these nodes; samplers that will not run are ignored."""
        to_run = frozenset(nodes_to_run)
        return cls(nodes_to_run=to_run, sampler_nodes=frozenset(sampler_nodes) & to_run)

    def apply(self, event: ProgressEvent) -> ProgressTracker:
        """The tracker after ``event``; events after completion change nothing."""
        if self.is_completed:
            return self
        return _with_percent(self, _after(self, event))

    def completed(self) -> ProgressTracker:
        """The tracker of a prompt that finished successfully: 100, all nodes done."""
        return replace(
            self,
            done=self.nodes_to_run,
            percent=100.0,
            is_completed=True,
            current_node=None,
            step=None,
            steps=None,
        )

    def details(self) -> ProgressDetails:
        return ProgressDetails(
            current_node=self.current_node,
            nodes_done=len(self.done),
            nodes_total=len(self.nodes_to_run),
            step=self.step,
            steps=self.steps,
        )


def _after(tracker: ProgressTracker, event: ProgressEvent) -> ProgressTracker:
    if isinstance(event, NodeStarted):
        # A new node's steps have nothing to do with the previous node's.
        return replace(tracker, current_node=event.node_id, step=None, steps=None)
    if isinstance(event, NodesCached):
        return _mark_done(tracker, event.node_ids)
    if isinstance(event, NodeFinished):
        return _mark_done(tracker, (event.node_id,))
    return _ticked(tracker, event)


def _mark_done(tracker: ProgressTracker, node_ids: Iterable[str]) -> ProgressTracker:
    # Ids outside the plan (nodes expanded at run time) are not counted: the total is fixed.
    newly_done = (frozenset(node_ids) & tracker.nodes_to_run) - tracker.done
    if not newly_done:  # progress messages repeat finished nodes: nothing changes
        return tracker
    return replace(tracker, done=tracker.done | newly_done)


def _ticked(tracker: ProgressTracker, tick: NodeProgress) -> ProgressTracker:
    fraction = _fraction(tick.value, tick.max)
    step, steps = _whole(tick.value), _whole(tick.max)
    moved = replace(tracker, current_node=tick.node_id, step=step, steps=steps)
    if fraction is None or tick.node_id not in tracker.sampler_nodes:
        return moved
    fractions = {**tracker.sampler_fractions, tick.node_id: fraction}
    return replace(moved, sampler_fractions=fractions)


def _with_percent(previous: ProgressTracker, tracker: ProgressTracker) -> ProgressTracker:
    raw = progress_percent(tracker)
    # Floor to 0.1 so tiny float noise never shows as progress; the epsilon keeps a value
    # such as 28.999999999999996 (really 29) from flooring to 28.9.
    shown = math.floor(min(raw, MAX_RUNNING_PERCENT) * 10 + 1e-9) / 10
    percent = max(previous.percent, shown)
    return tracker if percent == tracker.percent else replace(tracker, percent=percent)


def progress_percent(tracker: ProgressTracker) -> float:
    """The contract's formula on the tracker's state, unrounded and not capped."""
    if not tracker.nodes_to_run:
        return 0.0
    nodes = len(tracker.done) / len(tracker.nodes_to_run)
    if not tracker.sampler_nodes:
        return 100.0 * nodes
    samplers = [
        1.0 if node in tracker.done else tracker.sampler_fractions.get(node, 0.0)
        for node in tracker.sampler_nodes
    ]
    return 50.0 * nodes + 50.0 * sum(samplers) / len(samplers)


def sampler_node_ids(
    graph: Mapping[str, Mapping[str, Any]],
    sampler_class_types: frozenset[str] = SAMPLER_CLASS_TYPES,
) -> frozenset[str]:
    """Ids of the graph's nodes whose class is a sampler."""
    return frozenset(
        node_id for node_id, node in graph.items() if node.get("class_type") in sampler_class_types
    )


def should_persist(last_saved_at: float | None, now: float, min_interval_s: float) -> bool:
    """Whether a progress change is worth a store write now (terminal writes always are).

    A clock that went backwards counts as "due", so a stepped clock cannot stall updates.
    """
    if last_saved_at is None or now < last_saved_at:
        return True
    return now - last_saved_at >= min_interval_s


def _fraction(value: float, maximum: float) -> float | None:
    if not (math.isfinite(value) and math.isfinite(maximum)) or maximum <= 0:
        return None
    return min(max(value / maximum, 0.0), 1.0)


def _whole(number: float) -> int | None:
    return int(number) if math.isfinite(number) else None
