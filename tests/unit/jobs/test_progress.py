"""ProgressTracker: the contract's formula, monotonicity, details, completion; throttle."""

from __future__ import annotations

import pytest

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

NODES = [str(i) for i in range(1, 11)]  # ten nodes to run
SAMPLERS = ["5", "6"]


def _run(events: list[ProgressEvent], samplers: list[str] = SAMPLERS) -> ProgressTracker:
    tracker = ProgressTracker.start(NODES, samplers)
    for event in events:
        tracker = tracker.apply(event)
    return tracker


CASES: list[tuple[str, list[ProgressEvent], list[str], float]] = [
    ("nothing yet", [], SAMPLERS, 0.0),
    ("started only", [NodeStarted(node_id="1")], SAMPLERS, 0.0),
    ("one node of ten", [NodeFinished(node_id="1")], SAMPLERS, 5.0),
    ("cached count as done", [NodesCached(node_ids=("1", "2", "3", "4"))], SAMPLERS, 20.0),
    ("half of one sampler", [NodeProgress(node_id="5", value=2, max=4)], SAMPLERS, 12.5),
    (
        "two samplers half and full",
        [NodeProgress(node_id="5", value=2, max=4), NodeProgress(node_id="6", value=4, max=4)],
        SAMPLERS,
        37.5,
    ),
    (
        "finished sampler counts full",
        [NodeFinished(node_id="5")],
        SAMPLERS,
        5.0 + 25.0,
    ),
    ("cached sampler counts full", [NodesCached(node_ids=("5", "6"))], SAMPLERS, 10.0 + 50.0),
    (
        "non-sampler ticks do not move it",
        [NodeProgress(node_id="9", value=9, max=10)],
        SAMPLERS,
        0.0,
    ),
    ("no sampler: nodes are 100", [NodeFinished(node_id="1")], [], 10.0),
    ("sampler outside the plan ignored", [NodeFinished(node_id="1")], ["404"], 10.0),
    ("unplanned node not counted", [NodeFinished(node_id="5.0.1")], [], 0.0),
    (
        "same node twice counts once",
        [NodeFinished(node_id="1"), NodeFinished(node_id="1")],
        [],
        10.0,
    ),
    ("value above max clamps", [NodeProgress(node_id="5", value=9, max=4)], SAMPLERS, 25.0),
    ("zero max ignored", [NodeProgress(node_id="5", value=1, max=0)], SAMPLERS, 0.0),
    ("nan ignored", [NodeProgress(node_id="5", value=float("nan"), max=4)], SAMPLERS, 0.0),
    ("rounded down to 0.1", [NodeProgress(node_id="5", value=1, max=3)], SAMPLERS, 8.3),
]


@pytest.mark.parametrize(
    ("case", "events", "samplers", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_formula(
    case: str, events: list[ProgressEvent], samplers: list[str], expected: float
) -> None:
    assert _run(events, samplers).percent == pytest.approx(expected)


def test_everything_done_stays_below_100_until_completed() -> None:
    tracker = _run([NodesCached(node_ids=tuple(NODES))])
    assert 99.0 < tracker.percent < 100.0
    done = tracker.completed()
    assert done.percent == 100.0
    assert done.is_completed
    assert done.details().nodes_done == 10


def test_progress_never_decreases() -> None:
    tracker = _run([NodeProgress(node_id="5", value=4, max=4)])
    before = tracker.percent
    # A sampler restarting its bar (second pass) must not move the figure back.
    after = tracker.apply(NodeProgress(node_id="5", value=0, max=4))
    assert before == 25.0
    assert after.percent == before


def test_events_after_completion_change_nothing() -> None:
    done = _run([]).completed()
    assert done.apply(NodeStarted(node_id="3")) is done


def test_apply_returns_a_new_tracker_and_keeps_the_old_one() -> None:
    start = ProgressTracker.start(NODES, SAMPLERS)
    moved = start.apply(NodeProgress(node_id="5", value=1, max=2))
    assert start.percent == 0.0
    assert start.sampler_fractions == {}
    assert moved.percent == 12.5


def test_details_follow_current_node_and_its_steps() -> None:
    tracker = _run(
        [
            NodesCached(node_ids=("1", "2")),
            NodeStarted(node_id="5"),
            NodeProgress(node_id="5", value=2, max=4),
        ]
    )
    assert tracker.details().as_dict() == {
        "current_node": "5",
        "nodes_done": 2,
        "nodes_total": 10,
        "step": 2,
        "steps": 4,
    }
    # The next node starts: the sampler's steps no longer describe what runs.
    nxt = tracker.apply(NodeFinished(node_id="5")).apply(NodeStarted(node_id="7"))
    assert nxt.details().as_dict() == {
        "current_node": "7",
        "nodes_done": 3,
        "nodes_total": 10,
        "step": None,
        "steps": None,
    }
    # A non-sampler node with a progress bar fills the details only.
    ticked = nxt.apply(NodeProgress(node_id="7", value=3, max=12))
    assert (ticked.details().step, ticked.details().steps) == (3, 12)
    assert ticked.percent == nxt.percent


def test_empty_plan_stays_at_zero_until_completed() -> None:
    tracker = ProgressTracker.start([], []).apply(NodeFinished(node_id="1"))
    assert tracker.percent == 0.0
    assert tracker.completed().percent == 100.0


def test_two_stage_wan_run_reaches_the_contract_example() -> None:
    # 17 nodes, two KSamplerAdvanced: 9 done and samplers at 4/4 and 2/4 → 50×9/17 + 37.5.
    nodes = [str(i) for i in range(17)]
    tracker = ProgressTracker.start(nodes, ["57", "58", "0", "1"])
    assert tracker.sampler_nodes == {"0", "1"}
    events: list[ProgressEvent] = [NodeFinished(node_id=str(i)) for i in range(2, 11)]
    events += [NodeProgress(node_id="0", value=4, max=4), NodeProgress(node_id="1", value=2, max=4)]
    for event in events:
        tracker = tracker.apply(event)
    expected = 50 * 9 / 17 + 50 * (1.0 + 0.5) / 2
    assert tracker.percent == pytest.approx(int(expected * 10) / 10)


def test_sampler_node_ids_by_class() -> None:
    graph = {
        "1": {"class_type": "KSampler", "inputs": {}},
        "2": {"class_type": "KSamplerAdvanced", "inputs": {}},
        "3": {"class_type": "SamplerCustomAdvanced", "inputs": {}},
        "4": {"class_type": "VAEDecode", "inputs": {}},
    }
    assert sampler_node_ids(graph) == {"1", "2", "3"}
    assert sampler_node_ids(graph, frozenset({"VAEDecode"})) == {"4"}


@pytest.mark.parametrize(
    ("last", "now", "interval", "expected"),
    [
        (None, 5.0, 1.0, True),
        (5.0, 5.5, 1.0, False),
        (5.0, 6.0, 1.0, True),
        (5.0, 7.0, 1.0, True),
        (5.0, 4.0, 1.0, True),
        (5.0, 5.0, 0.0, True),
    ],
)
def test_should_persist(last: float | None, now: float, interval: float, expected: bool) -> None:
    assert should_persist(last, now, interval) is expected


def test_float_noise_does_not_floor_a_whole_value_down() -> None:
    # 100 × 29/100 is 28.999999999999996 in floating point; the figure must read 29.0.
    tracker = ProgressTracker.start([str(i) for i in range(100)], [])
    tracker = tracker.apply(NodesCached(node_ids=tuple(str(i) for i in range(29))))
    assert tracker.percent == 29.0
