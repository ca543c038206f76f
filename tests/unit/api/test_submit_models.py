"""The submit request model: aliases, media sources, bounds."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from comfy_gateway.api.submit_models import InputItem, MediaItem, SubmitRequest


def test_input_aliases_become_typed_values() -> None:
    by_base64 = InputItem.model_validate({"node": 1, "field": "image", "image_base64": "QUJD"})
    by_url = InputItem.model_validate({"node": "2", "field": "image", "image_url": "http://x/a"})

    assert (by_base64.node, by_base64.value, by_base64.type) == ("1", "QUJD", "base64")
    assert (by_url.value, by_url.type, by_url.is_media) == ("http://x/a", "url", True)


def test_raw_inputs_keep_any_json_value() -> None:
    item = InputItem.model_validate({"node": "3", "field": "seed", "value": [1, {"a": None}]})

    assert (item.value, item.type, item.is_media) == ([1, {"a": None}], "raw", False)


@pytest.mark.parametrize(
    "data",
    [
        {"node": "1", "field": "image", "image_base64": "QUJD", "value": "QUJD"},
        {"node": "1", "field": "image", "image_base64": "QUJD", "image_url": "http://x"},
        {"node": "1", "field": "image", "type": "url", "value": 5},
        {"node": "1", "field": "", "value": 5},
        {"node": True, "field": "x", "value": 5},
        {"node": "1", "field": "x", "type": "file", "value": "a"},
    ],
)
def test_contradictory_or_malformed_inputs_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        InputItem.model_validate(data)


@pytest.mark.parametrize(
    "data", [{"name": "a.png"}, {"name": "a.png", "data": "QUJD", "url": "http://x/a.png"}]
)
def test_a_media_item_needs_exactly_one_source(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MediaItem.model_validate(data)


def test_a_request_counts_its_media_inputs() -> None:
    request = SubmitRequest.model_validate(
        {
            "workflow": {},
            "inputs": [
                {"node": "1", "field": "a", "value": 1},
                {"node": "1", "field": "b", "image_url": "http://x/b.png"},
                {"node": "1", "field": "c", "type": "base64", "value": "QUJD"},
            ],
        }
    )

    assert request.media_input_count == 2


@pytest.mark.parametrize(
    "extra",
    [
        {"priority": 1001},
        {"timeout_s": 0},
        {"wait_timeout_s": -1},
        {"template": "wan"},
        {"wait": "maybe"},
    ],
)
def test_out_of_range_or_unknown_fields_are_refused(extra: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SubmitRequest.model_validate({"workflow": {}, **extra})


def test_the_workflow_is_required() -> None:
    with pytest.raises(ValidationError, match="workflow"):
        SubmitRequest.model_validate({"params": {}})
