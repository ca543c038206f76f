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
from comfy_gateway.worker.output_collection import CollectedOutputs


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


def out_of_attempts(detail: str, attempts: int, max_attempts: int) -> JobError | None:
    """The error of a job whose backend lost its prompt ``attempts`` times, once that
    reaches ``max_attempts``; None while it may be tried again."""
    if attempts < max_attempts:
        return None
    message = f"{detail}; gave up after {attempts} attempts"
    return JobError(code="backend_unavailable", message=message)


def verdict_after_collection(verdict: Verdict, collected: CollectedOutputs) -> Verdict:
    """A full output store fails the job ``storage_full``; a completed prompt whose
    outputs could not all be stored fails ``output_unavailable``. Stored outputs stay."""
    if collected.storage_full is not None and verdict.status is not JobStatus.CANCELLED:
        message = f"the output store is full: {collected.storage_full}"
        return Verdict(status=JobStatus.FAILED, error=job_error("storage_full", message))
    if collected.missing and verdict.status is JobStatus.COMPLETED:
        message = "outputs could not be stored: " + "; ".join(collected.missing)
        return Verdict(status=JobStatus.FAILED, error=job_error("output_unavailable", message))
    return verdict
