"""Rendering: defaults, bindings to node fields and placeholders, seeds, media, errors."""

from __future__ import annotations

import random
from typing import Any

import pytest

from comfy_gateway.templates import (
    InvalidParameterValue,
    MissingParameter,
    Template,
    UnknownParameter,
    UploadedPart,
    media_name_for,
    parse_template,
    render,
)

DOCUMENT: dict[str, Any] = {
    "name": "still",
    "parameters": [
        {"name": "prompt", "type": "string", "targets": ["2.text", "3.text"]},
        {"name": "steps", "type": "int", "default": 20, "min": 1, "max": 50},
        {"name": "cfg", "type": "float", "default": 7.5, "targets": ["4.cfg"]},
        {"name": "seed", "type": "int", "default": -1, "min": 0, "random_seed": True},
        {"name": "style", "type": "enum", "choices": ["photo", "anime"], "default": "photo"},
        {"name": "image", "type": "image", "targets": ["1.image"]},
        {"name": "sharp", "type": "bool", "default": False, "targets": ["5.flag"]},
    ],
    "workflow": {
        "1": {"class_type": "LoadImage", "inputs": {"image": "example.png"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "placeholder"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "placeholder"}},
        "4": {
            "class_type": "KSampler",
            "inputs": {"steps": "__STEPS__", "seed": "__SEED__", "cfg": 1.0},
        },
        "5": {"class_type": "Note", "inputs": {"text": "a __STYLE__ picture, __STEPS__ steps"}},
    },
}
PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUg=="


@pytest.fixture
def template() -> Template:
    return parse_template(DOCUMENT)


def test_values_reach_every_target_with_their_types(template: Template) -> None:
    job = render(template, {"prompt": "a cat", "image": PNG_BASE64, "steps": "12", "seed": 5})
    graph = job.workflow
    assert graph["2"]["inputs"]["text"] == graph["3"]["inputs"]["text"] == "a cat"
    assert graph["4"]["inputs"] == {"steps": 12, "seed": 5, "cfg": 7.5}
    assert graph["5"]["inputs"] == {"text": "a photo picture, 12 steps", "flag": False}
    assert graph["1"]["inputs"]["image"] == media_name_for("image")


def test_defaults_are_applied_and_recorded(template: Template) -> None:
    job = render(template, {"prompt": "x", "image": PNG_BASE64, "seed": 3})
    assert job.resolved_params == {
        "prompt": "x",
        "steps": 20,
        "cfg": 7.5,
        "seed": 3,
        "style": "photo",
        "image": media_name_for("image"),
        "sharp": False,
    }


def test_rendering_leaves_the_template_untouched(template: Template) -> None:
    render(template, {"prompt": "changed", "image": PNG_BASE64})
    assert template.workflow["2"]["inputs"]["text"] == "placeholder"
    assert template.workflow["4"]["inputs"]["steps"] == "__STEPS__"


def test_seed_minus_one_draws_from_the_injected_rng(template: Template) -> None:
    first = render(template, {"prompt": "x", "image": PNG_BASE64}, rng=random.Random(11))
    again = render(
        template, {"prompt": "x", "image": PNG_BASE64, "seed": -1}, rng=random.Random(11)
    )
    other = render(template, {"prompt": "x", "image": PNG_BASE64}, rng=random.Random(12))
    seed = first.resolved_params["seed"]
    assert seed == random.Random(11).randrange(2**53)
    assert seed == again.resolved_params["seed"] != other.resolved_params["seed"]
    assert first.workflow["4"]["inputs"]["seed"] == seed


@pytest.mark.parametrize(
    ("raw", "key", "source", "value"),
    [
        (PNG_BASE64, "image", "base64", PNG_BASE64),
        ("data:image/png;base64," + PNG_BASE64, "image", "data_uri", None),
        ("https://example.com/a.png", "image_url", "url", None),
        (PNG_BASE64, "image_base64", "base64", None),
        (
            UploadedPart(part_name="upload", content_type="image/png"),
            "image",
            "multipart",
            "upload",
        ),
    ],
)
def test_media_parameters_become_media_inputs(
    template: Template, raw: Any, key: str, source: str, value: str | None
) -> None:
    job = render(template, {"prompt": "x", key: raw})
    (media,) = job.media_params
    assert (media.parameter, media.source, media.media_name) == ("image", source, "template-image")
    assert media.value == (value if value is not None else raw)
    assert job.workflow["1"]["inputs"]["image"] == media.media_name
    assert PNG_BASE64 not in str(job.resolved_params)


def test_a_media_default_is_a_comfy_input_file_and_no_media_item() -> None:
    doc = {
        **DOCUMENT,
        "parameters": [
            {"name": "image", "type": "image", "default": "example.png", "targets": ["1.image"]}
        ],
    }
    doc["workflow"] = {"1": DOCUMENT["workflow"]["1"]}
    job = render(parse_template(doc), {})
    assert job.media_params == ()
    assert job.workflow["1"]["inputs"]["image"] == "example.png"


@pytest.mark.parametrize(
    ("raw", "error", "parameter"),
    [
        ({"image": PNG_BASE64}, MissingParameter, "prompt"),
        ({"prompt": "x"}, MissingParameter, "image"),
        ({"prompt": "x", "image": PNG_BASE64, "colour": "red"}, UnknownParameter, "colour"),
        ({"prompt": "x", "image": PNG_BASE64, "prompt_url": "y"}, UnknownParameter, "prompt_url"),
        ({"prompt": "x", "image": PNG_BASE64, "steps": 51}, InvalidParameterValue, "steps"),
        ({"prompt": "x", "image": PNG_BASE64, "style": "oil"}, InvalidParameterValue, "style"),
        ({"prompt": 3, "image": PNG_BASE64}, InvalidParameterValue, "prompt"),
        (
            {"prompt": "x", "image": PNG_BASE64, "image_base64": PNG_BASE64},
            InvalidParameterValue,
            "image",
        ),
    ],
)
def test_bad_parameters_are_refused_by_name(
    template: Template, raw: dict[str, Any], error: type[Exception], parameter: str
) -> None:
    with pytest.raises(error) as caught:
        render(template, raw)
    assert getattr(caught.value, "parameter", None) == parameter
