"""Loading template documents: every rule that keeps a broken template out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from comfy_gateway.templates import (
    RESERVED_NAMES,
    NodeFieldTarget,
    ParameterType,
    PlaceholderTarget,
    TemplateInvalid,
    parse_template,
)

WORKFLOW: dict[str, Any] = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": "__WIDTH__", "height": 64}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
}


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "tiny",
        "description": "a test",
        "version": 2,
        "parameters": [
            {"name": "width", "type": "int", "default": 64, "min": 16},
            {"name": "height", "type": "int", "default": 64, "targets": ["1.height"]},
        ],
        "workflow": copy.deepcopy(WORKFLOW),
    }
    doc.update(changes)
    return doc


def test_a_valid_document_loads_with_typed_parameters() -> None:
    template = parse_template(document(), source="tiny.json")
    assert (template.name, template.version, template.source) == ("tiny", "2", "tiny.json")
    width, height = template.parameters
    assert width.type is ParameterType.INT
    assert width.targets == (PlaceholderTarget(placeholder="WIDTH"),)
    assert height.targets == (NodeFieldTarget(node="1", field="height"),)
    assert not width.required


def test_parameters_may_be_an_object_keyed_by_name() -> None:
    doc = document(parameters={"width": {"type": "int", "default": 8}})
    assert [p.name for p in parse_template(doc).parameters] == ["width"]


def test_a_parameter_without_default_is_required() -> None:
    doc = document(parameters=[{"name": "width", "type": "int"}])
    assert parse_template(doc).parameters[0].required


@pytest.mark.parametrize("name", sorted(RESERVED_NAMES))
def test_reserved_parameter_names_fail_to_load(name: str) -> None:
    placeholder = "__" + name.upper() + "__"
    workflow = copy.deepcopy(WORKFLOW)
    workflow["1"]["inputs"]["width"] = 64
    workflow["2"]["inputs"]["filename_prefix"] = placeholder
    doc = document(workflow=workflow, parameters=[{"name": name, "type": "string", "default": ""}])
    with pytest.raises(TemplateInvalid, match="reserved"):
        parse_template(doc)


BAD_DOCUMENTS: list[tuple[Any, str]] = [
    (document(name="Tiny"), "must match"),
    (document(name="-x"), "must match"),
    (document(name="a" * 65), "must match"),
    (document(name="../x"), "must match"),
    (document(workflow={"1": {"inputs": {}}}), "workflow"),
    (document(parameters=[{"name": "width", "type": "number", "default": 1}]), "use one of"),
    (document(parameters=[{"name": "width", "type": "int", "default": "big"}]), "default"),
    (document(parameters=[{"name": "width", "type": "int", "default": 8, "min": 16}]), "default"),
    (document(parameters=[{"name": "width", "type": "enum", "default": "a"}]), "choices"),
    (document(parameters=[{"name": "width", "type": "int", "default": 8, "colour": 1}]), "unknown"),
    (document(parameters=[{"name": "w", "type": "int", "default": 8, "targets": ["9.x"]}]), "node"),
    (
        document(parameters=[{"name": "w", "type": "int", "default": 8, "targets": ["x"]}]),
        "neither",
    ),
    (document(parameters=[]), "__WIDTH__"),
    (
        document(
            parameters=[
                {"name": "width", "type": "int", "default": 8},
                {"name": "width", "type": "int", "default": 9, "targets": ["1.height"]},
            ]
        ),
        "twice",
    ),
    (
        document(
            parameters=[
                {"name": "width", "type": "int", "default": 8},
                {"name": "w2", "type": "int", "default": 9, "targets": ["__WIDTH__"]},
            ]
        ),
        "two parameters fill __WIDTH__",
    ),
    (
        document(
            parameters=[{"name": "width", "type": "float", "default": 1, "random_seed": True}]
        ),
        "int parameter",
    ),
    ([], "JSON object"),
]


@pytest.mark.parametrize(("doc", "reason"), BAD_DOCUMENTS)
def test_broken_documents_are_refused_at_load(doc: Any, reason: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        parse_template(doc, source="bad.json")
    assert reason in str(caught.value)
    assert str(caught.value).startswith("bad.json: ")
