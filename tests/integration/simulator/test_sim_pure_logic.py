"""The simulator's pure parts, without sockets: ordering, signatures, paging, parsing.

(They live beside the socket tests because this folder is the simulator engine's own.)
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from comfy_gateway.simulator import messages
from comfy_gateway.simulator.config import (
    ConfigUpdateError,
    Durations,
    parse_class_seconds,
    parse_config_update,
    parse_model_entries,
)
from comfy_gateway.simulator.faults import FaultBook, FaultKind, FaultSpecError, parse_fault
from comfy_gateway.simulator.graph import ExecutionPlan, is_link, node_signatures
from comfy_gateway.simulator.history import HistoryStore
from comfy_gateway.simulator.progress import ProgressRegistry

OUTPUT_CLASSES = {"SaveImage", "PreviewImage"}


def vae_graph() -> dict[str, Any]:
    """Scenario (g): EmptyImage, VAELoader → VAEEncode → VAEDecodeTiled → SaveImage."""
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8}},
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}},
        "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
        "4": {"class_type": "VAEDecodeTiled", "inputs": {"samples": ["3", 0], "vae": ["2", 0]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0]}},
    }


def run_order(
    graph: dict[str, Any], outputs: list[str], cached: frozenset[str] = frozenset()
) -> list[str]:
    plan = ExecutionPlan(
        graph,
        is_output=lambda node: graph[node]["class_type"] in OUTPUT_CLASSES,
        is_cached=lambda node: node in cached,
    )
    for output in outputs:
        plan.add_output(output)
    order = []
    while not plan.is_empty():
        node = plan.next_node()
        order.append(node)
        plan.complete(node)
    return order


def test_execution_order_matches_the_captured_scenarios() -> None:
    assert run_order(vae_graph(), ["5"]) == ["2", "1", "3", "4", "5"]
    chain = {
        "1": {"class_type": "EmptyImage", "inputs": {}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0]}},
    }
    assert run_order(chain, ["3"]) == ["1", "2", "3"]
    assert run_order(chain, ["3"], cached=frozenset({"1", "2"})) == ["3"]
    assert run_order(vae_graph(), ["5"], cached=frozenset({"2"})) == ["1", "3", "4", "5"]


def test_links_are_two_item_lists_of_id_and_index() -> None:
    assert is_link(["1", 0])
    assert not is_link([1, 0])
    assert not is_link(["1"])
    assert not is_link(["1", True])
    assert not is_link("1")


def test_signatures_follow_inputs_and_upstream_changes() -> None:
    base = node_signatures(vae_graph(), lambda node: None)
    changed = vae_graph()
    changed["1"]["inputs"]["width"] = 16
    after = node_signatures(changed, lambda node: None)
    assert after["2"] == base["2"]  # VAELoader does not depend on the image
    assert all(after[node] != base[node] for node in ("1", "3", "4", "5"))
    fingerprinted = node_signatures(vae_graph(), lambda node: "x" if node == "2" else None)
    assert fingerprinted["1"] == base["1"]
    assert fingerprinted["2"] != base["2"]


def test_progress_registry_keeps_captured_number_types() -> None:
    progress = ProgressRegistry("p")
    progress.start("1")
    assert progress.state_data()["nodes"]["1"]["value"] == 0.0
    progress.finish("1")
    progress.update("2", 1, 3)
    progress.finish("2")
    progress.finish("3")  # cached: never started
    nodes = progress.state_data()["nodes"]
    assert [(n["value"], n["max"], n["state"]) for n in nodes.values()] == [
        (1.0, 1.0, "finished"),
        (3, 3, "finished"),
        (1, 1, "finished"),
    ]
    assert isinstance(nodes["3"]["value"], int)


def test_history_paging_follows_comfyui() -> None:
    history = HistoryStore(max_items=3)
    for index in range(4):
        history.add(f"p{index}", {"n": index})
    assert list(history.page(None, -1)) == ["p1", "p2", "p3"]
    assert list(history.page(2, -1)) == ["p2", "p3"]
    assert list(history.page(2, 1)) == ["p2", "p3"]
    assert list(history.page(1, 0)) == ["p1"]
    assert list(history.page(0, 0)) == ["p1"]  # ComfyUI adds one item before checking
    assert history.one("p0") == {}


def test_preview_frames_have_captured_headers() -> None:
    legacy = messages.preview_frame_legacy(b"\x89PNG", "PNG")
    assert struct.unpack(">II", legacy[:8]) == (1, 2)
    jpeg = messages.preview_frame_legacy(b"\xff\xd8", "JPEG")
    assert struct.unpack(">II", jpeg[:8]) == (1, 1)
    framed = messages.preview_frame_with_metadata(b"img", "PNG", prompt_id="p", node_id="7")
    event, length = struct.unpack(">II", framed[:8])
    assert (event, framed[8 + length :]) == (4, b"img")
    assert messages.executing_data(None, "p") == {"node": None, "prompt_id": "p"}


def test_config_updates_merge_and_refuse_nonsense() -> None:
    start = Durations(node_seconds=1.0, step_seconds=0.5)
    update = parse_config_update({"step_seconds": 0.1, "models": {"vae": ["a"]}}, start)
    assert update.durations == Durations(node_seconds=1.0, step_seconds=0.1)
    assert update.models == {"vae": ["a"]}
    assert update.reject_duplicate_prompt_ids is None
    assert update.durations.seconds_for("KSampler") == 1.0
    bad_bodies: list[Any] = [{"node_seconds": "1"}, {"models": {"vae": "a"}}, [], {"x": 1}]
    for bad in bad_bodies:
        with pytest.raises(ConfigUpdateError):
            parse_config_update(bad, start)


def test_faults_match_and_count_down() -> None:
    book = FaultBook()
    book.add(parse_fault({"kind": "fail", "class_type": "SaveImage", "times": 2}))
    book.add(parse_fault({"kind": "hang", "node_id": "9"}))
    assert book.take("EmptyImage", "1") is None
    first = book.take("SaveImage", "3")
    assert first is not None
    assert first.kind is FaultKind.FAIL
    assert book.take("SaveImage", "3") is not None
    assert book.take("SaveImage", "3") is None
    hang = book.take("Anything", "9")
    assert hang is not None
    assert hang.kind is FaultKind.HANG
    with pytest.raises(FaultSpecError):
        parse_fault({"kind": "fail", "times": "2"})


def test_cli_value_parsers() -> None:
    assert parse_class_seconds(["KSampler=1.5", "VAEDecode=0"]) == {
        "KSampler": 1.5,
        "VAEDecode": 0.0,
    }
    assert parse_model_entries(["vae/a.safetensors", "loras/sub/b.safetensors"]) == {
        "vae": ["a.safetensors"],
        "loras": ["sub/b.safetensors"],
    }
    for bad_pairs in (["KSampler"], ["=1"], ["KSampler=fast"]):
        with pytest.raises(ConfigUpdateError):
            parse_class_seconds(bad_pairs)
    with pytest.raises(ConfigUpdateError):
        parse_model_entries(["no-folder.safetensors"])
