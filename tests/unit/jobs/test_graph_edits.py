"""Input overrides, media wiring, filename_prefix rewrite, reachability, and their order."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.jobs.domain_errors import (
    InvalidWorkflow,
    UnknownOverrideTarget,
    UnreferencedMedia,
    UnsafeFilenamePrefix,
)
from comfy_gateway.jobs.graph import (
    InputOverride,
    apply_input_overrides,
    apply_placeholders,
    check_workflow_shape,
    is_link,
    nodes_feeding_outputs,
    rewrite_filename_prefixes,
    strip_job_prefix,
    wire_media,
)

JOB = "0193a5c4-7b1e-7000-8000-000000000001"
REF = "comfy-gateway/" + "a" * 64 + ".png"


def _graph() -> dict[str, dict[str, Any]]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": "input.png"}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "input.png on a table"}},
    }


# --- overrides ---------------------------------------------------------------------------


def test_overrides_set_replace_and_add_inputs_in_order() -> None:
    graph = _graph()
    original = copy.deepcopy(graph)
    edited = apply_input_overrides(
        graph,
        [
            InputOverride(node="4", field="text", value="first"),
            InputOverride(node="4", field="text", value="second"),
            InputOverride(node="3", field="extra", value={"a": [1]}),
            InputOverride(node="2", field="image", value=["3", 0]),
        ],
    )
    assert edited["4"]["inputs"]["text"] == "second"
    assert edited["3"]["inputs"]["extra"] == {"a": [1]}
    assert edited["2"]["inputs"]["image"] == ["3", 0]
    assert graph == original


def test_override_of_an_unknown_node_names_the_known_ones() -> None:
    with pytest.raises(UnknownOverrideTarget) as raised:
        apply_input_overrides(_graph(), [InputOverride(node="99", field="text", value="x")])
    assert raised.value.details == {"node": "99", "field": "text"}
    assert "'99'" in str(raised.value)
    assert "'1', '2', '3', '4'" in str(raised.value)


def test_override_with_an_empty_field_is_refused() -> None:
    with pytest.raises(UnknownOverrideTarget, match="field name"):
        apply_input_overrides(_graph(), [InputOverride(node="4", field="", value="x")])


def test_override_node_given_as_integer_is_matched_as_text() -> None:
    override = InputOverride(node=4, field="text", value="x")  # type: ignore[arg-type]
    assert apply_input_overrides(_graph(), [override])["4"]["inputs"]["text"] == "x"


def test_override_value_is_validated_and_copied() -> None:
    deep: Any = "x"
    for _ in range(100):
        deep = {"k": deep}
    with pytest.raises(InvalidWorkflow, match="deeper"):
        apply_input_overrides(_graph(), [InputOverride(node="4", field="v", value=deep)])
    value = [1]
    edited = apply_input_overrides(_graph(), [InputOverride(node="4", field="v", value=value)])
    value.append(2)
    assert edited["4"]["inputs"]["v"] == [1]


# --- media wiring ------------------------------------------------------------------------


def test_media_name_as_whole_value_is_replaced_by_its_reference() -> None:
    edited, used = wire_media(_graph(), {"input.png": REF})
    assert edited["1"]["inputs"]["image"] == REF
    assert edited["4"]["inputs"]["text"] == "input.png on a table", "text was rewritten"
    assert used == {"input.png"}


def test_media_name_inside_lists_or_keys_is_not_wired() -> None:
    graph = {"1": {"class_type": "X", "inputs": {"a": ["input.png"], "input.png": 1}}}
    with pytest.raises(UnreferencedMedia):
        wire_media(graph, {"input.png": REF})


def test_unreferenced_media_are_all_named() -> None:
    with pytest.raises(UnreferencedMedia) as raised:
        wire_media(_graph(), {"input.png": REF, "b.wav": "r2", "a.mp4": "r3"})
    assert raised.value.details["names"] == ["a.mp4", "b.wav"]
    assert raised.value.code == "unreferenced_media"


def test_unreferenced_media_allowed_when_not_required() -> None:
    _, used = wire_media(_graph(), {"other.png": REF}, require_all=False)
    assert used == frozenset()


def test_one_media_item_may_feed_several_nodes() -> None:
    graph = _graph()
    graph["5"] = {"class_type": "LoadImage", "inputs": {"image": "input.png"}}
    edited, _ = wire_media(graph, {"input.png": REF})
    assert edited["1"]["inputs"]["image"] == edited["5"]["inputs"]["image"] == REF


# --- filename_prefix ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "rewritten"),
    [
        ("t", f"comfy-gateway/{JOB}/t"),
        ("video/wan", f"comfy-gateway/{JOB}/video/wan"),
        ("", f"comfy-gateway/{JOB}/"),
        ("a..b", f"comfy-gateway/{JOB}/a..b"),
        ("ComfyUI", f"comfy-gateway/{JOB}/ComfyUI"),
    ],
)
def test_prefixes_move_under_the_job_folder(prefix: str, rewritten: str) -> None:
    graph = _graph()
    graph["3"]["inputs"]["filename_prefix"] = prefix
    edited, rewrites = rewrite_filename_prefixes(graph, JOB)
    assert edited["3"]["inputs"]["filename_prefix"] == rewritten
    assert rewrites["3"].original == prefix
    assert rewrites["3"].rewritten == rewritten
    assert graph["3"]["inputs"]["filename_prefix"] == prefix


@pytest.mark.parametrize(
    ("prefix", "fragment"),
    [
        ("../escape", "'..'"),
        ("video/../../x", "'..'"),
        ("a\\..\\b", "'..'"),
        ("..", "'..'"),
        ("/etc/x", "absolute"),
        ("\\\\server\\share", "absolute"),
        ("C:\\out", "absolute"),
        ("c:out", "absolute"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
    ],
)
def test_unsafe_prefixes_are_refused(prefix: str, fragment: str) -> None:
    graph = _graph()
    graph["3"]["inputs"]["filename_prefix"] = prefix
    with pytest.raises(UnsafeFilenamePrefix, match=fragment) as raised:
        rewrite_filename_prefixes(graph, JOB)
    assert raised.value.details["node_id"] == "3"


def test_linked_prefix_is_left_alone_and_not_reported() -> None:
    graph = _graph()
    graph["3"]["inputs"]["filename_prefix"] = ["9", 0]
    edited, rewrites = rewrite_filename_prefixes(graph, JOB)
    assert edited["3"]["inputs"]["filename_prefix"] == ["9", 0]
    assert rewrites == {}


@pytest.mark.parametrize(
    ("subfolder", "expected"),
    [
        (f"comfy-gateway/{JOB}", ""),
        (f"comfy-gateway/{JOB}/video", "video"),
        (f"comfy-gateway\\{JOB}\\video\\x", "video/x"),
        ("comfy-gateway/other-job/video", "comfy-gateway/other-job/video"),
        (f"comfy-gateway/{JOB}x/video", f"comfy-gateway/{JOB}x/video"),
        ("", ""),
    ],
)
def test_strip_job_prefix(subfolder: str, expected: str) -> None:
    assert strip_job_prefix(subfolder, JOB) == expected


# --- reachability ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(["1", 0], True), ([1, 0], False), (["1", True], False), (["1"], False), ("1", False)],
)
def test_is_link(value: Any, expected: bool) -> None:
    assert is_link(value) is expected


def test_nodes_feeding_outputs_follows_links_only() -> None:
    graph = _graph()
    graph["5"] = {"class_type": "X", "inputs": {"a": ["404", 0], "b": ["4", 0]}}
    assert nodes_feeding_outputs(graph, ["3"]) == {"1", "2", "3"}
    assert nodes_feeding_outputs(graph, ["5"]) == {"4", "5"}
    assert nodes_feeding_outputs(graph, ["3", "5", "nope"]) == {"1", "2", "3", "4", "5"}
    assert nodes_feeding_outputs(graph, []) == frozenset()


def test_nodes_feeding_outputs_survives_cycles_and_long_chains() -> None:
    graph: dict[str, dict[str, Any]] = {
        str(i): {"class_type": "X", "inputs": {"a": [str(i - 1), 0]}} for i in range(1, 5000)
    }
    graph["0"] = {"class_type": "X", "inputs": {"a": ["4999", 0]}}
    assert len(nodes_feeding_outputs(graph, ["4999"])) == 5000


def test_wan_graph_through_every_edit_in_contract_order(shared_comfyui_dir: Path) -> None:
    raw = json.loads((shared_comfyui_dir / "wan22_i2v_api_example.json").read_text("utf-8"))
    raw["6"]["inputs"]["text"] = "__PROMPT__"
    raw["57"]["inputs"]["noise_seed"] = "__SEED__"
    graph = check_workflow_shape(raw)
    graph, used = apply_placeholders(graph, {"prompt": "a fox", "seed": 918273})
    graph = apply_input_overrides(graph, [InputOverride(node="57", field="steps", value=6)])
    graph, _ = wire_media(graph, {"input.png": REF})
    graph, rewrites = rewrite_filename_prefixes(graph, JOB)
    assert used == {"prompt", "seed"}
    assert graph["6"]["inputs"]["text"] == "a fox"
    assert graph["57"]["inputs"]["noise_seed"] == 918273
    assert graph["57"]["inputs"]["steps"] == 6
    assert graph["62"]["inputs"]["image"] == REF
    assert graph["61"]["inputs"]["filename_prefix"] == f"comfy-gateway/{JOB}/video/wan"
    assert set(rewrites) == {"61"}
    assert nodes_feeding_outputs(graph, ["61"]) == set(graph)
