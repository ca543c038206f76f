"""What a prompt's ending means for the job: status and error (pure decisions).

An interrupt is ours when we asked for it (a cancel, or the job's timeout); any other
interrupt came from someone else and fails the job as ``interrupted``. Execution errors
and timeouts are never retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from comfy_gateway.comfy import PromptFailed, PromptInterrupted, PromptResult, PromptSucceeded
from comfy_gateway.errors import PromptValidationError
from comfy_gateway.jobs.model import JobError
from comfy_gateway.jobs.status import JobStatus


class StopReason(StrEnum):
    """Why the worker itself stopped a prompt."""

    CANCEL = "cancel"
    TIMEOUT = "timeout"


@dataclass(frozen=True, kw_only=True)
class Verdict:
    status: JobStatus
    error: JobError | None = None


CANCELLED = Verdict(status=JobStatus.CANCELLED)


def verdict_for(
    result: PromptResult, stop_reason: StopReason | None, *, timeout_s: float
) -> Verdict:
    """The job's terminal status for a prompt that reached an end on the backend."""
    if isinstance(result, PromptSucceeded):
        return Verdict(status=JobStatus.COMPLETED)
    if isinstance(result, PromptFailed):
        return Verdict(status=JobStatus.FAILED, error=execution_error(result))
    return _interrupted(result, stop_reason, timeout_s)


def _interrupted(
    result: PromptInterrupted, stop_reason: StopReason | None, timeout_s: float
) -> Verdict:
    if stop_reason is StopReason.CANCEL:
        return CANCELLED
    if stop_reason is StopReason.TIMEOUT:
        message = f"the job ran longer than its timeout of {timeout_s:g} s and was interrupted"
        return Verdict(status=JobStatus.FAILED, error=_node_error("timeout", message, result))
    message = "the prompt was interrupted on the ComfyUI backend by someone else"
    return Verdict(status=JobStatus.FAILED, error=_node_error("interrupted", message, result))


def _node_error(code: str, message: str, result: PromptInterrupted) -> JobError:
    return JobError(
        code=code,
        message=message,
        node_id=result.node_id or None,
        node_type=result.node_type or None,
    )


def execution_error(result: PromptFailed) -> JobError:
    return JobError(
        code="execution_error",
        message=result.exception_message,
        node_id=result.node_id or None,
        node_type=result.node_type or None,
        exception_type=result.exception_type or None,
    )


def workflow_invalid(error: PromptValidationError) -> JobError:
    message = str(error.error.get("message") or error)
    details = error.error.get("details")
    if details:
        message = f"{message}: {details}"
    return JobError(code="workflow_invalid", message=message, node_errors=error.node_errors)


def job_error(code: str, message: str) -> JobError:
    return JobError(code=code, message=message)
