"""object_info parsing against the real 0.3.64 answer: both combo encodings."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_gateway.comfy.node_definitions import parse_input_spec, parse_object_info
from comfy_gateway.errors import ComfyProtocolError


def test_every_node_of_the_real_answer_parses(object_info_raw: dict[str, Any]) -> None:
    definitions = parse_object_info(object_info_raw)
    assert set(definitions) == set(object_info_raw)
    for name, definition in definitions.items():
        raw = object_info_raw[name]
        assert len(definition.outputs) == len(raw["output"])
        assert set(definition.input_order) <= set(definition.inputs)


def test_legacy_combo_encoding(object_info_raw: dict[str, Any]) -> None:
    load_image = parse_object_info(object_info_raw)["LoadImage"]
    spec = load_image.inputs["image"]
    assert spec.is_combo
    assert spec.choices == ("example.png",)
    assert spec.upload_kind == "image"
    assert spec.section == "required"
    assert [output.type for output in load_image.outputs] == ["IMAGE", "MASK"]


def test_v3_combo_encoding(object_info_raw: dict[str, Any]) -> None:
    load_video = parse_object_info(object_info_raw)["LoadVideo"]
    spec = load_video.inputs["file"]
    assert spec.is_combo
    assert spec.choices == ()
    assert spec.upload_kind == "video"
    sampler = parse_object_info(object_info_raw)["KSampler"].inputs["sampler_name"]
    assert sampler.is_combo
    assert "euler" in (sampler.choices or ())


def test_both_encodings_give_the_same_spec() -> None:
    legacy = parse_input_spec("mode", [["a", "b"], {"default": "a"}], "required")
    modern = parse_input_spec(
        "mode", ["COMBO", {"options": ["a", "b"], "default": "a"}], "required"
    )
    assert (legacy.choices, legacy.is_combo, legacy.type) == (
        modern.choices,
        modern.is_combo,
        "COMBO",
    )
    assert legacy.default == modern.default == "a"


def test_remote_combo_without_options_has_no_choices(object_info_raw: dict[str, Any]) -> None:
    spec = parse_object_info(object_info_raw)["LoadImageOutput"].inputs["image"]
    assert spec.is_combo
    assert spec.choices is None
    assert spec.upload_kind == "image"


def test_widget_limits_and_sections(object_info_raw: dict[str, Any]) -> None:
    definitions = parse_object_info(object_info_raw)
    width = definitions["EmptyImage"].inputs["width"]
    assert (width.type, width.default, width.min, width.max) == ("INT", 512, 1, 16384)
    assert not width.is_link_type
    save = definitions["SaveImage"]
    assert save.output_node
    assert save.inputs["prompt"].section == "hidden"
    assert save.inputs["prompt"].type == "PROMPT"
    assert save.inputs["images"].is_link_type
    assert save.input_order == ("images", "filename_prefix", "prompt", "extra_pnginfo")
    audio = definitions["CreateVideo"].inputs["audio"]
    assert audio.section == "optional"


def test_hidden_inputs_of_v3_nodes_are_lists() -> None:
    spec = parse_input_spec("prompt", ["PROMPT"], "hidden")
    assert (spec.type, spec.options, spec.is_combo) == ("PROMPT", {}, False)


def test_display_name_null_falls_back_to_the_name(object_info_raw: dict[str, Any]) -> None:
    nameless = [name for name, raw in object_info_raw.items() if raw.get("display_name") is None]
    assert nameless
    definitions = parse_object_info({name: object_info_raw[name] for name in nameless})
    assert all(definitions[name].display_name == name for name in nameless)


def test_output_list_flags(object_info_raw: dict[str, Any]) -> None:
    raw_lists = {
        name for name, raw in object_info_raw.items() if any(raw.get("output_is_list") or ())
    }
    definitions = parse_object_info(object_info_raw)
    parsed_lists = {name for name, d in definitions.items() if any(o.is_list for o in d.outputs)}
    assert parsed_lists == raw_lists


def test_unknown_class_answer_is_empty() -> None:
    assert parse_object_info({}) == {}


@pytest.mark.parametrize("raw", [[], {"X": {"input": {"required": {"a": []}}}}])
def test_malformed_answers_are_protocol_errors(raw: Any) -> None:
    with pytest.raises(ComfyProtocolError):
        parse_object_info(raw)
