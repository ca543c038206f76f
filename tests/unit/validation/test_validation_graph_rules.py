"""The checker's own rules beyond the captured cases: model folders, media, coercion, reach."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.validation import NodeCatalogue, check_graph, model_folder
from comfy_gateway.validation.graph_checker import types_compatible

SHA = "ab" * 32


def image_graph(**empty_image: Any) -> dict[str, Any]:
    inputs = {"width": 64, "height": 64, "batch_size": 1, "color": 0, **empty_image}
    return {
        "1": {"class_type": "EmptyImage", "inputs": inputs},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
    }


def load_image_graph(name: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
    }


def loader_graph(class_type: str, input_name: str, file_name: str) -> dict[str, Any]:
    """A loader feeding a PreviewAny output, enough to validate the loader's combo."""
    return {
        "1": {"class_type": class_type, "inputs": {input_name: file_name}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }


OTHER_LOADER_INPUTS: dict[str, dict[str, Any]] = {
    "UNETLoader": {"weight_dtype": "default"},
    "CLIPLoader": {"type": "wan"},
}


def error_types(result: Any) -> dict[str, list[str]]:
    return {
        node_id: [error["type"] for error in entry["errors"]]
        for node_id, entry in result.node_errors.items()
    }


@pytest.mark.parametrize(
    ("class_type", "input_name", "folder"),
    [
        ("VAELoader", "vae_name", "vae"),
        ("UNETLoader", "unet_name", "diffusion_models"),
        ("CLIPLoader", "clip_name", "text_encoders"),
        ("CLIPVisionLoader", "clip_name", "clip_vision"),
        ("CheckpointLoaderSimple", "ckpt_name", "checkpoints"),
        ("LoraLoaderModelOnly", "lora_name", "loras"),
        ("ControlNetLoader", "control_net_name", "controlnet"),
        ("UpscaleModelLoader", "model_name", "upscale_models"),
        ("AudioEncoderLoader", "audio_encoder_name", "audio_encoders"),
    ],
)
def test_a_missing_model_file_is_named_with_its_folder(
    catalogue: NodeCatalogue, class_type: str, input_name: str, folder: str
) -> None:
    assert model_folder(class_type, input_name) == folder
    graph = loader_graph(class_type, input_name, "absent.safetensors")
    graph["1"]["inputs"].update(OTHER_LOADER_INPUTS.get(class_type, {}))
    if class_type == "LoraLoaderModelOnly":
        graph["1"]["inputs"].update(model=["3", 0], strength_model=1.0)
        graph["3"] = {"class_type": "UNETLoader", "inputs": {"weight_dtype": "default"}}
        graph["3"]["inputs"]["unet_name"] = "unet.safetensors"
        catalogue = catalogue.with_model_files("diffusion_models", ["unet.safetensors"])
    result = check_graph(graph, catalogue)
    [error] = result.node_errors["1"]["errors"]
    assert error["type"] == "value_not_in_list"
    assert "absent.safetensors" in error["message"]
    assert f"models/{folder}" in error["message"]
    assert error["extra_info"]["model_folder"] == folder
    assert result.requirements.model_files[folder] >= {"absent.safetensors"}
    assert class_type in result.stale_classes


def test_a_declared_model_file_passes(catalogue: NodeCatalogue) -> None:
    graph = loader_graph("VAELoader", "vae_name", "wan_2.1_vae.safetensors")
    assert not check_graph(graph, catalogue).ok
    declared = catalogue.with_model_files("vae", ["wan_2.1_vae.safetensors"])
    assert check_graph(graph, declared).ok


@pytest.mark.parametrize("value", ["64", 64.0, 64.9, " 64 "])
def test_int_values_are_coerced_as_comfyui_does(catalogue: NodeCatalogue, value: Any) -> None:
    assert check_graph(image_graph(width=value), catalogue).ok


@pytest.mark.parametrize("value", ["abc", "64.0", None, [1]])
def test_values_int_cannot_read_are_invalid_input_type(
    catalogue: NodeCatalogue, value: Any
) -> None:
    graph = image_graph(width=value)
    if isinstance(value, list):  # a list is a link: a bad one, not a value
        assert error_types(check_graph(graph, catalogue)) == {"1": ["bad_linked_input"]}
        return
    result = check_graph(graph, catalogue)
    assert error_types(result) == {"1": ["invalid_input_type"]}
    assert result.node_errors["1"]["errors"][0]["extra_info"]["input_name"] == "width"


def test_float_strings_are_coerced_and_bounds_checked(catalogue: NodeCatalogue) -> None:
    def graph(fps: Any) -> dict[str, Any]:
        return {
            "1": {
                "class_type": "EmptyImage",
                "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
            },
            "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": fps}},
            "3": {
                "class_type": "SaveVideo",
                "inputs": {
                    "video": ["2", 0],
                    "filename_prefix": "v",
                    "format": "auto",
                    "codec": "auto",
                },
            },
        }

    assert check_graph(graph("16.5"), catalogue).ok
    assert error_types(check_graph(graph("500"), catalogue)) == {"2": ["value_bigger_than_max"]}
    assert error_types(check_graph(graph("fast"), catalogue)) == {"2": ["invalid_input_type"]}


def test_a_v3_combo_reports_its_options_encoding(catalogue: NodeCatalogue) -> None:
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
        },
        "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8}},
        "3": {
            "class_type": "SaveVideo",
            "inputs": {"video": ["2", 0], "filename_prefix": "v", "format": "gif", "codec": "auto"},
        },
    }
    [error] = check_graph(graph, catalogue).node_errors["3"]["errors"]
    assert error["type"] == "value_not_in_list"
    assert error["extra_info"]["input_config"][0] == "COMBO"
    assert "auto" in error["details"]


@pytest.mark.parametrize(
    "name",
    ["photo.png", f"comfy-gateway/{SHA}.png", f"comfy-gateway/{SHA}.png [input]", "x.png [output]"],
)
def test_an_upload_input_naming_job_media_passes(catalogue: NodeCatalogue, name: str) -> None:
    result = check_graph(load_image_graph(name), catalogue, media_names={"photo.png"})
    assert result.ok, result.comfy_body()


def test_an_unknown_upload_fails_like_loadimage_and_asks_for_a_refetch(
    catalogue: NodeCatalogue,
) -> None:
    result = check_graph(load_image_graph("elsewhere.png"), catalogue, media_names={"photo.png"})
    [error] = result.node_errors["1"]["errors"]
    assert error["type"] == "custom_validation_failed"
    assert error["details"] == "image - Invalid image file: elsewhere.png"
    assert result.stale_classes == {"LoadImage"}
    assert check_graph(load_image_graph("example.png"), catalogue).ok  # listed in input/


def test_nodes_feeding_no_output_are_not_checked(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["9"] = {"class_type": "ImageInvert", "inputs": {}}
    graph["10"] = {"class_type": "VAELoader", "inputs": {"vae_name": "nowhere.safetensors"}}
    result = check_graph(graph, catalogue)
    assert result.ok
    assert result.requirements.node_classes == {"EmptyImage", "SaveImage"}
    assert result.requirements.model_files == {}


def test_an_unknown_class_anywhere_refuses_the_graph(catalogue: NodeCatalogue) -> None:
    graph = image_graph()
    graph["9"] = {"class_type": "VHS_VideoCombine", "inputs": {}}
    result = check_graph(graph, catalogue)
    assert result.error is not None
    assert result.error["type"] == "invalid_prompt"
    assert "VHS_VideoCombine" in result.error["message"]
    # what another backend would need to run it, the missing class included
    assert result.requirements.node_classes == {"EmptyImage", "SaveImage", "VHS_VideoCombine"}
    assert result.requirements.unmet_by(catalogue).node_classes == {"VHS_VideoCombine"}


def test_a_node_shared_by_two_failing_outputs_names_both(catalogue: NodeCatalogue) -> None:
    graph = image_graph(width=0)
    graph["3"] = {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "u"}}
    result = check_graph(graph, catalogue)
    assert result.node_errors["1"]["dependent_outputs"] == ["2", "3"]
    assert set(result.node_errors) == {"1"}


def test_a_cycle_fails_instead_of_recursing_forever(catalogue: NodeCatalogue) -> None:
    graph = {
        "1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "c"}},
    }
    result = check_graph(graph, catalogue)
    assert not result.ok
    kinds = {kind for kinds in error_types(result).values() for kind in kinds}
    assert kinds == {"exception_during_inner_validation"}


def test_a_graph_that_is_not_an_object_is_invalid(catalogue: NodeCatalogue) -> None:
    result = check_graph("hello", catalogue)
    assert result.error is not None
    assert result.error["type"] == "invalid_prompt"


@pytest.mark.parametrize(
    ("received", "expected", "compatible"),
    [
        ("IMAGE", "IMAGE", True),
        ("LATENT", "IMAGE", False),
        ("*", "IMAGE", True),
        ("IMAGE", "*", True),
        ("IMAGE,MASK", "MASK", True),
        ("STRING", "COMBO", False),
    ],
)
def test_link_types_follow_comfyui_rules(received: str, expected: str, compatible: bool) -> None:
    assert types_compatible(received, expected) is compatible


@pytest.mark.parametrize("example", ["wan22_i2v_api_example.json", "wan22_s2v_api_example.json"])
def test_the_wan_examples_pass_with_their_model_files_declared(
    catalogue: NodeCatalogue, shared_comfyui_dir: Path, example: str
) -> None:
    graph = json.loads((shared_comfyui_dir / example).read_text())
    media = {"input.png", "input.wav"}
    first = check_graph(graph, catalogue, media_names=media)
    assert not first.ok
    required = first.requirements
    assert (
        "WanImageToVideo" in required.node_classes
        or "WanSoundImageToVideo" in required.node_classes
    )
    assert required.model_files["vae"] == {"wan_2.1_vae.safetensors"}
    assert required.unmet_by(catalogue).model_files == required.model_files
    declared = catalogue
    for folder, names in required.model_files.items():
        declared = declared.with_model_files(folder, names)
    assert required.unmet_by(declared).is_empty
    second = check_graph(copy.deepcopy(graph), declared, media_names=media)
    assert second.ok, second.comfy_body()
    assert check_graph(graph, declared).error is not None  # without its media it fails


def test_wan_i2v_requirements_name_each_file_in_its_folder(
    catalogue: NodeCatalogue, shared_comfyui_dir: Path
) -> None:
    graph = json.loads((shared_comfyui_dir / "wan22_i2v_api_example.json").read_text())
    files = check_graph(graph, catalogue).requirements.model_files
    assert files["diffusion_models"] == {
        "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
        "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors",
    }
    assert files["text_encoders"] == {"umt5_xxl_fp8_e4m3fn_scaled.safetensors"}
    assert len(files["loras"]) == 2


@pytest.mark.parametrize(
    "broken_node",
    [
        {"class_type": ["ImageInvert"], "inputs": {}},
        {"class_type": "ImageInvert", "inputs": ["image"]},
        {"class_type": "ImageInvert"},
        {"class_type": "ImageInvert", "inputs": {"image": [["1"], 0]}},
        {"class_type": "ImageInvert", "inputs": {"image": ["1", "0"]}},
        "ImageInvert",
    ],
)
def test_malformed_nodes_are_reported_never_raised(
    catalogue: NodeCatalogue, broken_node: Any
) -> None:
    graph: dict[str, Any] = image_graph()
    graph["2"]["inputs"]["images"] = ["3", 0]
    graph["3"] = broken_node
    result = check_graph(graph, catalogue)
    assert result.error is not None
    assert result.error["type"] in {"invalid_prompt", "prompt_outputs_failed_validation"}


def test_a_negative_slot_counts_from_the_end_as_python_indexing_does(
    catalogue: NodeCatalogue,
) -> None:
    graph = image_graph()
    graph["3"] = {"class_type": "ImageInvert", "inputs": {"image": ["1", -1]}}
    graph["2"]["inputs"]["images"] = ["3", 0]
    assert check_graph(graph, catalogue).ok
