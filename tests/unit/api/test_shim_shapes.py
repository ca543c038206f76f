"""The shim's pure shapes: history-shaped outputs, statuses, and the form → options rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.shim_shapes import (
    history_outputs,
    job_answer,
    parse_wait,
    parse_wait_timeout,
    queued_answer,
    run_options,
    shim_status,
    timeout_answer,
    workflow_of_document,
)
from comfy_gateway.jobs.model import Job, JobError, JobOutput
from comfy_gateway.jobs.status import JobStatus

BASE = "http://gateway.test/"
JOB_ID = "job_0123"


def output(
    index: int,
    node_id: str,
    filename: str,
    kind: str,
    *,
    subfolder: str = "",
    temporary: bool = False,
) -> JobOutput:
    return JobOutput(
        index=index,
        node_id=node_id,
        kind=kind,
        filename=filename,
        subfolder=subfolder,
        content_type="application/octet-stream",
        size_bytes=3,
        sha256="0" * 64,
        temporary=temporary,
        storage_key=f"k/{index}",
    )


def job(
    status: JobStatus, outputs: tuple[JobOutput, ...] = (), error: JobError | None = None
) -> Job:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Job(
        job_id=JOB_ID,
        tenant_id="acme",
        status=status,
        priority=0,
        created_at=now,
        started_at=None,
        completed_at=None,
        progress=0.0,
        progress_details={},
        error=error,
        outputs=outputs,
        timings={},
        attempts=0,
        resolved_params={},
        workflow=None,
        media=(),
        timeout_s=60.0,
        webhook_url=None,
        version=1,
        cancel_requested=False,
        claimed_by=None,
        lease_expires_at=None,
        fencing_token=0,
        prompt_id=None,
        backend=None,
    )


def test_outputs_are_grouped_by_node_in_comfyuis_history_layout_with_a_url_each() -> None:
    outputs = [
        output(0, "9", "a.png", "image", subfolder="sub"),
        output(1, "9", "b.png", "image", temporary=True),
        output(2, "12", "voice.flac", "audio"),
    ]

    shaped = history_outputs(JOB_ID, outputs, BASE)

    assert shaped == {
        "9": {
            "images": [
                {
                    "filename": "a.png",
                    "subfolder": "sub",
                    "type": "output",
                    "url": f"http://gateway.test/v1/jobs/{JOB_ID}/outputs/0",
                },
                {
                    "filename": "b.png",
                    "subfolder": "",
                    "type": "temp",
                    "url": f"http://gateway.test/v1/jobs/{JOB_ID}/outputs/1",
                },
            ]
        },
        "12": {
            "audio": [
                {
                    "filename": "voice.flac",
                    "subfolder": "",
                    "type": "output",
                    "url": f"http://gateway.test/v1/jobs/{JOB_ID}/outputs/2",
                }
            ]
        },
    }


def test_a_video_is_listed_under_images_and_marked_animated_as_comfyui_does() -> None:
    shaped = history_outputs(JOB_ID, [output(0, "5", "clip.mp4", "video")], BASE)

    assert list(shaped["5"]) == ["images", "animated"]
    assert shaped["5"]["animated"] == [True]
    assert shaped["5"]["images"][0]["filename"] == "clip.mp4"


@pytest.mark.parametrize("status", list(JobStatus))
def test_every_status_maps_to_one_of_the_five_shim_words(status: JobStatus) -> None:
    assert shim_status(status) in {"queued", "running", "completed", "failed", "cancelled"}
    assert shim_status(status) == status.value


def test_the_answers_have_exactly_the_shim_keys() -> None:
    done = job(JobStatus.COMPLETED, (output(0, "9", "a.png", "image"),))

    assert queued_answer(job(JobStatus.QUEUED)) == {"job_id": JOB_ID, "status": "queued"}
    answer = job_answer(done, BASE)
    assert set(answer) == {"job_id", "status", "outputs"}
    assert answer["outputs"]["9"]["images"][0]["url"].endswith(f"/{JOB_ID}/outputs/0")
    assert set(timeout_answer(JOB_ID, 2.5)) == {"message", "job_id"}
    assert "2.5 s" in timeout_answer(JOB_ID, 2.5)["message"]


def test_a_failed_job_says_why() -> None:
    error = JobError(code="execution_error", message="out of memory", node_id="3")
    answer = job_answer(job(JobStatus.FAILED, error=error), BASE)

    assert answer["status"] == "failed"
    assert answer["outputs"] == {}
    assert answer["error"] == {"code": "execution_error", "message": "out of memory"}


def test_plain_fields_become_params_and_control_fields_do_not() -> None:
    fields = [
        ("prompt", "a cat"),
        ("seed", "42"),
        ("wait", "false"),
        ("wait_timeout_s", "7.5"),
        ("workflow_path", "flows/a.json"),
    ]

    options = run_options(fields, {"image": "cat.png", "mask": "m.png"})

    assert options.params == {
        "prompt": "a cat",
        "seed": "42",
        "input_image_filename": "cat.png",
        "mask": "m.png",
    }
    assert (options.wait, options.wait_timeout_s) == (False, 7.5)
    assert options.workflow_path == "flows/a.json"


def test_without_control_fields_the_call_waits_for_the_configured_budget() -> None:
    options = run_options([], {})

    assert (options.wait, options.wait_timeout_s, options.workflow_path) == (True, None, None)
    assert options.params == {}


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(ApiError) as caught:
        run_options([("prompt", "a"), ("prompt", "b")], {})
    assert (caught.value.status_code, caught.value.details["field"]) == (422, "prompt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, True), ("", True), ("true", True), ("1", True), ("False", False), ("no", False)],
)
def test_wait_words(text: str | None, expected: bool) -> None:
    assert parse_wait(text) is expected


@pytest.mark.parametrize(("text", "expected"), [(None, None), ("0", 0.0), ("12", 12.0)])
def test_wait_timeouts(text: str | None, expected: float | None) -> None:
    assert parse_wait_timeout(text) == expected


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_wait, "maybe"),
        (parse_wait_timeout, "soon"),
        (parse_wait_timeout, "-1"),
        (parse_wait_timeout, "nan"),
        (parse_wait_timeout, "inf"),
    ],
)
def test_bad_control_values_are_422(parse: Callable[[str], object], text: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse(text)
    assert caught.value.status_code == 422


def test_a_workflow_path_file_may_be_a_bare_graph_or_a_template_document() -> None:
    graph = {"1": {"class_type": "EmptyImage", "inputs": {}}}
    template = {"name": "t", "parameters": [], "workflow": graph}
    node_named_workflow = {"workflow": {"class_type": "SaveImage", "inputs": {}}}

    assert workflow_of_document(graph) is graph
    assert workflow_of_document(template) is graph
    assert workflow_of_document(node_named_workflow) is node_named_workflow
