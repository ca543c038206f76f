"""How a prompt's ending maps to the job's terminal status and error."""

from __future__ import annotations

import pytest

from comfy_gateway.comfy import PromptFailed, PromptInterrupted, PromptSucceeded
from comfy_gateway.errors import PromptValidationError
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.worker.job_outcome import StopReason, verdict_for, workflow_invalid

INTERRUPTED = PromptInterrupted(prompt_id="p", node_id="7", node_type="KSampler")


@pytest.mark.parametrize("stop_reason", [None, StopReason.CANCEL, StopReason.TIMEOUT])
def test_success_completes_whatever_was_asked(stop_reason: StopReason | None) -> None:
    verdict = verdict_for(PromptSucceeded(prompt_id="p", outputs={}), stop_reason, timeout_s=5)
    assert verdict.status is JobStatus.COMPLETED
    assert verdict.error is None


def test_execution_error_names_the_node() -> None:
    failed = PromptFailed(
        prompt_id="p",
        node_id="3",
        node_type="VAEDecode",
        exception_type="torch.OutOfMemoryError",
        exception_message="CUDA out of memory",
    )
    verdict = verdict_for(failed, StopReason.CANCEL, timeout_s=5)
    assert verdict.status is JobStatus.FAILED
    assert verdict.error is not None
    assert (verdict.error.code, verdict.error.node_id, verdict.error.node_type) == (
        "execution_error",
        "3",
        "VAEDecode",
    )
    assert verdict.error.exception_type == "torch.OutOfMemoryError"
    assert verdict.error.message == "CUDA out of memory"


def test_our_cancel_interrupt_cancels() -> None:
    verdict = verdict_for(INTERRUPTED, StopReason.CANCEL, timeout_s=5)
    assert verdict.status is JobStatus.CANCELLED
    assert verdict.error is None


def test_our_timeout_interrupt_fails_as_timeout() -> None:
    verdict = verdict_for(INTERRUPTED, StopReason.TIMEOUT, timeout_s=2.5)
    assert verdict.status is JobStatus.FAILED
    assert verdict.error is not None
    assert verdict.error.code == "timeout"
    assert "2.5 s" in verdict.error.message
    assert verdict.error.node_id == "7"


def test_someone_elses_interrupt_fails_as_interrupted() -> None:
    verdict = verdict_for(INTERRUPTED, None, timeout_s=5)
    assert verdict.status is JobStatus.FAILED
    assert verdict.error is not None
    assert (verdict.error.code, verdict.error.node_type) == ("interrupted", "KSampler")


def test_validation_error_keeps_node_errors() -> None:
    node_errors = {"4": {"errors": [{"type": "required_input_missing"}], "class_type": "X"}}
    error = PromptValidationError(
        "refused",
        error={"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed"},
        node_errors=node_errors,
    )
    job_error = workflow_invalid(error)
    assert job_error.code == "workflow_invalid"
    assert job_error.node_errors == node_errors
    assert job_error.message.startswith("Prompt outputs failed")
