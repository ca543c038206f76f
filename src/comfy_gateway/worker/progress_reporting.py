"""From ComfyUI's socket events to the job's stored progress.

:func:`progress_events_of` is the pure translation (ComfyUI message → the domain's
progress events); :class:`ProgressReporter` folds them into a ``ProgressTracker`` and
writes to the store at most every ``persist_interval_s``, because a sampler can tick
dozens of times a second and each write is a transaction plus a publish.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from comfy_gateway.comfy import (
    Event,
    Executed,
    Executing,
    ExecutionCached,
    Progress,
    ProgressState,
)
from comfy_gateway.jobs.graph import nodes_feeding_outputs
from comfy_gateway.jobs.progress import (
    NodeFinished,
    NodeProgress,
    NodesCached,
    NodeStarted,
    ProgressEvent,
    ProgressTracker,
    sampler_node_ids,
    should_persist,
)
from comfy_gateway.jobs.status import JobStatus

#: ``progress_state`` names a node that is done this way.
FINISHED_STATE = "finished"
SaveProgress = Callable[[float, dict[str, Any]], Awaitable[None]]


def output_node_ids(
    graph: Mapping[str, Mapping[str, Any]], output_classes: frozenset[str]
) -> list[str]:
    """The graph's nodes ComfyUI will treat as outputs, by their class."""
    return [node_id for node_id, node in graph.items() if node.get("class_type") in output_classes]


def start_tracker(
    graph: Mapping[str, Mapping[str, Any]], output_classes: frozenset[str]
) -> ProgressTracker:
    """A tracker at 0 over the nodes feeding the graph's outputs."""
    to_run = nodes_feeding_outputs(graph, output_node_ids(graph, output_classes))
    return ProgressTracker.start(to_run, sampler_node_ids(graph))


def progress_events_of(event: Event) -> list[ProgressEvent]:
    """What one ComfyUI message means for progress (most messages mean nothing)."""
    if isinstance(event, Executing) and event.node is not None:
        return [NodeStarted(node_id=event.node)]
    if isinstance(event, ExecutionCached):
        return [NodesCached(node_ids=event.nodes)]
    if isinstance(event, Executed):
        return [NodeFinished(node_id=event.node)]
    if isinstance(event, Progress) and event.node is not None:
        return [NodeProgress(node_id=event.node, value=event.value, max=event.max)]
    if isinstance(event, ProgressState):
        return [
            NodeFinished(node_id=node_id)
            for node_id, node in event.nodes.items()
            if node.state == FINISHED_STATE
        ]
    return []


class ProgressReporter:
    """One prompt's progress, saved through ``save`` when it moved and is due."""

    def __init__(
        self,
        tracker: ProgressTracker,
        save: SaveProgress,
        *,
        persist_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tracker = tracker
        self._save = save
        self._interval = persist_interval_s
        self._clock = clock
        self._saved_at: float | None = None
        self._saved: tuple[float, dict[str, Any]] | None = None

    def final_details(self, status: JobStatus) -> dict[str, Any] | None:
        """The details a job ending ``status`` stores: every node done if it completed
        (None otherwise: its last stored details stand)."""
        if status is not JobStatus.COMPLETED:
            return None
        return self.tracker.completed().details().as_dict()

    def prompt_started(self) -> None:
        """The job's ``running`` write stands for the first save: the first progress is
        stored one interval after the start, so a short prompt writes none but its end."""
        if self._saved_at is None:
            self._saved_at = self._clock()

    async def apply(self, event: Event) -> None:
        for progress_event in progress_events_of(event):
            self.tracker = self.tracker.apply(progress_event)
        await self._save_if_due()

    async def _save_if_due(self) -> None:
        now = self._clock()
        if not should_persist(self._saved_at, now, self._interval):
            return  # checked first: the details are worth building only when due
        current = (self.tracker.percent, self.tracker.details().as_dict())
        if current == self._saved:
            return
        await self._save(*current)
        self._saved, self._saved_at = current, now
