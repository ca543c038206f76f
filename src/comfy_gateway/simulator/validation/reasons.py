"""The error objects ComfyUI 0.3.64 puts in a 400 answer, built field for field.

Every per-node reason is `{"type", "message", "details", "extra_info"}`; the strings and
the `extra_info` keys (and their order) are those of ComfyUI's execution.py. Values are
formatted with Python's own `str`/`repr`, as ComfyUI formats them.
"""

from __future__ import annotations

from typing import Any

from comfy_gateway.simulator.validation.tracebacks import (
    INNER_CALL_FRAME,
    PROMPT_CALL_FRAME,
    ValidationCrash,
)

Reason = dict[str, Any]

# ComfyUI leaves lists this long out of the answer ("scanned model filepaths").
LONGEST_LISTED_COMBO = 20


def prompt_error(kind: str, message: str, details: str) -> Reason:
    """A prompt-level error (`error` of the answer); `extra_info` is always empty."""
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def no_prompt() -> Reason:
    return prompt_error("no_prompt", "No prompt provided", "No prompt provided")


def node_missing_class_type(node_id: Any) -> Reason:
    return prompt_error(
        "invalid_prompt",
        "Cannot execute because a node is missing the class_type property.",
        f"Node ID '#{node_id}'",
    )


def node_class_unknown(node_id: Any, class_type: Any) -> Reason:
    return prompt_error(
        "invalid_prompt",
        f"Cannot execute because node {class_type} does not exist.",
        f"Node ID '#{node_id}'",
    )


def prompt_no_outputs() -> Reason:
    return prompt_error("prompt_no_outputs", "Prompt has no outputs", "")


def outputs_failed(output_reasons: list[Reason]) -> Reason:
    """The `error` when no output survives; details lists the output nodes' own reasons."""
    lines = [f"{reason['message']}: {reason['details']}" for reason in output_reasons]
    return prompt_error(
        "prompt_outputs_failed_validation", "Prompt outputs failed validation", "\n".join(lines)
    )


def node_reason(kind: str, message: str, details: str, extra_info: dict[str, Any]) -> Reason:
    return {"type": kind, "message": message, "details": details, "extra_info": extra_info}


def required_input_missing(name: str) -> Reason:
    return node_reason(
        "required_input_missing", "Required input is missing", name, {"input_name": name}
    )


def bad_linked_input(name: str, config: list[Any], value: Any) -> Reason:
    return node_reason(
        "bad_linked_input",
        "Bad linked input, must be a length-2 list of [node_id, slot_index]",
        name,
        {"input_name": name, "input_config": config, "received_value": value},
    )


def return_type_mismatch(name: str, config: list[Any], received: Any, link: Any) -> Reason:
    return node_reason(
        "return_type_mismatch",
        "Return type mismatch between linked nodes",
        f"{name}, received_type({received}) mismatch input_type({config[0]})",
        {
            "input_name": name,
            "input_config": config,
            "received_type": received,
            "linked_node": link,
        },
    )


def inner_exception(name: str, config: list[Any], crash: ValidationCrash, link: Any) -> Reason:
    """Reported on the *linked* node, but named after the caller's input and link."""
    return node_reason(
        "exception_during_inner_validation",
        "Exception when validating inner node",
        crash.exception_message,
        {
            "input_name": name,
            "input_config": config,
            "exception_message": crash.exception_message,
            "exception_type": crash.exception_type,
            "traceback": [INNER_CALL_FRAME, crash.frame],
            "linked_node": link,
        },
    )


def output_exception(crash: ValidationCrash) -> Reason:
    return node_reason(
        "exception_during_validation",
        "Exception when validating node",
        crash.exception_message,
        {
            "exception_type": crash.exception_type,
            "traceback": [PROMPT_CALL_FRAME, crash.frame],
        },
    )


def invalid_input_type(name: str, config: list[Any], value: Any, error: Exception) -> Reason:
    return node_reason(
        "invalid_input_type",
        f"Failed to convert an input value to a {config[0]} value",
        f"{name}, {value}, {error}",
        {
            "input_name": name,
            "input_config": config,
            "received_value": value,
            "exception_message": str(error),
        },
    )


def value_smaller_than_min(name: str, config: list[Any], value: Any) -> Reason:
    return node_reason(
        "value_smaller_than_min",
        f"Value {value} smaller than min of {config[1]['min']}",
        name,
        {"input_name": name, "input_config": config, "received_value": value},
    )


def value_bigger_than_max(name: str, config: list[Any], value: Any) -> Reason:
    return node_reason(
        "value_bigger_than_max",
        f"Value {value} bigger than max of {config[1]['max']}",
        name,
        {"input_name": name, "input_config": config, "received_value": value},
    )


def value_not_in_list(name: str, config: list[Any], value: Any) -> Reason:
    options = config[0]
    if len(options) > LONGEST_LISTED_COMBO:
        listed, shown_config = f"(list of length {len(options)})", None
    else:
        listed, shown_config = str(options), config
    return node_reason(
        "value_not_in_list",
        "Value not in list",
        f"{name}: '{value}' not in {listed}",
        {"input_name": name, "input_config": shown_config, "received_value": value},
    )


def custom_validation_failed(name: str, outcome: Any) -> Reason:
    details = name if outcome is False else f"{name} - {outcome}"
    return node_reason(
        "custom_validation_failed",
        "Custom validation failed for node",
        details,
        {"input_name": name},
    )
