"""A whole prompt checked as ComfyUI 0.3.64's `validate_prompt` checks it.

Every node must name a known class; then each output node is validated with everything
it depends on. Nodes no output depends on are never looked at. Outputs that pass run;
when none passes the prompt is refused. Unexpected shapes (a node that is a string, an
unhashable class_type, …) raise plain Python errors here exactly where ComfyUI's code
raises them — the caller turns those into ComfyUI's 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comfy_gateway.simulator.catalogue import NodeCatalogue
from comfy_gateway.simulator.validation import reasons
from comfy_gateway.simulator.validation.inputs import PromptWalk, validate_node
from comfy_gateway.simulator.validation.reasons import Reason
from comfy_gateway.simulator.validation.tracebacks import ValidationCrash


@dataclass(frozen=True, kw_only=True)
class PromptVerdict:
    """`error` is None when at least one output passed (`good_outputs` non-empty)."""

    error: Reason | None
    good_outputs: list[str]
    node_errors: dict[str, Any]


def validate_prompt(prompt: Any, partial_targets: Any, catalogue: NodeCatalogue) -> PromptVerdict:
    """The verdict on `prompt`; `partial_targets` limits the outputs (None = all)."""
    outputs, refusal = _output_nodes(prompt, partial_targets, catalogue)
    if refusal is not None:
        return PromptVerdict(error=refusal, good_outputs=[], node_errors={})
    if not outputs:
        return PromptVerdict(error=reasons.prompt_no_outputs(), good_outputs=[], node_errors={})
    return _validate_outputs(PromptWalk(prompt=prompt, catalogue=catalogue), outputs)


def _output_nodes(
    prompt: Any, partial_targets: Any, catalogue: NodeCatalogue
) -> tuple[list[Any], Reason | None]:
    """Output node ids in prompt order, or the first node that cannot exist at all."""
    outputs = []
    for node_id in prompt:
        node = prompt[node_id]
        if "class_type" not in node:
            return [], reasons.node_missing_class_type(node_id)
        class_type = node["class_type"]
        if not catalogue.has_class(class_type):
            return [], reasons.node_class_unknown(node_id, class_type)
        if catalogue.is_output_node(class_type) and (
            partial_targets is None or node_id in partial_targets
        ):
            outputs.append(node_id)
    return outputs, None


def _validate_outputs(walk: PromptWalk, outputs: list[Any]) -> PromptVerdict:
    good_outputs: list[str] = []
    failed_output_reasons: list[Reason] = []
    node_errors: dict[str, Any] = {}
    for output_id in outputs:
        valid, output_reasons = _validate_output(walk, output_id)
        if valid:
            good_outputs.append(output_id)
            continue
        failed_output_reasons.extend(output_reasons)
        _record_node_errors(walk, output_id, node_errors)
    if good_outputs:
        return PromptVerdict(error=None, good_outputs=good_outputs, node_errors=node_errors)
    return PromptVerdict(
        error=reasons.outputs_failed(failed_output_reasons),
        good_outputs=[],
        node_errors=node_errors,
    )


def _validate_output(walk: PromptWalk, output_id: Any) -> tuple[bool, list[Reason]]:
    try:
        return validate_node(walk, output_id)
    except ValidationCrash as crash:
        verdict = (False, [reasons.output_exception(crash)])
        walk.validated[output_id] = verdict
        return verdict


def _record_node_errors(walk: PromptWalk, output_id: Any, node_errors: dict[str, Any]) -> None:
    """Blame every failed node seen so far (ComfyUI's quirk: not only this output's)."""
    for node_id, (valid, node_reasons) in walk.validated.items():
        # A node that failed only because of an upstream node carries no reason of its own.
        if valid or not node_reasons:
            continue
        if node_id not in node_errors:
            node_errors[node_id] = {
                "errors": node_reasons,
                "dependent_outputs": [],
                "class_type": walk.prompt[node_id]["class_type"],
            }
        node_errors[node_id]["dependent_outputs"].append(output_id)
