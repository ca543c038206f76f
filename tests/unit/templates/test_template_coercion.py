"""Parameter typing: each type's accepted spellings and refusals, named by parameter."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_gateway.templates import InvalidParameterValue, Parameter, ParameterType, UploadedPart
from comfy_gateway.templates.coercion import classify_media, coerce_value

T = ParameterType

ACCEPTED: list[tuple[Parameter, Any, Any]] = [
    (Parameter(name="p", type=T.STRING), "a cat", "a cat"),
    (Parameter(name="p", type=T.STRING, minimum=1, maximum=3), "abc", "abc"),
    (Parameter(name="n", type=T.INT), 7, 7),
    (Parameter(name="n", type=T.INT), "20", 20),
    (Parameter(name="n", type=T.INT), 64.0, 64),
    (Parameter(name="n", type=T.INT, minimum=1, maximum=10), 10, 10),
    (Parameter(name="frames", type=T.INT, minimum=1, step=4), 17, 17),
    (Parameter(name="seed", type=T.INT, minimum=0, random_seed=True), -1, -1),
    (Parameter(name="x", type=T.FLOAT), 3, 3.0),
    (Parameter(name="x", type=T.FLOAT), "2.5", 2.5),
    (Parameter(name="b", type=T.BOOL), True, True),
    (Parameter(name="b", type=T.BOOL), "false", False),
    (Parameter(name="b", type=T.BOOL), "1", True),
    (Parameter(name="e", type=T.ENUM, choices=("euler", "uni_pc")), "uni_pc", "uni_pc"),
    (Parameter(name="e", type=T.ENUM, choices=(16, 24)), "24", 24),
]

REFUSED: list[tuple[Parameter, Any, str]] = [
    (Parameter(name="p", type=T.STRING), 5, "must be a string"),
    (Parameter(name="p", type=T.STRING, maximum=3), "abcd", "above the maximum 3"),
    (Parameter(name="n", type=T.INT), True, "not a boolean"),
    (Parameter(name="n", type=T.INT), 1.5, "must be an integer"),
    (Parameter(name="n", type=T.INT), "abc", "must be an integer"),
    (Parameter(name="n", type=T.INT, minimum=1), 0, "below the minimum 1"),
    (Parameter(name="n", type=T.INT, maximum=10), 11, "above the maximum 10"),
    (Parameter(name="frames", type=T.INT, minimum=1, step=4), 16, "1 plus a multiple of 4"),
    (Parameter(name="seed", type=T.INT, minimum=0), -1, "below the minimum 0"),
    (Parameter(name="x", type=T.FLOAT), "nan", "finite number"),
    (Parameter(name="x", type=T.FLOAT), None, "finite number"),
    (Parameter(name="b", type=T.BOOL), "maybe", "true or false"),
    (Parameter(name="b", type=T.BOOL), 2, "true or false"),
    (Parameter(name="e", type=T.ENUM, choices=("euler",)), "heun", "not one of 'euler'"),
    (Parameter(name="e", type=T.ENUM, choices=(True,)), 1, "not one of"),
    (Parameter(name="img", type=T.IMAGE), "not base64!", "neither base64"),
    (Parameter(name="img", type=T.IMAGE), 42, "base64 text"),
    (Parameter(name="img", type=T.IMAGE), "", "base64 text"),
]


@pytest.mark.parametrize(("param", "raw", "expected"), ACCEPTED)
def test_accepted_values_take_the_declared_type(param: Parameter, raw: Any, expected: Any) -> None:
    value = coerce_value(param, raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("param", "raw", "reason"), REFUSED)
def test_refused_values_name_the_parameter(param: Parameter, raw: Any, reason: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        coerce_value(param, raw)
    assert caught.value.parameter == param.name
    assert reason in caught.value.reason
    assert caught.value.as_error_body()["error"]["parameter"] == param.name


@pytest.mark.parametrize(
    ("raw", "source"),
    [
        ("iVBORw0KGgo=", "base64"),
        ("data:image/png;base64,iVBORw0KGgo=", "data_uri"),
        ("https://example.com/cat.png", "url"),
        ("HTTP://example.com/cat.png", "url"),
        (UploadedPart(part_name="image", filename="cat.png"), "multipart"),
    ],
)
def test_media_values_are_classified_by_source(raw: Any, source: str) -> None:
    param = Parameter(name="image", type=T.IMAGE)
    assert classify_media(param, raw)[0] == source
