"""ComfyUI messages → progress events, and the throttled store writes."""

from __future__ import annotations

from typing import Any

from comfy_gateway.comfy import (
    Executed,
    Executing,
    ExecutionCached,
    Progress,
    ProgressState,
    Status,
)
from comfy_gateway.comfy import NodeProgress as WireNodeProgress
from comfy_gateway.jobs.progress import (
    NodeFinished,
    NodeProgress,
    NodesCached,
    NodeStarted,
    ProgressTracker,
)
from comfy_gateway.worker.progress_reporting import (
    ProgressReporter,
    output_node_ids,
    progress_events_of,
    start_tracker,
)

GRAPH: dict[str, Any] = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {}},
    "2": {"class_type": "KSampler", "inputs": {"model": ["1", 0]}},
    "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0]}},
    "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}},
    "9": {"class_type": "Note", "inputs": {}},  # feeds no output: never runs
}
OUTPUTS = frozenset({"SaveImage", "PreviewImage"})


def test_output_nodes_come_from_the_backend_classes() -> None:
    assert output_node_ids(GRAPH, OUTPUTS) == ["4"]
    assert output_node_ids(GRAPH, frozenset()) == []


def test_tracker_counts_nodes_feeding_outputs_and_their_samplers() -> None:
    tracker = start_tracker(GRAPH, OUTPUTS)
    assert tracker.nodes_to_run == frozenset({"1", "2", "3", "4"})
    assert tracker.sampler_nodes == frozenset({"2"})


def test_messages_become_progress_events() -> None:
    state = ProgressState(
        prompt_id="p",
        nodes={
            "1": WireNodeProgress(node_id="1", value=1, max=1, state="finished"),
            "2": WireNodeProgress(node_id="2", value=3, max=10, state="running"),
        },
    )
    assert progress_events_of(Executing(node="2", prompt_id="p")) == [NodeStarted(node_id="2")]
    assert progress_events_of(Executing(node=None, prompt_id="p")) == []
    assert progress_events_of(ExecutionCached(prompt_id="p", nodes=("1",))) == [
        NodesCached(node_ids=("1",))
    ]
    assert progress_events_of(Executed(prompt_id="p", node="4", output={})) == [
        NodeFinished(node_id="4")
    ]
    assert progress_events_of(Progress(prompt_id="p", node="2", value=3, max=10)) == [
        NodeProgress(node_id="2", value=3, max=10)
    ]
    assert progress_events_of(state) == [NodeFinished(node_id="1")]
    assert progress_events_of(Status(queue_remaining=1)) == []


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_reporter_saves_at_most_once_per_interval_and_only_changes() -> None:
    saved: list[tuple[float, dict[str, Any]]] = []

    async def save(progress: float, details: dict[str, Any]) -> None:
        saved.append((progress, details))

    clock = Clock()
    tracker = ProgressTracker.start({"1", "2"}, {"2"})
    reporter = ProgressReporter(tracker, save, persist_interval_s=1.0, clock=clock)

    await reporter.apply(ExecutionCached(prompt_id="p", nodes=("1",)))
    assert [progress for progress, _ in saved] == [25.0]
    await reporter.apply(Progress(prompt_id="p", node="2", value=5, max=10))
    assert len(saved) == 1  # due only after the interval
    clock.now = 1.5
    await reporter.apply(Status(queue_remaining=0))
    assert saved[-1][0] == 50.0
    assert saved[-1][1]["step"] == 5
    assert saved[-1][1]["steps"] == 10
    clock.now = 3.0
    await reporter.apply(Status(queue_remaining=0))
    assert len(saved) == 2  # nothing changed: nothing written


async def test_after_the_start_the_first_save_waits_one_interval() -> None:
    saved: list[float] = []

    async def save(progress: float, details: dict[str, Any]) -> None:
        saved.append(progress)

    clock = Clock()
    tracker = ProgressTracker.start({"1", "2"}, {"2"})
    reporter = ProgressReporter(tracker, save, persist_interval_s=1.0, clock=clock)
    reporter.prompt_started()  # the `running` write counts as the first save

    await reporter.apply(ExecutionCached(prompt_id="p", nodes=("1",)))
    assert saved == []  # a prompt shorter than the interval writes only its end
    clock.now = 1.0
    await reporter.apply(Progress(prompt_id="p", node="2", value=5, max=10))
    assert saved == [50.0]
    reporter.prompt_started()  # once only: a second start does not push the next save
    clock.now = 1.5
    await reporter.apply(Progress(prompt_id="p", node="2", value=6, max=10))
    assert saved == [50.0]
