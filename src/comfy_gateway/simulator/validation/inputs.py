"""One node's inputs checked as ComfyUI 0.3.64's `validate_inputs` checks them.

The walk starts at an output node and recurses into every linked node, recording each
node's verdict once in `validated` (its insertion order becomes the order of
`node_errors`). Values are coerced in place (INT/FLOAT/STRING/BOOLEAN), so the accepted
prompt carries `64` where the body said `"64"`.

ComfyUI walks a node's inputs in the order of a Python `set` of their names, which
changes from one server process to the next (string hashing is salted). The simulator
needs one fixed order; descending name order reproduces every multi-error capture in
protocol.md (`width` before `height`, `vae` before `samples`, `positive` before `model`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.simulator.catalogue import NodeCatalogue
from comfy_gateway.simulator.validation import custom, reasons
from comfy_gateway.simulator.validation.reasons import Reason
from comfy_gateway.simulator.validation.tracebacks import (
    CUSTOM_VALIDATION_FRAME,
    CYCLE_FRAME,
    INPUT_PRESENT_FRAME,
    INPUT_VALUE_FRAME,
    LINKED_NODE_FRAME,
    LINKED_SLOT_FRAME,
    MAX_FRAME,
    MIN_FRAME,
    NODE_INPUTS_FRAME,
    ValidationCrash,
    guarded,
)

Verdict = tuple[bool, list[Reason]]

ANY_TYPE = "*"
V3_COMBO = "COMBO"
COERCIONS = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}


@dataclass
class PromptWalk:
    """The state of validating one prompt: the prompt itself and every verdict so far."""

    prompt: Any
    catalogue: NodeCatalogue
    validated: dict[Any, Verdict] = field(default_factory=dict)
    in_progress: set[Any] = field(default_factory=set)
    _definitions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def definition(self, class_type: str) -> dict[str, Any]:
        if class_type not in self._definitions:
            info = self.catalogue.node_info(class_type)
            assert info is not None, "validate_prompt checked every class_type"
            self._definitions[class_type] = info
        return self._definitions[class_type]


@dataclass
class NodeCheck:
    """What one node's walk has found so far."""

    errors: list[Reason] = field(default_factory=list)
    upstream_valid: bool = True


def link_types_compatible(received: Any, expected: Any) -> bool:
    """ComfyUI's validate_node_input (non-strict): equal, `*`, or overlapping unions."""
    if received == expected or ANY_TYPE in (received, expected):
        return True
    if isinstance(received, list) and expected == V3_COMBO:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return False
    received_types = {part.strip() for part in received.split(",")}
    expected_types = {part.strip() for part in expected.split(",")}
    if ANY_TYPE in received_types or ANY_TYPE in expected_types:
        return True
    return bool(received_types & expected_types)


def validate_node(walk: PromptWalk, node_id: Any) -> Verdict:
    """The node's verdict; a ValidationCrash escapes to the caller as in ComfyUI."""
    if node_id in walk.validated:
        return walk.validated[node_id]
    if node_id in walk.in_progress:
        raise ValidationCrash(RecursionError("maximum recursion depth exceeded"), CYCLE_FRAME)
    walk.in_progress.add(node_id)
    try:
        verdict = _walk_node(walk, node_id)
    finally:
        walk.in_progress.discard(node_id)
    walk.validated[node_id] = verdict
    return verdict


def _walk_node(walk: PromptWalk, node_id: Any) -> Verdict:
    node = walk.prompt[node_id]
    inputs = guarded(NODE_INPUTS_FRAME, lambda: node["inputs"])
    class_type = node["class_type"]
    declared = walk.definition(class_type).get("input", {})
    hook = custom.hook_for(class_type)
    hooked = {hook.input_name} if hook else set()
    check = NodeCheck()
    for name in sorted(_input_names(declared), reverse=True):
        _check_input(walk, check, inputs, name, declared=declared, hooked=hooked)
    if hook:
        _run_hook(walk, check, hook, class_type=class_type, inputs=inputs, declared=declared)
    if check.errors or not check.upstream_valid:
        return (False, check.errors)
    return (True, [])


def _input_names(declared: dict[str, Any]) -> set[str]:
    return set(declared.get("required", {})) | set(declared.get("optional", {}))


def _input_config(declared: dict[str, Any], name: str) -> tuple[bool, list[Any]]:
    """(required?, [type, options]) — the `input_config` ComfyUI reports."""
    required = declared.get("required", {})
    spec = required[name] if name in required else declared["optional"][name]
    options = spec[1] if len(spec) > 1 else {}
    return name in required, [spec[0], options]


def _check_input(
    walk: PromptWalk,
    check: NodeCheck,
    inputs: Any,
    name: str,
    *,
    declared: dict[str, Any],
    hooked: set[str],
) -> None:
    required, config = _input_config(declared, name)
    if not guarded(INPUT_PRESENT_FRAME, lambda: name in inputs):
        if required:
            check.errors.append(reasons.required_input_missing(name))
        return
    value = guarded(INPUT_VALUE_FRAME, lambda: inputs[name])
    if isinstance(value, list):
        _check_link(walk, check, name, config, value)
    else:
        _check_value(check, inputs, name, config, value, checked=name not in hooked)


def _check_link(
    walk: PromptWalk, check: NodeCheck, name: str, config: list[Any], link: list[Any]
) -> None:
    if len(link) != 2:
        check.errors.append(reasons.bad_linked_input(name, config, link))
        return
    linked_id = link[0]
    linked_class = guarded(LINKED_NODE_FRAME, lambda: walk.prompt[linked_id]["class_type"])
    return_types = tuple(walk.definition(linked_class).get("output", []))
    received = guarded(LINKED_SLOT_FRAME, lambda: return_types[link[1]])
    if not link_types_compatible(received, config[0]):
        check.errors.append(reasons.return_type_mismatch(name, config, received, link))
        return
    try:
        valid, _ = validate_node(walk, linked_id)
    except ValidationCrash as crash:
        check.upstream_valid = False
        walk.validated[linked_id] = (False, [reasons.inner_exception(name, config, crash, link)])
        return
    if not valid:
        # The linked node's own reasons are already recorded under its id.
        check.upstream_valid = False


def _check_value(
    check: NodeCheck, inputs: Any, name: str, config: list[Any], value: Any, *, checked: bool
) -> None:
    if isinstance(value, dict) and "__value__" in value:
        # A list widget value travels wrapped, since a bare list would be a link.
        value = value["__value__"]
        inputs[name] = value
    coercion = COERCIONS.get(config[0]) if isinstance(config[0], str) else None
    if coercion is not None:
        try:
            value = coercion(value)
        except Exception as error:
            check.errors.append(reasons.invalid_input_type(name, config, value, error))
            return
        inputs[name] = value
    if checked:
        _check_bounds_and_choices(check, name, config, value)


def _check_bounds_and_choices(check: NodeCheck, name: str, config: list[Any], value: Any) -> None:
    options = config[1]
    if "min" in options and guarded(MIN_FRAME, lambda: value < options["min"]):
        check.errors.append(reasons.value_smaller_than_min(name, config, value))
        return
    if "max" in options and guarded(MAX_FRAME, lambda: value > options["max"]):
        check.errors.append(reasons.value_bigger_than_max(name, config, value))
        return
    # Only V1 combos are checked: 0.3.64 lets any value through a V3 ["COMBO", ...] input.
    if isinstance(config[0], list) and value not in config[0]:
        check.errors.append(reasons.value_not_in_list(name, config, value))


def _run_hook(
    walk: PromptWalk,
    check: NodeCheck,
    hook: custom.FileHook,
    *,
    class_type: str,
    inputs: Any,
    declared: dict[str, Any],
) -> None:
    arguments = _hook_arguments(inputs, hook.input_name, _input_names(declared))
    outcome = guarded(
        CUSTOM_VALIDATION_FRAME,
        lambda: custom.run_hook(hook, class_type, arguments, walk.catalogue),
    )
    if outcome is not True:
        for name in arguments:
            check.errors.append(reasons.custom_validation_failed(name, outcome))


def _hook_arguments(inputs: Any, name: str, declared: set[str]) -> dict[str, Any]:
    """What ComfyUI hands the hook: the literal value, None for a link, nothing if absent."""
    if name not in declared or name not in inputs:
        return {}
    value = inputs[name]
    return {name: None if isinstance(value, list) else value}
