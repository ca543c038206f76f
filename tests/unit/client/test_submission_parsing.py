"""``--set`` / ``--param`` values, the request body and media part names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.client.submission import (
    InputOverride,
    Submission,
    media_files,
    parse_cli_value,
    parse_input_override,
    parse_param,
    parse_workflow,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("4.5", 4.5),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"42"', "42"),
        ("a cat", "a cat"),
        ("", ""),
        ("euler_ancestral", "euler_ancestral"),
    ],
)
def test_values_are_json_when_they_parse(text: str, value: Any) -> None:
    assert parse_cli_value(text) == value


def test_set_splits_node_field_and_value() -> None:
    assert parse_input_override("3.seed=42") == InputOverride(node="3", field="seed", value=42)
    assert parse_input_override("6.text=a cat") == InputOverride(
        node="6", field="text", value="a cat"
    )


def test_set_keeps_equals_and_dots_after_the_first_in_the_value() -> None:
    override = parse_input_override("6.text=x=y.z")
    assert (override.node, override.field, override.value) == ("6", "text", "x=y.z")


def test_set_accepts_subgraph_node_ids() -> None:
    assert parse_input_override("12:3.cfg=7").node == "12:3"


@pytest.mark.parametrize("text", ["3seed=42", "3.seed", ".seed=1", "3.=1", "=1"])
def test_malformed_set_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"NODE\.FIELD=VALUE"):
        parse_input_override(text)


def test_param_parses_name_and_value() -> None:
    assert parse_param("SEED=7") == ("SEED", 7)
    assert parse_param("PROMPT=a red fox") == ("PROMPT", "a red fox")


@pytest.mark.parametrize("text", ["SEED", "=7"])
def test_malformed_param_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_param(text)


def test_request_body_carries_only_what_was_given() -> None:
    bare = Submission(workflow={"1": {"class_type": "X", "inputs": {}}})
    assert bare.request_body() == {"workflow": bare.workflow, "priority": 0}
    full = Submission(
        workflow={},
        params={"SEED": 1},
        inputs=[InputOverride(node="6", field="text", value="hi")],
        priority=5,
    )
    assert full.request_body() == {
        "workflow": {},
        "priority": 5,
        "params": {"SEED": 1},
        "inputs": [{"node": "6", "field": "text", "value": "hi"}],
    }


def test_media_names_are_base_names_with_guessed_types() -> None:
    image, sound, blob = media_files([Path("/data/in/cat.png"), Path("voice.wav"), Path("x.zzz")])
    assert (image.name, image.content_type) == ("cat.png", "image/png")
    assert sound.name == "voice.wav"
    assert sound.content_type.startswith("audio/")  # audio/wav or audio/x-wav by platform
    assert (blob.name, blob.content_type) == ("x.zzz", "application/octet-stream")


def test_media_with_the_same_base_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"cat\.png"):
        media_files([Path("a/cat.png"), Path("b/cat.png")])


def test_workflow_must_be_a_json_object() -> None:
    assert parse_workflow('{"1": {}}') == {"1": {}}
    with pytest.raises(ValueError, match="not JSON"):
        parse_workflow("{")
    with pytest.raises(ValueError, match="JSON object"):
        parse_workflow("[]")
