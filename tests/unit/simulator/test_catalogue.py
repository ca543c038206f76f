"""The node catalogue: captured definitions, installed model files, the input folder."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.simulator.catalogue import (
    MODEL_FILE_INPUTS,
    NodeCatalogue,
    content_kind,
    load_captured_object_info,
    vae_choices,
)


def make_catalogue(input_dir: Path, **model_files: list[str]) -> NodeCatalogue:
    input_dir.mkdir(parents=True, exist_ok=True)
    return NodeCatalogue(load_captured_object_info(), model_files=model_files, input_dir=input_dir)


def combo_options(info: dict[str, Any] | None, input_name: str) -> Any:
    """The options of a combo in either encoding (V1 list or V3 COMBO)."""
    assert info is not None
    spec = info["input"]["required"][input_name]
    return spec[0] if isinstance(spec[0], list) else spec[1]["options"]


def test_packaged_object_info_is_the_captured_one(shared_comfyui_dir: Path) -> None:
    packaged = resources.files("comfy_gateway.simulator").joinpath("data", "object_info.json")
    assert packaged.read_bytes() == (shared_comfyui_dir / "object_info.json").read_bytes()
    assert len(load_captured_object_info()) == 496


def test_extra_definitions_are_added_without_touching_the_argument() -> None:
    extra = {"SimOnlyNode": {"input": {"required": {}}, "output": [], "output_node": True}}
    definitions = load_captured_object_info(extra)
    definitions["SimOnlyNode"]["output_node"] = False
    assert extra["SimOnlyNode"]["output_node"] is True
    assert "SimOnlyNode" in definitions
    assert "SaveImage" in definitions


def test_unchanged_server_answers_exactly_the_capture(
    tmp_path: Path, shared_comfyui_dir: Path
) -> None:
    """Captured right after start: no models, only example.png in the input folder."""
    catalogue = make_catalogue(tmp_path / "input")
    (tmp_path / "input" / "example.png").write_bytes(b"png")
    captured = json.loads((shared_comfyui_dir / "object_info.json").read_text())
    assert json.dumps(catalogue.object_info()) == json.dumps(captured)


@pytest.mark.parametrize(
    ("class_type", "input_name", "folder"),
    [
        ("UNETLoader", "unet_name", "diffusion_models"),
        ("CLIPLoader", "clip_name", "text_encoders"),
        ("DualCLIPLoader", "clip_name2", "text_encoders"),
        ("LoraLoaderModelOnly", "lora_name", "loras"),
        ("CLIPVisionLoader", "clip_name", "clip_vision"),
        ("CheckpointLoaderSimple", "ckpt_name", "checkpoints"),
        ("ControlNetLoader", "control_net_name", "controlnet"),
        ("AudioEncoderLoader", "audio_encoder_name", "audio_encoders"),
        ("UpscaleModelLoader", "model_name", "upscale_models"),
    ],
)
def test_model_combos_list_their_folder_sorted(
    tmp_path: Path, class_type: str, input_name: str, folder: str
) -> None:
    catalogue = make_catalogue(tmp_path / "input")
    catalogue.set_model_files(folder, ["b.safetensors", "wan/a.safetensors"])
    catalogue.set_model_files("other_folder", ["unrelated.safetensors"])
    info = catalogue.node_info(class_type)
    assert info is not None
    assert combo_options(info, input_name) == ["b.safetensors", "wan/a.safetensors"]


def test_every_model_input_in_the_table_is_a_captured_combo() -> None:
    definitions = load_captured_object_info()
    for class_type, input_name in MODEL_FILE_INPUTS:
        spec = definitions[class_type]["input"]["required"][input_name]
        assert isinstance(spec[0], list) or spec[0] == "COMBO", (class_type, input_name)


def test_each_encoding_is_kept(tmp_path: Path) -> None:
    catalogue = make_catalogue(tmp_path / "input", diffusion_models=["m.safetensors"])
    catalogue.set_model_files("audio_encoders", ["w2v.safetensors"])
    unet = catalogue.node_info("UNETLoader")
    encoder = catalogue.node_info("AudioEncoderLoader")
    assert unet is not None
    assert encoder is not None
    assert unet["input"]["required"]["unet_name"] == [["m.safetensors"]]
    assert encoder["input"]["required"]["audio_encoder_name"] == [
        "COMBO",
        {"multiselect": False, "options": ["w2v.safetensors"]},
    ]


def test_legacy_folder_names_are_mapped(tmp_path: Path) -> None:
    catalogue = make_catalogue(tmp_path / "input", unet=["u.safetensors"], clip=["c.safetensors"])
    assert catalogue.model_files() == {
        "diffusion_models": ["u.safetensors"],
        "text_encoders": ["c.safetensors"],
    }


def test_vae_list_keeps_pixel_space_and_complete_taesd_pairs() -> None:
    approx = ["taesd_decoder.pth", "taesd_encoder.pth", "taesdxl_decoder.pth"]
    assert vae_choices(["wan_2.1_vae.safetensors"], approx) == [
        "wan_2.1_vae.safetensors",
        "taesd",
        "pixel_space",
    ]
    assert vae_choices([], []) == ["pixel_space"]


def test_upload_combos_list_the_input_folder_by_content(tmp_path: Path) -> None:
    input_dir = tmp_path / "input"
    catalogue = make_catalogue(input_dir)
    for name in ["b.png", "a.webp", "clip.mp4", "voice.wav", "notes.txt", "up (1).png", "x.latent"]:
        (input_dir / name).write_bytes(b"x")
    (input_dir / "sub").mkdir()
    (input_dir / "sub" / "hidden.png").write_bytes(b"x")
    infos = {name: catalogue.node_info(name) for name in ("LoadImage", "LoadAudio", "LoadVideo")}
    assert combo_options(infos["LoadImage"], "image") == ["a.webp", "b.png", "up (1).png"]
    assert combo_options(infos["LoadAudio"], "audio") == ["clip.mp4", "voice.wav"]
    assert combo_options(infos["LoadVideo"], "file") == ["clip.mp4"]
    load_image = infos["LoadImage"]
    assert load_image is not None
    assert load_image["input"]["required"]["image"][1] == {"image_upload": True}
    latent = catalogue.node_info("LoadLatent")
    assert latent is not None
    assert combo_options(latent, "latent") == ["x.latent"]


def test_load3d_lists_models_under_input_3d(tmp_path: Path) -> None:
    input_dir = tmp_path / "input"
    catalogue = make_catalogue(input_dir)
    (input_dir / "3d" / "deep").mkdir(parents=True)
    (input_dir / "3d" / "deep" / "scene.glb").write_bytes(b"x")
    (input_dir / "3d" / "readme.txt").write_bytes(b"x")
    info = catalogue.node_info("Load3D")
    assert info is not None
    assert combo_options(info, "model_file") == ["3d/deep/scene.glb"]


def test_upload_listing_follows_the_folder_between_calls(tmp_path: Path) -> None:
    catalogue = make_catalogue(tmp_path / "input")
    assert combo_options(catalogue.object_info()["LoadImage"], "image") == []
    (tmp_path / "input" / "new.png").write_bytes(b"x")
    assert combo_options(catalogue.object_info()["LoadImage"], "image") == ["new.png"]


def test_reads_are_copies(tmp_path: Path) -> None:
    catalogue = make_catalogue(tmp_path / "input")
    first = catalogue.node_info("EmptyImage")
    assert first is not None
    first["input"]["required"]["width"][1]["max"] = 1
    again = catalogue.node_info("EmptyImage")
    assert again is not None
    assert again["input"]["required"]["width"][1]["max"] == 16384
    catalogue.model_files().setdefault("loras", []).append("x")
    assert catalogue.model_files() == {}


def test_unknown_class_has_no_info(tmp_path: Path) -> None:
    catalogue = make_catalogue(tmp_path / "input")
    assert catalogue.node_info("DoesNotExist") is None
    assert not catalogue.has_class("DoesNotExist")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.png", "image"),
        ("a.WEBP", "image"),
        ("a.mp4", "video"),
        ("a.wav", "audio"),
        ("a.flac", "audio"),
        ("a.txt", "text"),
        ("noext", None),
    ],
)
def test_content_kind(name: str, kind: str | None) -> None:
    assert content_kind(name) == kind
