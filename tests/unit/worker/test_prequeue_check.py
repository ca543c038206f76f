"""The pure parts of the worker's pre-queue check: wired media names and the message."""

from __future__ import annotations

from typing import Any

from comfy_gateway.jobs.model import MediaRef
from comfy_gateway.validation import CheckResult, GraphRequirements
from comfy_gateway.worker.prequeue_check import describe_refusal, refusal_error, wired_media_names


def media(filename: str) -> MediaRef:
    return MediaRef(
        name="in.png",
        filename=filename,
        content_type="image/png",
        size_bytes=1,
        sha256="0" * 64,
        storage_key=f"k/{filename}",
    )


def missing_ckpt_errors() -> dict[str, Any]:
    return {
        "1": {
            "errors": [
                {
                    "type": "value_not_in_list",
                    "message": "Value not in list",
                    "details": "ckpt_name: 'x' not in []",
                    "extra_info": {"input_name": "ckpt_name"},
                }
            ],
            "dependent_outputs": ["4"],
            "class_type": "CheckpointLoaderSimple",
        }
    }


def test_media_names_are_the_wired_gateway_paths() -> None:
    names = wired_media_names([media("a.png"), media("b.jpg")])
    assert names == {"comfy-gateway/a.png", "comfy-gateway/b.jpg"}


def test_the_message_names_type_node_input_and_reason() -> None:
    error = {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed"}
    message = describe_refusal(error, missing_ckpt_errors())
    assert message.startswith("Prompt outputs failed (prompt_outputs_failed_validation); ")
    assert "node '1' (CheckpointLoaderSimple) input 'ckpt_name'" in message
    assert message.endswith("Value not in list: ckpt_name: 'x' not in []")


def test_a_prompt_level_error_uses_its_details() -> None:
    error = {"type": "invalid_prompt", "message": "Cannot execute", "details": "no class X"}
    assert describe_refusal(error, {}) == "Cannot execute (invalid_prompt): no class X"


def test_refusal_error_carries_comfyuis_node_errors() -> None:
    result = CheckResult(
        error={"type": "prompt_outputs_failed_validation", "message": "m"},
        node_errors=missing_ckpt_errors(),
        requirements=GraphRequirements(),
    )
    error = refusal_error(result)
    assert error.code == "workflow_invalid"
    assert error.node_errors == missing_ckpt_errors()
