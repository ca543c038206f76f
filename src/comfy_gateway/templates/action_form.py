"""The RunPod-style action form: ``{"action": "wan22_i2v", "prompt": …, …}``.

Also accepted wrapped as RunPod sends it, ``{"input": {"action": …}}``. The action names
a template with ``_`` written for ``-`` (``wan22_i2v`` → ``wan22-i2v``); every other key
is a parameter, or one of the reserved submit options (``wait``, ``priority``, …) which
:func:`split_reserved` takes apart. Aliases such as ``image_base64`` stay as they are:
rendering maps them to their media parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comfy_gateway.templates.errors import InvalidActionForm
from comfy_gateway.templates.model import NAME_PATTERN, RESERVED_NAMES


@dataclass(frozen=True, kw_only=True)
class ActionRequest:
    """A template name and the raw parameters (reserved options included) of one request."""

    template: str
    params: dict[str, Any]


def is_action_form(body: Any) -> bool:
    """Whether a submit body is the action form (directly or inside ``input``)."""
    inner = _unwrapped(body)
    return isinstance(inner, Mapping) and "action" in inner


def parse_action_form(body: Any) -> ActionRequest:
    """The template and parameters of an action-form body, or :class:`InvalidActionForm`."""
    inner = _unwrapped(body)
    if not isinstance(inner, Mapping):
        raise InvalidActionForm("the body must be a JSON object (optionally inside 'input')")
    action = inner.get("action")
    if not isinstance(action, str) or not action:
        raise InvalidActionForm("'action' must name a template, such as 'wan22_i2v'")
    name = action.strip().lower().replace("_", "-")
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidActionForm(f"action {action[:80]!r} is not a template name")
    params = {str(key): value for key, value in inner.items() if key != "action"}
    return ActionRequest(template=name, params=params)


def split_reserved(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(template parameters, reserved submit options)`` of a flat body."""
    options = {key: value for key, value in params.items() if key in RESERVED_NAMES}
    rest = {key: value for key, value in params.items() if key not in RESERVED_NAMES}
    return rest, options


def _unwrapped(body: Any) -> Any:
    if isinstance(body, Mapping) and "action" not in body and isinstance(body.get("input"), dict):
        return body["input"]
    return body
