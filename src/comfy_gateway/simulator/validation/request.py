"""`POST /prompt` bodies read as ComfyUI 0.3.64's `post_prompt` reads them.

ComfyUI reads the body in a fixed order — JSON, `number`/`front`, then `prompt`,
`prompt_id`, `partial_execution_targets`, validation, `extra_data`, `client_id` — and any
Python error on the way becomes aiohttp's 500 text answer. Whether the request had
already been counted (the counter moves before `prompt` is read) depends on where it
failed, so the result says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from comfy_gateway.simulator.catalogue import NodeCatalogue
from comfy_gateway.simulator.validation import reasons
from comfy_gateway.simulator.validation.prompt import PromptVerdict, validate_prompt
from comfy_gateway.simulator.validation.results import (
    PromptAccepted,
    PromptBodyUnparseable,
    PromptCheck,
    PromptRejected,
)


@dataclass(frozen=True, kw_only=True)
class Numbering:
    """The body's explicit `number` (None: the server counts) and its `front` flag."""

    number_hint: float | None
    front: bool


def check_prompt_request(raw_body: bytes, catalogue: NodeCatalogue) -> PromptCheck:
    """What the simulated server answers to this `POST /prompt` body."""
    try:
        body = json.loads(raw_body.decode("utf-8"))
        numbering = read_numbering(body)
    except Exception:
        return PromptBodyUnparseable(advances_counter=False)
    try:
        return _check_body(body, numbering, catalogue)
    except Exception:
        # Anything ComfyUI would have tripped over after counting the request.
        return PromptBodyUnparseable(advances_counter=numbering.number_hint is None)


def read_numbering(body: Any) -> Numbering:
    """`number` wins over `front`, as in ComfyUI (which never reads `front` then)."""
    if "number" in body:
        return Numbering(number_hint=float(body["number"]), front=False)
    return Numbering(number_hint=None, front="front" in body and bool(body["front"]))


def _check_body(body: Any, numbering: Numbering, catalogue: NodeCatalogue) -> PromptCheck:
    counted = numbering.number_hint is None
    if "prompt" not in body:
        return PromptRejected(
            body={"error": reasons.no_prompt(), "node_errors": {}}, advances_counter=counted
        )
    prompt = body["prompt"]
    prompt_id = str(body["prompt_id"]) if "prompt_id" in body else None
    partial_targets = body.get("partial_execution_targets")
    verdict = validate_prompt(prompt, partial_targets, catalogue)
    extra_data = body.get("extra_data", {})
    if "client_id" in body:
        extra_data["client_id"] = body["client_id"]
    if verdict.error is not None:
        return PromptRejected(
            body={"error": verdict.error, "node_errors": verdict.node_errors},
            advances_counter=counted,
        )
    return _accepted(
        body=body,
        prompt=prompt,
        prompt_id=prompt_id,
        extra_data=extra_data,
        numbering=numbering,
        verdict=verdict,
    )


def _accepted(
    *,
    body: dict[str, Any],
    prompt: dict[str, Any],
    prompt_id: str | None,
    extra_data: Any,
    numbering: Numbering,
    verdict: PromptVerdict,
) -> PromptAccepted:
    if not isinstance(extra_data, dict):
        # ComfyUI would queue it and trip over it later; the simulator refuses at once.
        raise TypeError("extra_data must be an object")
    client_id = body.get("client_id")
    return PromptAccepted(
        prompt=prompt,
        prompt_id=prompt_id,
        client_id=client_id if isinstance(client_id, str) else None,
        extra_data=extra_data,
        front=numbering.front,
        number_hint=numbering.number_hint,
        outputs_to_execute=list(verdict.good_outputs),
        node_errors=verdict.node_errors,
    )
