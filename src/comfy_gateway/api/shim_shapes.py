"""The shim-compatible API's shapes (``POST /run``, ``GET /status/{id}``), as pure functions.

Existing clients were written against a thin shim in front of ComfyUI, so its answers
keep that shim's shapes rather than ours: outputs in ComfyUI's ``/history`` layout
(``{node_id: {"images": [{filename, subfolder, type}]}}``) plus a ``url`` per file, since
those clients cannot reach ComfyUI's ``/view``; and its form turned into a submit: every
plain field fills the placeholder of the same upper-case name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.job_body import output_url
from comfy_gateway.jobs.model import Job, JobOutput
from comfy_gateway.jobs.status import JobStatus

WORKFLOW_FIELD = "workflow"
WORKFLOW_PATH_FIELD = "workflow_path"
WAIT_FIELD = "wait"
WAIT_TIMEOUT_FIELD = "wait_timeout_s"
#: Form fields that steer the call; every other plain field is a placeholder value.
CONTROL_FIELDS = frozenset({WORKFLOW_FIELD, WORKFLOW_PATH_FIELD, WAIT_FIELD, WAIT_TIMEOUT_FIELD})
#: The uploaded ``image`` file is wired where the graph says ``__INPUT_IMAGE_FILENAME__``.
IMAGE_FILE_FIELD = "image"
IMAGE_PLACEHOLDER_PARAM = "input_image_filename"

_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})

# Spelled out rather than passed through, so a status we add later cannot leak to
# clients that only know these five.
_SHIM_STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "running",
    JobStatus.COMPLETED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
}
# ComfyUI reports SaveVideo's files under "images" (with "animated": [true]), so only
# audio and 3-D results get keys of their own; anything else is listed as "images" too.
_HISTORY_KEY_OF_KIND = {"audio": "audio", "3d": "3d", "text": "text"}


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What the form's plain fields ask of one ``/run`` call."""

    params: dict[str, str]
    wait: bool
    wait_timeout_s: float | None
    workflow_path: str | None


def shim_status(status: JobStatus) -> str:
    return _SHIM_STATUS[status]


def history_key(kind: str) -> str:
    """The key ComfyUI's history lists a file of this kind under."""
    return _HISTORY_KEY_OF_KIND.get(kind, "images")


def history_file(job_id: str, output: JobOutput, base_url: str) -> dict[str, Any]:
    return {
        "filename": output.filename,
        "subfolder": output.subfolder,
        "type": "temp" if output.temporary else "output",
        "url": base_url.rstrip("/") + output_url(job_id, output.index),
    }


def history_outputs(
    job_id: str, outputs: Sequence[JobOutput], base_url: str
) -> dict[str, dict[str, Any]]:
    """The job's outputs by node, in ComfyUI's history layout, with a ``url`` per file."""
    by_node: dict[str, dict[str, Any]] = {}
    for output in outputs:
        node = by_node.setdefault(output.node_id, {})
        node.setdefault(history_key(output.kind), []).append(history_file(job_id, output, base_url))
        if output.kind == "video":
            node["animated"] = [True]
    return by_node


def queued_answer(job: Job) -> dict[str, Any]:
    """``/run`` without ``wait``."""
    return {"job_id": job.job_id, "status": shim_status(job.status)}


def job_answer(job: Job, base_url: str) -> dict[str, Any]:
    """``/run`` after its wait, and ``/status/{id}``; ``error`` only for a failed job."""
    answer: dict[str, Any] = {
        **queued_answer(job),
        "outputs": history_outputs(job.job_id, job.outputs, base_url),
    }
    if job.error is not None:
        answer["error"] = {"code": job.error.code, "message": job.error.message}
    return answer


def timeout_answer(job_id: str, budget_s: float) -> dict[str, Any]:
    """The 504 body the shim's clients expect (not our error shape: the issue fixes it)."""
    return {
        "message": f"job {job_id} did not finish within {budget_s:g} s; it goes on running",
        "job_id": job_id,
    }


def run_options(fields: Iterable[tuple[str, str]], file_fields: Mapping[str, str]) -> RunOptions:
    """The form's plain ``fields`` and its files (field → media name) as `RunOptions`."""
    values = _single_values(fields)
    params = {name: value for name, value in values.items() if name not in CONTROL_FIELDS}
    for field_name, media_name in file_fields.items():
        params[_file_param(field_name)] = media_name
    return RunOptions(
        params=params,
        wait=parse_wait(values.get(WAIT_FIELD)),
        wait_timeout_s=parse_wait_timeout(values.get(WAIT_TIMEOUT_FIELD)),
        workflow_path=values.get(WORKFLOW_PATH_FIELD),
    )


def _file_param(field_name: str) -> str:
    return IMAGE_PLACEHOLDER_PARAM if field_name == IMAGE_FILE_FIELD else field_name


def _single_values(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in fields:
        if name in values:
            raise invalid_field(name, "is given more than once")
        values[name] = value
    return values


def parse_wait(text: str | None) -> bool:
    """``wait`` defaults to true here (unlike ``POST /v1/jobs``): the shim always waited."""
    if text is None or not text.strip():
        return True
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise invalid_field(WAIT_FIELD, "must be true or false")


def parse_wait_timeout(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise invalid_field(WAIT_TIMEOUT_FIELD, "must be a number of seconds, 0 or more")
    return seconds


def invalid_field(name: str, reason: str) -> ApiError:
    return ApiError(422, "invalid_request", f"form field {name[:80]!r} {reason}", field=name[:200])


def workflow_of_document(document: Any) -> Any:
    """The graph of a ``workflow_path`` file: a bare graph, or a template's ``workflow``."""
    if isinstance(document, dict) and isinstance(document.get("workflow"), dict):
        nested = document["workflow"]
        if "class_type" not in nested:  # a node that happens to be called "workflow"
            return nested
    return document
