"""The committed ComfyUI fixtures are exactly what the extractor makes of the transcripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.extract_comfyui import (
    DEFAULT_OUT_DIR,
    build_fixtures,
    parse_binary_frame,
    parse_entry,
    write_fixtures,
)

FIXTURES = DEFAULT_OUT_DIR
VALIDATION_ERROR_TYPES = {
    "invalid_prompt",
    "prompt_no_outputs",
    "no_prompt",
    "prompt_outputs_failed_validation",
}


def _load(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
    return loaded


def _frames(scenario: dict[str, Any], label: str = "main") -> list[dict[str, Any]]:
    socket = next(s for s in scenario["sockets"] if s["label"] == label)
    return [e["frame"] for e in socket["entries"] if e["kind"] == "frame"]


def test_committed_fixtures_are_identical_to_a_fresh_extraction(shared_comfyui_dir: Path) -> None:
    expected = build_fixtures(shared_comfyui_dir)
    committed = {
        path.relative_to(FIXTURES).as_posix(): path.read_text(encoding="utf-8")
        for path in FIXTURES.rglob("*.json")
    }
    assert sorted(committed) == sorted(expected)
    drifted = [name for name, content in expected.items() if committed[name] != content]
    assert drifted == [], "re-run tests/tools/extract_comfyui.py; never hand-edit fixtures"


def test_write_fixtures_removes_stale_files(shared_comfyui_dir: Path, tmp_path: Path) -> None:
    stale = tmp_path / "ws" / "zz.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    written = write_fixtures(shared_comfyui_dir, tmp_path)
    assert not stale.exists()
    assert (tmp_path / "ws" / "a.json") in written


@pytest.mark.parametrize(
    "key", ["a", "b", "b2", "a2", "a3", "a4", "c", "c2", "d", "d2", "d3", "d4", "e", "i"]
)
def test_every_required_scenario_was_extracted(key: str) -> None:
    scenario = _load(f"ws/{key}.json")
    assert scenario["key"] == key
    assert scenario["sockets"], "each scenario has at least one socket transcript"


def test_scenario_a_is_the_seventeen_frame_normal_run() -> None:
    scenario = _load("ws/a.json")
    connected, *frames = _frames(scenario)
    assert connected["data"]["sid"] == scenario["prompt_bodies"][0]["client_id"]
    # The run itself: 17 frames after the on-connect status.
    assert len(frames) == 17
    assert frames[0] == {
        "type": "status",
        "data": {"status": {"exec_info": {"queue_remaining": 1}}},
    }
    assert frames[-1] == {
        "type": "executing",
        "data": {"node": None, "prompt_id": scenario["prompt_responses"][0]["body"]["prompt_id"]},
    }
    assert frames[-2]["type"] == "status"
    assert frames[-3]["type"] == "execution_success"
    assert scenario["prompt_bodies"][0]["prompt"]["3"]["class_type"] == "SaveImage"


def test_scenario_b_is_fully_cached() -> None:
    frames = _frames(_load("ws/b.json"))
    cached = next(f for f in frames if f["type"] == "execution_cached")
    assert cached["data"]["nodes"] == ["1", "2", "3"]
    assert [f["data"]["node"] for f in frames if f["type"] == "executing"] == [None]


def test_interrupt_notes_keep_their_position() -> None:
    entries = _load("ws/d.json")["sockets"][0]["entries"]
    note_index = next(
        i
        for i, e in enumerate(entries)
        if e["kind"] == "note" and e["text"].startswith("POST /interrupt")
    )
    before = entries[note_index - 1]["frame"]
    assert before["type"] == "executing"
    assert before["data"]["node"] == "2"
    after = [e["frame"]["type"] for e in entries[note_index + 1 :] if e["kind"] == "frame"]
    assert "execution_interrupted" in after


def test_d3_keeps_omission_markers_with_counts() -> None:
    socket = _load("ws/d3.json")["sockets"][0]
    omitted = [e for e in socket["entries"] if e["kind"] == "omitted"]
    assert [e["count"] for e in omitted] == [2296, 31]
    assert omitted[0]["types"] == {"progress_state": 1148, "progress": 1148}
    total = sum(e["count"] if e["kind"] == "omitted" else 1 for e in socket["entries"])
    assert total == socket["declared_entries"] == 2382


def test_scenario_c_records_the_corrupt_upload() -> None:
    upload = _load("ws/c.json")["upload"]
    assert upload["filename"] == "corrupt.png"
    assert upload["size"] == 136
    assert upload["response"] == {"name": "corrupt.png", "subfolder": "", "type": "input"}


def test_trimming_markers_are_kept_verbatim() -> None:
    frames = _frames(_load("ws/c.json"))
    error = next(f for f in frames if f["type"] == "execution_error")["data"]
    assert error["traceback"][-1].endswith("more items trimmed)")
    assert error["traceback"][0].endswith("chars trimmed)")


def test_d4_has_two_sockets_and_an_inline_body_description() -> None:
    scenario = _load("ws/d4.json")
    assert [s["label"] for s in scenario["sockets"]] == ["first", "second"]
    assert scenario["prompt_body_descriptions"][0].startswith("long graph (as in d")
    assert _frames(scenario, "second")[1] == {"type": "executing", "data": {"node": "2"}}


def test_prompt_cases_cover_sections_5_and_6() -> None:
    cases = [_load(p.relative_to(FIXTURES).as_posix()) for p in FIXTURES.glob("prompt_cases/*")]
    assert len(cases) >= 30
    assert {c["section"] for c in cases} == {"5", "6"}
    for case in cases:
        assert "request" in case, case["id"]
        if case["status"] == 500:
            assert case["content_type"] == "text/plain; charset=utf-8"
            assert "Server got itself in trouble" in case["response_text"]
        else:
            assert case["content_type"] == "application/json; charset=utf-8"
        if case["status"] == 400:
            assert case["response_json"]["error"]["type"] in VALIDATION_ERROR_TYPES


def test_raw_bodies_are_decoded_from_their_python_literal() -> None:
    assert _load("prompt_cases/s6-invalid-json-body.json")["request"]["raw"] == "{not json"
    assert _load("prompt_cases/s6-empty-body.json")["request"]["raw"] == ""


def test_parse_entry_reads_each_kind_of_line() -> None:
    frame = parse_entry('+0.0017  18:03:54.346  S→C   {"type": "status", "data": {}}')
    note = parse_entry("+1.1161  18:04:00.718  NOTE  POST /interrupt (no body)")
    sent = parse_entry('+0.0021  18:03:53.338  C→S   {"type": "feature_flags", "data": {}}')
    assert frame == {"kind": "frame", "frame": {"type": "status", "data": {}}}
    assert note == {"kind": "note", "text": "POST /interrupt (no body)"}
    assert sent == {"kind": "sent", "frame": {"type": "feature_flags", "data": {}}}
    assert parse_entry("```") is None


def test_parse_binary_frame_with_metadata() -> None:
    line = (
        "BINARY len=259 first8=0x00000004000000a5 event_type=4 (PREVIEW_IMAGE_WITH_METADATA) "
        'metadata_len=165 metadata={"node_id": "2", "image_type": "image/png"} then image '
        "bytes starting 0x89504e470d0a1a0a (PNG signature)"
    )
    assert parse_binary_frame(line) == {
        "length": 259,
        "first8": "00000004000000a5",
        "event_type": 4,
        "metadata_length": 165,
        "metadata": {"node_id": "2", "image_type": "image/png"},
        "image_prefix": "89504e470d0a1a0a",
    }


def test_scenario_e_bodies_are_recoverable_from_the_queue_snapshot() -> None:
    scenario = _load("ws/e.json")
    snapshot = scenario["queue_snapshot"]
    queued = {item[1] for item in snapshot["queue_running"] + snapshot["queue_pending"]}
    assert set(scenario["named_prompt_ids"]) == {"L1", "P2", "P3", "P4"}
    assert set(scenario["named_prompt_ids"].values()) == queued
