"""Parsing of every WebSocket frame captured from a real ComfyUI 0.3.64."""

from __future__ import annotations

import json
import struct

import pytest

from comfy_gateway.comfy.events import (
    Executed,
    Executing,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    FeatureFlags,
    PreviewImage,
    Progress,
    ProgressState,
    Status,
    UnknownEvent,
    event_prompt_id,
    parse_binary_frame,
    parse_text_frame,
)
from comfy_gateway.errors import ComfyProtocolError

EXPECTED_CLASSES = {
    "status": Status,
    "feature_flags": FeatureFlags,
    "execution_start": ExecutionStart,
    "execution_cached": ExecutionCached,
    "executing": Executing,
    "executed": Executed,
    "progress": Progress,
    "progress_state": ProgressState,
    "execution_success": ExecutionSuccess,
    "execution_error": ExecutionError,
    "execution_interrupted": ExecutionInterrupted,
}


def test_every_captured_frame_parses_into_its_own_class(all_ws_frames: list[str]) -> None:
    seen: set[str] = set()
    for frame in all_ws_frames:
        kind = json.loads(frame)["type"]
        event = parse_text_frame(frame)
        assert type(event) is EXPECTED_CLASSES[kind], frame
        seen.add(kind)
    assert seen == set(EXPECTED_CLASSES)


def test_prompt_id_of_execution_events_matches_the_frame(all_ws_frames: list[str]) -> None:
    for frame in all_ws_frames:
        data = json.loads(frame)["data"]
        event = parse_text_frame(frame)
        if isinstance(event, Status | FeatureFlags):
            assert event_prompt_id(event) is None
        else:
            assert event_prompt_id(event) == data.get("prompt_id")


def test_status_keeps_queue_size_and_first_sid(ws_frames: dict[str, list[str]]) -> None:
    first, second = (parse_text_frame(frame) for frame in ws_frames["a"][:2])
    assert first == Status(queue_remaining=0, sid="25b55f1c-0e39-413b-92bf-a6ffd2a9905e")
    assert second == Status(queue_remaining=1, sid=None)


def test_executed_carries_the_ui_output(ws_frames: dict[str, list[str]]) -> None:
    events = [parse_text_frame(frame) for frame in ws_frames["a"]]
    executed = [event for event in events if isinstance(event, Executed)]
    assert len(executed) == 1
    assert executed[0].node == "3"
    assert executed[0].output == {
        "images": [{"filename": "t_00001_.png", "subfolder": "", "type": "output"}]
    }


def test_end_marker_is_last_and_names_the_prompt(ws_frames: dict[str, list[str]]) -> None:
    last = parse_text_frame(ws_frames["a"][-1])
    assert isinstance(last, Executing)
    assert last.is_end_marker
    assert last.prompt_id == "b1b777cb-5ddc-4ec8-ad8b-a48a60ed658d"


def test_reconnect_executing_has_no_prompt_id(ws_frames: dict[str, list[str]]) -> None:
    events = [parse_text_frame(frame) for frame in ws_frames["d4"]]
    bare = [event for event in events if isinstance(event, Executing) and event.prompt_id is None]
    assert bare == [Executing(node="2", prompt_id=None, display_node=None)]
    assert not bare[0].is_end_marker


def test_execution_error_fields(ws_frames: dict[str, list[str]]) -> None:
    errors = [parse_text_frame(f) for f in ws_frames["c"]]
    error = next(event for event in errors if isinstance(event, ExecutionError))
    assert error.node_id == "1"
    assert error.node_type == "LoadImage"
    assert error.exception_type == "PIL.UnidentifiedImageError"
    assert "cannot identify image file" in error.exception_message
    assert len(error.traceback) > 1
    assert error.current_inputs == {"image": ["corrupt.png"]}


def test_interrupted_names_the_next_node(ws_frames: dict[str, list[str]]) -> None:
    events = [parse_text_frame(f) for f in ws_frames["d"]]
    interrupted = next(event for event in events if isinstance(event, ExecutionInterrupted))
    assert (interrupted.node_id, interrupted.node_type) == ("3", "ImageInvert")
    assert interrupted.executed == ("1", "2")


def test_progress_and_progress_state(ws_frames: dict[str, list[str]]) -> None:
    events = [parse_text_frame(f) for f in ws_frames["g"]]
    progress = [event for event in events if isinstance(event, Progress)]
    assert progress, "scenario g reports progress"
    assert all(event.max == progress[0].max for event in progress)
    assert [event.value for event in progress] == sorted(event.value for event in progress)
    states = [event for event in events if isinstance(event, ProgressState)]
    assert all(node.state == "finished" for node in states[-1].nodes.values())
    assert all(isinstance(node.value, float) for state in states for node in state.nodes.values())


def test_unknown_type_passes_through() -> None:
    event = parse_text_frame('{"type": "crystools.monitor", "data": {"cpu": 3}}')
    assert event == UnknownEvent(type="crystools.monitor", data={"cpu": 3})


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1, 2]", '{"data": {}}', '{"type": "executed", "data": {"node": "1"}}'],
)
def test_malformed_text_frames_are_protocol_errors(frame: str) -> None:
    with pytest.raises(ComfyProtocolError):
        parse_text_frame(frame)


PNG = b"\x89PNG\r\n\x1a\n" + b"rest-of-image"


def test_binary_preview_image_event_1() -> None:
    frame = struct.pack(">II", 1, 2) + PNG
    assert parse_binary_frame(frame) == PreviewImage(image_format="PNG", image=PNG)
    jpeg = parse_binary_frame(struct.pack(">II", 1, 1) + b"\xff\xd8jpeg")
    assert isinstance(jpeg, PreviewImage)
    assert (jpeg.image_format, jpeg.image) == ("JPEG", b"\xff\xd8jpeg")


def test_binary_preview_with_metadata_event_4() -> None:
    metadata = {
        "node_id": "2",
        "prompt_id": "c0cd996c-e90d-4fd8-8696-395f854b4e01",
        "display_node_id": "2",
        "parent_node_id": None,
        "real_node_id": "2",
        "image_type": "image/png",
    }
    raw = json.dumps(metadata).encode()
    event = parse_binary_frame(struct.pack(">II", 4, len(raw)) + raw + PNG)
    assert isinstance(event, PreviewImage)
    assert event.image == PNG
    assert event.image_format == "PNG"
    assert event.prompt_id == metadata["prompt_id"]
    assert event.node_id == "2"


def test_other_binary_events_pass_through() -> None:
    event = parse_binary_frame(struct.pack(">I", 3) + b"hello")
    assert event == UnknownEvent(type="binary:3", data=b"hello")


@pytest.mark.parametrize(
    "frame",
    [b"\x00\x00", struct.pack(">I", 1) + b"\x00", struct.pack(">II", 4, 99) + b"{}"],
)
def test_truncated_binary_frames_are_protocol_errors(frame: bytes) -> None:
    with pytest.raises(ComfyProtocolError):
        parse_binary_frame(frame)
