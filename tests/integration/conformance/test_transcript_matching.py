"""Unit tests of the comparison helper (pure: no simulator, no sockets)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from .transcript_matching import (
    BINARY_KEY,
    FrameRun,
    Normaliser,
    compare_documents,
    compare_frames,
    describe_binary_frame,
    expected_items,
    match_value,
    received_item,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "comfyui"
ID_A, ID_B = str(uuid.uuid4()), str(uuid.uuid4())


def _entries(key: str) -> list[dict[str, Any]]:
    scenario = json.loads((FIXTURES / "ws" / f"{key}.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = scenario["sockets"][0]["entries"]
    return entries


def _frames(key: str) -> list[dict[str, Any]]:
    return [e["frame"] for e in _entries(key) if e["kind"] == "frame"]


def _replace_ids(value: Any, mapping: dict[str, str]) -> Any:
    text = json.dumps(value)
    for old, new in mapping.items():
        text = text.replace(old, new)
    return json.loads(text)


def _progress(value: int, total: int = 50) -> dict[str, Any]:
    return {"type": "progress", "data": {"value": value, "max": total, "node": "4"}}


# --- Normaliser --------------------------------------------------------------------------


def test_ids_become_placeholders_by_first_appearance() -> None:
    normalised = Normaliser().normalise({"a": ID_A, "b": [ID_B, ID_A]})
    assert normalised == {"a": "<uuid#1>", "b": ["<uuid#2>", "<uuid#1>"]}


def test_hex_ids_keep_their_own_kind() -> None:
    hex_id = uuid.uuid4().hex
    assert Normaliser().normalise([hex_id, ID_A]) == ["<hex32#1>", "<uuid#2>"]


def test_numbering_does_not_depend_on_key_order() -> None:
    one = Normaliser().normalise({"sid": ID_A, "prompt_id": ID_B})
    other = Normaliser().normalise({"prompt_id": ID_B, "sid": ID_A})
    assert one == other


def test_per_run_values_are_replaced() -> None:
    value = {"timestamp": 1795370634369, "number": 7, "traceback": ["  File x\n"]}
    assert Normaliser().normalise(value) == {
        "timestamp": "<timestamp>",
        "number": "<number>",
        "traceback": "<traceback>",
    }
    assert Normaliser().normalise({"number": -15}) == {"number": "<negative number>"}


def test_wrongly_typed_per_run_values_stay_visible() -> None:
    value = {"timestamp": 17.5, "number": "7", "traceback": "oops"}
    assert Normaliser().normalise(value) == value


def test_server_folders_become_the_comfyui_root() -> None:
    normaliser = Normaliser(path_roots=["/tmp/sim-data"])
    text = "cannot identify image file '/tmp/sim-data/input/corrupt.png'\n"
    assert (
        normaliser.normalise(text) == "cannot identify image file '<ComfyUI>/input/corrupt.png'\n"
    )


def test_set_valued_id_lists_are_compared_sorted() -> None:
    value = {"executed": ["2", "1"], "current_outputs": ["3", "1"], "nodes": ["2", "1"]}
    assert Normaliser().normalise(value) == {
        "current_outputs": ["1", "3"],
        "executed": ["1", "2"],
        "nodes": ["2", "1"],
    }


def test_random_part_of_temp_file_names_is_replaced() -> None:
    names = Normaliser().normalise(["ComfyUI_temp_byazs_00001_.png", "t_00001_.png"])
    assert names == ["ComfyUI_temp_<random>_00001_.png", "t_00001_.png"]


# --- match_value ---------------------------------------------------------------------------


def test_trimmed_list_matches_on_count_and_first_items() -> None:
    expected = ["x", "y", "…(+2 more items trimmed)"]
    assert match_value(expected, ["x", "y", "z", "w"]) is None
    too_short = match_value(expected, ["x", "y", "z"])
    assert too_short is not None
    assert "length 3 != 4" in too_short.reason
    first_differs = match_value(expected, ["x", "q", "z", "w"])
    assert first_differs is not None
    assert first_differs.where == "$[1]"


def test_trimmed_string_matches_on_prefix() -> None:
    expected = "tensor([[1.0, …(+1173 chars trimmed)"
    assert match_value(expected, "tensor([[1.0, 2.0]])") is None
    mismatch = match_value(expected, "tensor([[0.0, 2.0]])")
    assert mismatch is not None
    assert mismatch.reason.startswith("trimmed string")


def test_int_and_float_are_not_interchangeable() -> None:
    mismatch = match_value({"value": 1.0}, {"value": 1})
    assert mismatch is not None
    assert mismatch.where == "$.value"
    assert match_value(True, 1) is not None


def test_missing_and_extra_keys_are_named() -> None:
    mismatch = match_value({"node": "1", "display_node": "1"}, {"node": "1", "extra": 2})
    assert mismatch is not None
    assert "missing ['display_node']" in mismatch.reason
    assert "unexpected ['extra']" in mismatch.reason


def test_compare_documents_uses_separate_numbering_per_side() -> None:
    expected = {"prompt_id": ID_A, "number": 0, "node_errors": {}}
    assert compare_documents(expected, {"prompt_id": ID_B, "number": 9, "node_errors": {}}) is None
    mismatch = compare_documents(expected, {"prompt_id": "x", "number": 9, "node_errors": {}})
    assert mismatch is not None
    assert mismatch.where == "$.prompt_id"


# --- frame sequences -------------------------------------------------------------------------


def test_a_replay_with_other_ids_matches_the_capture() -> None:
    frames = _frames("a")
    client_id, prompt_id = frames[0]["data"]["sid"], frames[-1]["data"]["prompt_id"]
    replay = _replace_ids(frames, {client_id: ID_A, prompt_id: ID_B})
    assert compare_frames(expected_items(_entries("a")), replay) is None


def test_the_first_differing_frame_and_field_are_reported() -> None:
    replay = copy.deepcopy(_frames("a"))
    replay[9]["data"]["node"] = "3"
    mismatch = compare_frames(expected_items(_entries("a")), replay)
    assert mismatch is not None
    assert mismatch.where.startswith("frame 9 (expected #9 executing, got executing).data.node")
    assert (mismatch.expected, mismatch.actual) == ("2", "3")


def test_one_prompt_id_where_the_capture_had_two_is_a_mismatch() -> None:
    replay = copy.deepcopy(_frames("a"))
    replay[-1]["data"]["prompt_id"] = ID_A
    mismatch = compare_frames(expected_items(_entries("a")), replay)
    assert mismatch is not None
    assert mismatch.where.endswith(".data.prompt_id")


def test_missing_and_extra_frames_are_reported() -> None:
    frames = _frames("a")
    missing = compare_frames(expected_items(_entries("a")), frames[:-1])
    assert missing is not None
    assert missing.reason == "missing frame"
    extra = compare_frames(expected_items(_entries("a")), [*frames, frames[-1]])
    assert extra is not None
    assert "unexpected frames ['executing']" in extra.reason


def test_omitted_run_absorbs_any_number_of_progress_frames() -> None:
    entries: list[dict[str, Any]] = [
        {"kind": "frame", "frame": {"type": "executing", "data": {"node": "4"}}},
        {"kind": "frame", "frame": _progress(1)},
        {"kind": "omitted", "count": 10, "types": {"progress": 10}},
        {"kind": "frame", "frame": _progress(12)},
        {"kind": "frame", "frame": {"type": "execution_interrupted", "data": {}}},
    ]
    items = expected_items(entries)
    assert len(items) == 3
    assert isinstance(items[1], FrameRun)
    head, tail = entries[0]["frame"], entries[-1]["frame"]
    for count in (0, 3, 40):
        run = [_progress(value) for value in range(1, count + 1)]
        assert compare_frames(items, [head, *run, tail]) is None


def test_omitted_run_checks_shape_and_order() -> None:
    items = expected_items(
        [
            {"kind": "frame", "frame": _progress(1)},
            {"kind": "omitted", "count": 5, "types": {"progress": 5}},
        ]
    )
    wrong_max = compare_frames(items, [_progress(1), _progress(2, total=99)])
    assert wrong_max is not None
    assert wrong_max.where.startswith("frame 1 (inside an omitted run")
    backwards = compare_frames(items, [_progress(2), _progress(1)])
    assert backwards is not None
    assert "progress went from 2 to 1" in backwards.reason


def test_d3_fixture_turns_into_prefix_run_and_tail() -> None:
    items = expected_items(_entries("d3"))
    runs = [item for item in items if isinstance(item, FrameRun)]
    assert len(runs) == 1
    assert runs[0].types == {"progress", "progress_state"}
    tail = items[items.index(runs[0]) + 1 :]
    assert [item["type"] for item in tail if isinstance(item, dict)] == [
        "execution_interrupted",
        "status",
        "executing",
    ]


@pytest.mark.parametrize(
    ("payload", "described"),
    [
        (
            b"\x00\x00\x00\x01\x00\x00\x00\x02\x89PNG\r\n\x1a\nrest",
            {
                "first8": "0000000100000002",
                "event_type": 1,
                "image_format": 2,
                "image_prefix": "89504e470d0a1a0a",
            },
        ),
        (
            b"\x00\x00\x00\x04\x00\x00\x00\x0b" + b'{"a": "b"}\n' + b"\xff\xd8\xff\xe0jpeg",
            {
                "first8": "000000040000000b",
                "event_type": 4,
                "metadata_length": 11,
                "metadata": {"a": "b"},
                "image_prefix": "ffd8ffe06a706567",
            },
        ),
    ],
)
def test_binary_frames_are_described_like_the_transcript(
    payload: bytes, described: dict[str, Any]
) -> None:
    assert describe_binary_frame(payload) == {BINARY_KEY: described}
    assert received_item(payload) == {BINARY_KEY: described}


def test_f1_binary_frames_match_a_described_replay() -> None:
    binary = next(e for e in _entries("f1") if e["kind"] == "binary")
    (item,) = expected_items([binary])
    payload = bytes.fromhex(binary["first8"]) + bytes.fromhex("89504e470d0a1a0a") + b"x" * 70
    assert compare_frames([item], [received_item(payload)]) is None
