"""The texts the terminal shows: the progress label, errors, sizes, timings, summary."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from comfy_gateway.client.job_display import (
    describe_error,
    describe_progress,
    human_size,
    summary_table,
    timing_rows,
)
from comfy_gateway.client.job_view import JobErrorView, JobView, ProgressView


def test_progress_label_names_node_and_step() -> None:
    progress = ProgressView(
        percent=37.5, current_node="57", nodes_done=9, nodes_total=17, step=2, steps=4
    )
    assert describe_progress("running", progress) == "running · node 57 (9/17) · step 2/4"


def test_progress_label_leaves_out_what_is_unknown() -> None:
    assert describe_progress("queued", ProgressView()) == "queued"
    assert describe_progress("running", ProgressView(current_node="3")) == "running · node 3"
    assert describe_progress("running", ProgressView(step=1, steps=0)) == "running"


def test_error_names_code_message_and_node() -> None:
    error = JobErrorView(code="execution_error", message="OOM", node_id="3", node_type="KSampler")
    assert describe_error(error) == "execution_error: OOM (node 3, KSampler)"
    assert describe_error(JobErrorView(code="timeout", message="late")) == "timeout: late"


def test_sizes_and_timings_read_well() -> None:
    assert [human_size(n) for n in (None, 999, 2_483_921)] == ["?", "999 B", "2.5 MB"]
    assert timing_rows({"queue_wait_ms": 12, "execution_ms": 41234, "note": "x"}) == [
        ("queue wait", "0.012 s"),
        ("execution", "41.234 s"),
        ("note", "x"),
    ]


def test_summary_shows_status_error_and_saved_outputs() -> None:
    job = JobView.from_body(
        {
            "job_id": "j1",
            "status": "failed",
            "error": {"code": "execution_error", "message": "bad [red]thing", "node_id": "3"},
            "outputs": [
                {"index": 0, "filename": "a.png", "url": "/o/0", "size_bytes": 10},
                {"index": 1, "filename": "b.png", "url": "/o/1"},
            ],
            "timings": {"execution_ms": 1500},
        }
    )
    console = Console(width=200, record=True, file=None, force_terminal=False)
    with console.capture() as capture:
        console.print(summary_table(job, {0: Path("/out/a.png")}))
    text = capture.get()
    assert "failed" in text
    assert "execution_error: bad [red]thing (node 3)" in text  # markup shown, not applied
    assert "a.png (file, 10 B) → /out/a.png" in text
    assert "b.png (file, ?) → not downloaded" in text
    assert "1.500 s" in text
