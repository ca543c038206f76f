"""Parameters as JSON Schema for GET /v1/templates/{name} and OpenAPI."""

from __future__ import annotations

from comfy_gateway.templates import describe_template, parameters_json_schema, parse_template

DOCUMENT = {
    "name": "tiny",
    "description": "d",
    "parameters": [
        {"name": "prompt", "type": "string", "max": 200, "description": "what"},
        {"name": "seed", "type": "int", "default": -1, "min": 0, "max": 99, "random_seed": True},
        {"name": "cfg", "type": "float", "default": 2.5, "min": 0, "max": 30},
        {"name": "fast", "type": "bool", "default": True},
        {"name": "style", "type": "enum", "choices": ["a", "b"], "default": "a"},
        {"name": "image", "type": "image"},
    ],
    "workflow": {
        "1": {
            "class_type": "X",
            "inputs": {
                "t": "__PROMPT__",
                "s": "__SEED__",
                "c": "__CFG__",
                "f": "__FAST__",
                "y": "__STYLE__",
                "i": "__IMAGE__",
            },
        }
    },
}


def test_each_parameter_becomes_a_typed_property() -> None:
    schema = parameters_json_schema(parse_template(DOCUMENT))
    props = schema["properties"]
    assert schema["required"] == ["prompt", "image"]
    assert schema["additionalProperties"] is False
    assert props["prompt"] == {"type": "string", "maxLength": 200, "description": "what"}
    assert props["seed"] == {"type": "integer", "minimum": -1, "maximum": 99, "default": -1}
    assert props["cfg"] == {"type": "number", "minimum": 0, "maximum": 30, "default": 2.5}
    assert props["fast"] == {"type": "boolean", "default": True}
    assert props["style"] == {"enum": ["a", "b"], "default": "a"}
    assert props["image"]["type"] == "string"
    assert props["image"]["x-media-kind"] == "image"


def test_a_template_is_described_by_name_version_and_schema() -> None:
    template = parse_template(DOCUMENT)
    described = describe_template(template)
    assert {key: described[key] for key in ("name", "description", "version")} == {
        "name": "tiny",
        "description": "d",
        "version": "1",
    }
    assert described["parameters"] == parameters_json_schema(template)
