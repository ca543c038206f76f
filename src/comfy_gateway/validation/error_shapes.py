"""ComfyUI's validation error dicts, built field for field as ``execution.py`` builds them.

Each builder returns the JSON-ready ``{type, message, details, extra_info}`` of one error,
so a body we produce can be compared with (and stand in for) ComfyUI's own 400 answer.
Tracebacks cannot be reproduced here; they are sent as an empty list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from comfy_gateway.comfy import InputSpec

ErrorDict = dict[str, Any]

# ComfyUI stops echoing a combo's list past this many entries (model folders get long).
LIST_ECHO_LIMIT = 20


def _error(kind: str, message: str, details: str, extra_info: dict[str, Any]) -> ErrorDict:
    return {"type": kind, "message": message, "details": details, "extra_info": extra_info}


def input_config(spec: InputSpec, choices: Sequence[Any] | None) -> list[Any]:
    """``[type, options]`` as ComfyUI echoes it; a legacy combo's type is its list."""
    legacy_combo = spec.is_combo and choices is not None and "options" not in spec.options
    head: Any = list(choices or ()) if legacy_combo else spec.type
    return [head, dict(spec.options)]


def missing_class_type(node_id: str) -> ErrorDict:
    message = "Cannot execute because a node is missing the class_type property."
    return _error("invalid_prompt", message, f"Node ID '#{node_id}'", {})


def unknown_class_type(node_id: str, class_type: Any) -> ErrorDict:
    message = f"Cannot execute because node {class_type} does not exist."
    return _error("invalid_prompt", message, f"Node ID '#{node_id}'", {})


def not_a_graph() -> ErrorDict:
    message = "The prompt must be a JSON object mapping node ids to nodes."
    return _error("invalid_prompt", message, "", {})


def no_outputs() -> ErrorDict:
    return _error("prompt_no_outputs", "Prompt has no outputs", "", {})


def outputs_failed(details: str) -> ErrorDict:
    return _error(
        "prompt_outputs_failed_validation", "Prompt outputs failed validation", details, {}
    )


def required_input_missing(name: str) -> ErrorDict:
    return _error("required_input_missing", "Required input is missing", name, {"input_name": name})


def bad_linked_input(name: str, config: list[Any], value: Any) -> ErrorDict:
    message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
    extra = {"input_name": name, "input_config": config, "received_value": value}
    return _error("bad_linked_input", message, name, extra)


def return_type_mismatch(
    name: str, config: list[Any], received: str, expected: str, link: Any
) -> ErrorDict:
    details = f"{name}, received_type({received}) mismatch input_type({expected})"
    extra = {
        "input_name": name,
        "input_config": config,
        "received_type": received,
        "linked_node": link,
    }
    return _error(
        "return_type_mismatch", "Return type mismatch between linked nodes", details, extra
    )


def invalid_input_type(
    name: str, config: list[Any], input_type: str, value: Any, reason: str
) -> ErrorDict:
    message = f"Failed to convert an input value to a {input_type} value"
    extra = {
        "input_name": name,
        "input_config": config,
        "received_value": value,
        "exception_message": reason,
    }
    return _error("invalid_input_type", message, f"{name}, {value}, {reason}", extra)


def out_of_range(name: str, config: list[Any], value: Any, *, bound: Any, above: bool) -> ErrorDict:
    kind, word = (
        ("value_bigger_than_max", "bigger") if above else ("value_smaller_than_min", "smaller")
    )
    message = "Value {} {} than {} of {}".format(value, word, "max" if above else "min", bound)
    extra = {"input_name": name, "input_config": config, "received_value": value}
    return _error(kind, message, name, extra)


def value_not_in_list(
    name: str, config: list[Any], value: Any, choices: Sequence[Any], folder: str | None
) -> ErrorDict:
    shown = list(choices)
    too_long = len(shown) > LIST_ECHO_LIMIT
    listing = f"(list of length {len(shown)})" if too_long else str(shown)
    extra: dict[str, Any] = {
        "input_name": name,
        "input_config": None if too_long else config,
        "received_value": value,
    }
    message = "Value not in list"
    if folder is not None:
        # Ours, not ComfyUI's: say which file to install where.
        message = f"Value not in list: model file '{value}' is not installed in models/{folder}"
        extra["model_folder"] = folder
    return _error("value_not_in_list", message, f"{name}: '{value}' not in {listing}", extra)


def media_file_missing(name: str, kind: str, value: Any) -> ErrorDict:
    details = f"{name} - Invalid {kind} file: {value}"
    return _error(
        "custom_validation_failed",
        "Custom validation failed for node",
        details,
        {"input_name": name},
    )


def exception_during_validation(exception_type: str, reason: str) -> ErrorDict:
    extra = {"exception_type": exception_type, "traceback": []}
    return _error("exception_during_validation", "Exception when validating node", reason, extra)


def exception_during_inner_validation(
    name: str, config: list[Any], link: Any, exception_type: str, reason: str
) -> ErrorDict:
    extra = {
        "input_name": name,
        "input_config": config,
        "exception_message": reason,
        "exception_type": exception_type,
        "traceback": [],
        "linked_node": link,
    }
    return _error(
        "exception_during_inner_validation", "Exception when validating inner node", reason, extra
    )
