"""Folding a prompt's events into its result, and replaying history entries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from comfy_gateway.comfy.events import parse_text_frame
from comfy_gateway.comfy.http_protocol import parse_history
from comfy_gateway.comfy.prompt_outcome import (
    PromptFailed,
    PromptInterrupted,
    PromptSucceeded,
    PromptTracker,
    result_from_history,
)

ProtocolJson = Callable[[str], dict[str, Any]]


def track(frames: list[str]) -> PromptTracker:
    prompt_ids = {json.loads(frame)["data"].get("prompt_id") for frame in frames} - {None}
    tracker = PromptTracker(sorted(prompt_ids)[0])
    for frame in frames:
        tracker.apply(parse_text_frame(frame))
    return tracker


def test_success_collects_outputs(ws_frames: dict[str, list[str]]) -> None:
    result = track(ws_frames["a2"]).result
    assert isinstance(result, PromptSucceeded)
    ((_node, output),) = result.outputs.items()
    assert len(output["images"]) == 2


def test_cached_rerun_still_has_outputs(ws_frames: dict[str, list[str]]) -> None:
    result = track(ws_frames["b"]).result
    assert isinstance(result, PromptSucceeded)
    assert result.outputs == {
        "3": {"images": [{"filename": "t_00001_.png", "subfolder": "", "type": "output"}]}
    }
    assert result.cached_nodes == ("1", "2", "3")


def test_execution_error_result(ws_frames: dict[str, list[str]]) -> None:
    result = track(ws_frames["c2"]).result
    assert isinstance(result, PromptFailed)
    assert result.node_type == "SaveImage"
    assert result.exception_message
    assert result.traceback


def test_interrupted_result(ws_frames: dict[str, list[str]]) -> None:
    result = track(ws_frames["d3"]).result
    assert isinstance(result, PromptInterrupted)
    assert result.node_type == "VAEDecodeTiled"


def test_no_result_before_the_end_marker(ws_frames: dict[str, list[str]]) -> None:
    tracker = track(ws_frames["a"][:-1])
    assert tracker.terminal is not None
    assert tracker.result is None


def test_events_of_other_prompts_are_ignored(ws_frames: dict[str, list[str]]) -> None:
    tracker = PromptTracker("someone-else")
    for frame in ws_frames["a"]:
        tracker.apply(parse_text_frame(frame))
    assert (tracker.outputs, tracker.terminal, tracker.ended) == ({}, None, False)


def test_history_success_entry(protocol_json: ProtocolJson) -> None:
    entries = parse_history(protocol_json("completed run with 2 images"))
    (entry,) = entries.values()
    result = result_from_history(entry)
    assert isinstance(result, PromptSucceeded)
    assert result.outputs == entry.outputs
    assert len(next(iter(result.outputs.values()))["images"]) == 2


def test_history_error_entry(protocol_json: ProtocolJson) -> None:
    (entry,) = parse_history(protocol_json("failed run: exception inside LoadImage")).values()
    result = result_from_history(entry)
    assert isinstance(result, PromptFailed)
    assert (result.node_id, result.exception_type) == ("1", "PIL.UnidentifiedImageError")


def test_history_interrupted_entry_is_interrupted_not_error(protocol_json: ProtocolJson) -> None:
    (entry,) = parse_history(protocol_json("interrupted run")).values()
    assert entry.status_str == "error"
    result = result_from_history(entry)
    assert result == PromptInterrupted(
        prompt_id="0e66d254-e103-4e0a-aeae-11d923bbe773", node_id="3", node_type="ImageInvert"
    )
