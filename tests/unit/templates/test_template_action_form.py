"""The RunPod-style action form, bare and wrapped in ``input``."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_gateway.templates import (
    InvalidActionForm,
    is_action_form,
    parse_action_form,
    split_reserved,
)

BODY = {"action": "wan22_i2v", "image_base64": "iVBO", "prompt": "a cat", "steps": 4}


@pytest.mark.parametrize("body", [BODY, {"input": BODY}, {"input": BODY, "webhook": "x"}])
def test_the_action_names_a_template_and_the_rest_are_params(body: dict[str, Any]) -> None:
    assert is_action_form(body)
    request = parse_action_form(body)
    assert request.template == "wan22-i2v"
    assert request.params == {"image_base64": "iVBO", "prompt": "a cat", "steps": 4}


@pytest.mark.parametrize(
    "body",
    [
        {"action": ""},
        {"action": 5},
        {"input": {"action": None}},
        {"action": "../etc"},
        {"action": "Big Name!"},
        ["action"],
    ],
)
def test_bodies_without_a_usable_action_are_refused(body: Any) -> None:
    with pytest.raises(InvalidActionForm):
        parse_action_form(body)


def test_a_workflow_body_is_not_an_action_form() -> None:
    assert not is_action_form({"workflow": {}, "input": {"prompt": "x"}})


def test_reserved_options_are_split_from_parameters() -> None:
    params, options = split_reserved({"prompt": "x", "wait": True, "webhook_url": "https://h"})
    assert params == {"prompt": "x"}
    assert options == {"wait": True, "webhook_url": "https://h"}
