"""__NAME__ placeholders: typing, text substitution, unfilled names, hostile text."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from comfy_gateway.jobs.domain_errors import InvalidParams, InvalidWorkflow, UnfilledPlaceholder
from comfy_gateway.jobs.graph import (
    apply_placeholders,
    find_unfilled_placeholders,
    placeholder_name,
)


def _graph(**inputs: Any) -> dict[str, dict[str, Any]]:
    return {"1": {"class_type": "KSampler", "inputs": inputs, "_meta": {"title": "__TITLE__"}}}


FILLS: list[tuple[str, Any, dict[str, Any], Any]] = [
    ("whole int", "__SEED__", {"seed": 42}, 42),
    ("whole float", "__CFG__", {"cfg": 1.5}, 1.5),
    ("whole bool", "__FLAG__", {"flag": True}, True),
    ("whole null", "__X__", {"x": None}, None),
    ("whole list", "__L__", {"l": [1, "a"]}, [1, "a"]),
    ("whole object", "__O__", {"o": {"k": [1]}}, {"k": [1]}),
    ("whole string", "__PROMPT__", {"prompt": "a cat"}, "a cat"),
    ("upper-case param", "__PROMPT__", {"PROMPT": "a cat"}, "a cat"),
    ("param spelled as placeholder", "__PROMPT__", {"__PROMPT__": "a"}, "a"),
    ("multi-word name", "__NEG_PROMPT__", {"neg_prompt": "blurry"}, "blurry"),
    ("inside text: string", "photo of __SUBJECT__, 4k", {"subject": "a dog"}, "photo of a dog, 4k"),
    ("inside text: int", "seed=__SEED__", {"seed": 7}, "seed=7"),
    ("inside text: bool as JSON", "x __B__", {"b": False}, "x false"),
    ("inside text: null as JSON", "x __N__", {"n": None}, "x null"),
    ("inside text: list as JSON", "x __L__", {"l": [1, "é"]}, 'x [1, "é"]'),
    ("twice in text", "__A__ and __A__", {"a": "b"}, "b and b"),
    ("two names", "__A__/__B__", {"a": 1, "b": 2}, "1/2"),
    ("adjacent", "__A____B__", {"a": "x", "b": "y"}, "xy"),
    ("nested in list", ["__A__", ["__B__"]], {"a": 1, "b": "z"}, [1, ["z"]]),
    ("nested in object", {"k": "__A__"}, {"a": 3}, {"k": 3}),
    ("lower case is text", "call __init__ now", {}, "call __init__ now"),
    ("single underscores", "_A_", {"a": 1}, "_A_"),
    ("links untouched", ["4", 0], {}, ["4", 0]),
    ("value brings placeholder text", "__P__", {"p": "use __OTHER__"}, "use __OTHER__"),
    ("text brings placeholder text", "say __P__", {"p": "__Q__"}, "say __Q__"),
]


@pytest.mark.parametrize(("case", "value", "params", "expected"), FILLS, ids=[f[0] for f in FILLS])
def test_placeholder_fills(case: str, value: Any, params: dict[str, Any], expected: Any) -> None:
    graph = _graph(v=value)
    original = copy.deepcopy(graph)
    edited, _ = apply_placeholders(graph, params, require_all=False)
    assert edited["1"]["inputs"]["v"] == expected
    assert graph == original, "apply_placeholders mutated its argument"


def test_used_params_are_reported_with_their_original_keys() -> None:
    graph = _graph(a="__SEED__", b="x __PROMPT__")
    _, used = apply_placeholders(graph, {"SEED": 1, "prompt": "p", "unused": 3})
    assert used == {"SEED", "prompt"}


def test_meta_class_type_and_keys_are_never_substituted() -> None:
    graph = {"__K__": {"class_type": "__K__", "inputs": {"__K__": "v"}, "_meta": {"t": "__K__"}}}
    edited, used = apply_placeholders(graph, {"k": 1})
    assert edited == graph
    assert used == frozenset()
    assert find_unfilled_placeholders(graph) == frozenset()


def test_filled_value_is_a_copy_not_the_callers_object() -> None:
    shared = {"k": [1]}
    edited, _ = apply_placeholders(_graph(v="__O__"), {"o": shared})
    edited["1"]["inputs"]["v"]["k"].append(2)
    assert shared == {"k": [1]}


def test_unfilled_placeholders_are_all_named_before_any_substitution() -> None:
    graph = _graph(a="__PROMPT__", b=["x __NEGATIVE__"], c="__SEED__")
    assert find_unfilled_placeholders(graph, {"seed": 1}) == {"PROMPT", "NEGATIVE"}
    with pytest.raises(UnfilledPlaceholder) as raised:
        apply_placeholders(graph, {"seed": 1})
    assert raised.value.details["placeholders"] == ["NEGATIVE", "PROMPT"]
    assert "__PROMPT__" in str(raised.value) or "'PROMPT'" in str(raised.value)


def test_without_require_all_unfilled_placeholders_stay_as_text() -> None:
    edited, used = apply_placeholders(_graph(a="__A__ __B__"), {"a": 1}, require_all=False)
    assert edited["1"]["inputs"]["a"] == "1 __B__"
    assert used == {"a"}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"seed": 1, "SEED": 2}, "both fill __SEED__"),
        ({"": 1}, "non-empty"),
        ({3: 1}, "non-empty"),
    ],
)
def test_ambiguous_or_bad_param_names_are_refused(params: dict[Any, Any], fragment: str) -> None:
    with pytest.raises(InvalidParams, match=fragment):
        apply_placeholders(_graph(a="__SEED__"), params)


def test_non_json_param_values_are_refused() -> None:
    with pytest.raises(InvalidWorkflow, match="param 'x'"):
        apply_placeholders(_graph(a="t __X__"), {"x": object()})
    with pytest.raises(InvalidWorkflow, match="finite"):
        apply_placeholders(_graph(a="__X__"), {"x": float("nan")})


@pytest.mark.parametrize(
    ("param", "name"), [("seed", "SEED"), ("Neg_Prompt", "NEG_PROMPT"), ("__W__", "W")]
)
def test_placeholder_name(param: str, name: str) -> None:
    assert placeholder_name(param) == name


def test_huge_text_with_many_placeholders_is_handled() -> None:
    text = "__A__ " * 20_000
    edited, _ = apply_placeholders(_graph(t=text), {"a": "b"})
    assert edited["1"]["inputs"]["t"] == "b " * 20_000


def test_ignored_inputs_need_no_param() -> None:
    graph = {"1": {"class_type": "X", "inputs": {"a": "__A__", "b": "__B__"}}}
    assert find_unfilled_placeholders(graph, {}, ignore={("1", "a")}) == {"B"}
    assert find_unfilled_placeholders(graph, {}, ignore={("2", "a")}) == {"A", "B"}
