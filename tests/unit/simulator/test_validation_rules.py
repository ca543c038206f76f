"""Validation rules beyond the captured cases: coercion, body fields, files, odd shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.simulator.catalogue import (
    MODEL_FILE_INPUTS,
    NodeCatalogue,
    load_captured_object_info,
)
from comfy_gateway.simulator.validation import (
    PromptAccepted,
    PromptBodyUnparseable,
    PromptCheck,
    PromptRejected,
    check_prompt_request,
)
from comfy_gateway.simulator.validation.inputs import link_types_compatible


@pytest.fixture
def catalogue(tmp_path: Path) -> NodeCatalogue:
    for folder in ("input", "output", "temp"):
        (tmp_path / folder).mkdir()
    (tmp_path / "input" / "example.png").write_bytes(b"png")
    return NodeCatalogue(load_captured_object_info(), model_files={}, input_dir=tmp_path / "input")


def image_graph(**empty_image: Any) -> dict[str, Any]:
    """EmptyImage → ImageInvert → SaveImage, with EmptyImage inputs overridable."""
    inputs = {"width": 64, "height": 64, "batch_size": 1, "color": 0, **empty_image}
    return {
        "1": {"class_type": "EmptyImage", "inputs": inputs},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "t"}},
    }


def load_image_graph(name: Any) -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
    }


def post(catalogue: NodeCatalogue, body: Any) -> PromptCheck:
    return check_prompt_request(json.dumps(body).encode(), catalogue)


def accepted(catalogue: NodeCatalogue, body: Any) -> PromptAccepted:
    outcome = post(catalogue, body)
    assert isinstance(outcome, PromptAccepted), outcome
    return outcome


def rejected(catalogue: NodeCatalogue, body: Any) -> dict[str, Any]:
    outcome = post(catalogue, body)
    assert isinstance(outcome, PromptRejected), outcome
    return outcome.body


def only_error(body: dict[str, Any], node_id: str) -> dict[str, Any]:
    errors = body["node_errors"][node_id]["errors"]
    assert len(errors) == 1
    return dict(errors[0])


def test_coerced_values_are_what_gets_queued(catalogue: NodeCatalogue) -> None:
    outcome = accepted(catalogue, {"prompt": image_graph(width="64", height=64.0, color=True)})
    inputs = outcome.prompt["1"]["inputs"]
    assert inputs == {"width": 64, "height": 64, "batch_size": 1, "color": 1}
    assert all(type(value) is int for value in inputs.values())
    assert outcome.prompt["3"]["inputs"]["filename_prefix"] == "t"


def test_float_string_and_boolean_inputs_are_coerced(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["4"] = {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": "12.5"}}
    graph["5"] = {
        "class_type": "SaveVideo",
        "inputs": {"video": ["4", 0], "filename_prefix": 7, "format": "auto", "codec": "auto"},
    }
    outcome = accepted(catalogue, {"prompt": graph})
    assert outcome.prompt["4"]["inputs"]["fps"] == 12.5
    assert outcome.prompt["5"]["inputs"]["filename_prefix"] == "7"


def test_v3_combos_are_not_checked_by_this_server_version(catalogue: NodeCatalogue) -> None:
    """0.3.64 compares only V1 `[[options]]` combos; V3 `["COMBO", …]` values pass."""
    graph = image_graph()
    graph["4"] = {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8}}
    graph["5"] = {
        "class_type": "SaveVideo",
        "inputs": {"video": ["4", 0], "filename_prefix": "v", "format": "bogus", "codec": "x"},
    }
    assert accepted(catalogue, {"prompt": graph}).node_errors == {}


def test_float_bounds_are_checked(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["4"] = {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 500}}
    graph["5"] = {
        "class_type": "SaveVideo",
        "inputs": {"video": ["4", 0], "filename_prefix": "v", "format": "auto", "codec": "auto"},
    }
    outcome = accepted(catalogue, {"prompt": graph})  # output 3 still runs
    assert outcome.outputs_to_execute == ["3"]
    error = only_error({"node_errors": outcome.node_errors}, "4")
    assert error["type"] == "value_bigger_than_max"
    assert error["message"] == "Value 500.0 bigger than max of 120.0"


def test_body_fields_are_read_as_comfyui_reads_them(catalogue: NodeCatalogue) -> None:
    body = {
        "prompt": image_graph(),
        "prompt_id": 123,
        "client_id": "c1",
        "extra_data": {"extra_pnginfo": {"workflow": {}}},
        "front": 1,
    }
    outcome = accepted(catalogue, body)
    assert outcome.prompt_id == "123"
    assert outcome.client_id == "c1"
    assert outcome.extra_data == {"extra_pnginfo": {"workflow": {}}, "client_id": "c1"}
    assert outcome.front is True
    assert outcome.number_hint is None
    assert outcome.outputs_to_execute == ["3"]


def test_explicit_number_wins_over_front(catalogue: NodeCatalogue) -> None:
    outcome = accepted(catalogue, {"prompt": image_graph(), "number": "7", "front": True})
    assert outcome.number_hint == 7.0
    assert outcome.front is False
    assert outcome.prompt_id is None
    assert outcome.client_id is None
    assert outcome.extra_data == {}


def test_node_meta_and_unknown_inputs_are_kept_verbatim(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["2"]["_meta"] = {"title": "Invert"}
    graph["2"]["inputs"]["not_an_input"] = {"any": ["thing"]}
    outcome = accepted(catalogue, {"prompt": graph})
    assert outcome.prompt["2"]["_meta"] == {"title": "Invert"}
    assert outcome.prompt["2"]["inputs"]["not_an_input"] == {"any": ["thing"]}


def test_nodes_no_output_depends_on_are_not_validated(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["9"] = {"class_type": "ImageScale", "inputs": {"upscale_method": "bogus"}}
    assert accepted(catalogue, {"prompt": graph}).node_errors == {}


def test_partial_execution_targets_choose_the_outputs(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["5"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
    both = accepted(catalogue, {"prompt": graph})
    assert both.outputs_to_execute == ["3", "5"]
    only = accepted(catalogue, {"prompt": graph, "partial_execution_targets": ["5"]})
    assert only.outputs_to_execute == ["5"]
    none = rejected(catalogue, {"prompt": graph, "partial_execution_targets": ["2"]})
    assert none["error"]["type"] == "prompt_no_outputs"


def test_a_shared_broken_node_names_every_output_it_breaks(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    del graph["2"]["inputs"]["image"]
    graph["5"] = {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}
    body = rejected(catalogue, {"prompt": graph})
    assert list(body["node_errors"]) == ["2"]
    assert body["node_errors"]["2"]["dependent_outputs"] == ["3", "5"]
    assert body["error"]["details"] == ""


@pytest.mark.parametrize("name", ["sub/photo.png", "photo.png [input]", "done.png [output]"])
def test_load_image_accepts_existing_files_by_path_or_annotation(
    catalogue: NodeCatalogue, name: str
) -> None:
    (catalogue.input_dir / "sub").mkdir()
    (catalogue.input_dir / "sub" / "photo.png").write_bytes(b"png")
    (catalogue.input_dir / "photo.png").write_bytes(b"png")
    (catalogue.output_dir / "done.png").write_bytes(b"png")
    assert accepted(catalogue, {"prompt": load_image_graph(name)}).node_errors == {}


def test_load_image_refuses_a_missing_subfolder_file(catalogue: NodeCatalogue) -> None:
    body = rejected(catalogue, {"prompt": load_image_graph("sub/none.png")})
    assert only_error(body, "1") == {
        "type": "custom_validation_failed",
        "message": "Custom validation failed for node",
        "details": "image - Invalid image file: sub/none.png",
        "extra_info": {"input_name": "image"},
    }


def test_load_image_without_its_input_crashes_like_comfyui(catalogue: NodeCatalogue) -> None:
    graph = load_image_graph("x")
    del graph["1"]["inputs"]["image"]
    error = only_error(rejected(catalogue, {"prompt": graph}), "1")
    assert error["type"] == "exception_during_inner_validation"
    assert error["extra_info"]["exception_type"] == "TypeError"
    assert error["details"] == (
        "LoadImage.VALIDATE_INPUTS() missing 1 required positional argument: 'image'"
    )
    assert error["extra_info"]["input_name"] == "images"


def test_installed_model_files_pass_and_others_fail(catalogue: NodeCatalogue) -> None:
    graph = {
        "1": {"class_type": "VAELoader", "inputs": {"vae_name": "wan_2.1_vae.safetensors"}},
        "2": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 0]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "v"}},
    }
    assert rejected(catalogue, {"prompt": graph})["node_errors"]["1"]["class_type"] == "VAELoader"
    catalogue.set_model_files("vae", ["wan_2.1_vae.safetensors"])
    assert accepted(catalogue, {"prompt": graph}).outputs_to_execute == ["4"]


@pytest.mark.parametrize(("installed", "shows_list"), [(20, True), (21, False)])
def test_long_model_lists_are_left_out_of_the_answer(
    catalogue: NodeCatalogue, installed: int, shows_list: bool
) -> None:
    names = [f"m{index:02}.safetensors" for index in range(installed)]
    catalogue.set_model_files("checkpoints", names)
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "absent"}},
        "2": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["1", 2]}},
        "3": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "4": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "v"}},
    }
    error = only_error(rejected(catalogue, {"prompt": graph}), "1")
    if shows_list:
        assert error["extra_info"]["input_config"][0] == names
        assert error["details"] == f"ckpt_name: 'absent' not in {names}"
    else:
        assert error["extra_info"]["input_config"] is None
        assert error["details"] == "ckpt_name: 'absent' not in (list of length 21)"


def test_slot_index_of_the_wrong_type_is_an_inner_exception(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["2"]["inputs"]["image"] = ["1", "0"]
    error = only_error(rejected(catalogue, {"prompt": graph}), "2")
    assert error["extra_info"]["exception_type"] == "TypeError"
    assert error["details"] == "tuple indices must be integers or slices, not str"
    assert "received_type = r[val[1]]" in error["extra_info"]["traceback"][1]


def test_node_without_inputs_key_is_an_inner_exception(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    del graph["2"]["inputs"]
    error = only_error(rejected(catalogue, {"prompt": graph}), "2")
    assert (error["type"], error["details"]) == ("exception_during_inner_validation", "'inputs'")


def test_a_dependency_cycle_is_refused(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["2"]["inputs"]["image"] = ["4", 0]
    graph["4"] = {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}}
    assert rejected(catalogue, {"prompt": graph})["error"]["type"] == (
        "prompt_outputs_failed_validation"
    )


@pytest.mark.parametrize(
    ("raw", "advances_counter"),
    [
        (b"{not json", False),
        (b"", False),
        (b"\xff\xfe", False),
        (b"null", False),
        (b'{"number": "x", "prompt": {}}', False),
        (b'{"prompt": "hello"}', True),
        (b'{"prompt": "hello", "number": 3}', False),
        (b'{"prompt": {"1": "class_type"}}', True),
        (b'{"prompt": {"1": {"class_type": ["SaveImage"]}}}', True),
        (b'{"prompt": {}, "extra_data": [], "client_id": "c"}', True),
    ],
)
def test_bodies_comfyui_trips_over_are_500s(
    catalogue: NodeCatalogue, raw: bytes, advances_counter: bool
) -> None:
    outcome = check_prompt_request(raw, catalogue)
    assert isinstance(outcome, PromptBodyUnparseable)
    assert outcome.advances_counter is advances_counter


@pytest.mark.parametrize(
    ("body", "advances_counter"),
    [({"client_id": "c"}, True), ({"number": 4}, False), ({"prompt": {}, "number": 1}, False)],
)
def test_rejections_say_whether_they_were_counted(
    catalogue: NodeCatalogue, body: dict[str, Any], advances_counter: bool
) -> None:
    outcome = post(catalogue, body)
    assert isinstance(outcome, PromptRejected)
    assert outcome.advances_counter is advances_counter


def test_unknown_class_given_as_number_is_named_as_given(catalogue: NodeCatalogue) -> None:
    body = rejected(catalogue, {"prompt": {"7": {"class_type": 5, "inputs": {}}}})
    assert body["error"]["message"] == "Cannot execute because node 5 does not exist."
    assert body["error"]["details"] == "Node ID '#7'"


@pytest.mark.parametrize(
    ("received", "expected", "compatible"),
    [
        ("IMAGE", "IMAGE", True),
        ("*", "LATENT", True),
        ("IMAGE", "IMAGE,MASK", True),
        ("LATENT", "IMAGE", False),
        (["a", "b"], "COMBO", True),
        (["a", "b"], "STRING", False),
    ],
)
def test_link_type_rules(received: Any, expected: Any, compatible: bool) -> None:
    assert link_types_compatible(received, expected) is compatible


@pytest.mark.parametrize("example", ["wan22_i2v_api_example.json", "wan22_s2v_api_example.json"])
def test_wan_examples_pass_once_their_files_are_installed(
    catalogue: NodeCatalogue, shared_comfyui_dir: Path, example: str
) -> None:
    """The real server accepted these graphs with their model files in place."""
    graph = json.loads((shared_comfyui_dir / example).read_text())
    missing = rejected(catalogue, {"prompt": graph})["node_errors"]
    wanted: dict[str, list[str]] = {}
    for node in graph.values():
        for name, value in node["inputs"].items():
            folder = MODEL_FILE_INPUTS.get((node["class_type"], name))
            if folder is not None:
                wanted.setdefault(folder, []).append(value)
    vae_names = [
        node["inputs"]["vae_name"] for node in graph.values() if node["class_type"] == "VAELoader"
    ]
    # V1 model combos and the loaders' file checks refuse; V3 combos are not checked.
    refusing = {
        "UNETLoader",
        "CLIPLoader",
        "VAELoader",
        "LoraLoaderModelOnly",
        "LoadImage",
        "LoadAudio",
    }
    assert set(missing) == {
        node_id for node_id, node in graph.items() if node["class_type"] in refusing
    }
    for folder, names in {**wanted, "vae": vae_names}.items():
        catalogue.set_model_files(folder, names)
    for name in ("input.png", "input.wav"):
        (catalogue.input_dir / name).write_bytes(b"media")
    outcome = accepted(catalogue, {"prompt": graph})
    assert outcome.node_errors == {}
    assert outcome.outputs_to_execute == [
        node_id for node_id, node in graph.items() if node["class_type"] == "SaveVideo"
    ]
