"""How a job looks in a terminal: a live progress bar fed by its events, and a summary.

The texts are built by pure functions (tested without a terminal); `LiveJobProgress` only
hands them to rich.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from comfy_gateway.client.job_view import JobErrorView, JobView, OutputView, ProgressView
from comfy_gateway.client.sse import JobEvent


def describe_progress(status: str, progress: ProgressView) -> str:
    """``running · node 57 (9/17) · step 2/4``: what the bar's label says."""
    parts = [status]
    if progress.current_node is not None:
        node = f"node {progress.current_node}"
        if progress.nodes_done is not None and progress.nodes_total:
            node += f" ({progress.nodes_done}/{progress.nodes_total})"
        parts.append(node)
    if progress.step is not None and progress.steps:
        parts.append(f"step {progress.step}/{progress.steps}")
    return " · ".join(parts)


def human_size(size_bytes: int | None) -> str:
    if size_bytes is None:
        return "?"
    size = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def describe_file(output: OutputView) -> str:
    """``wan_00001_.mp4 (video, 2.5 MB)``."""
    kind = output.kind or output.content_type or "file"
    return f"{output.filename} ({kind}, {human_size(output.size_bytes)})"


def describe_output(output: OutputView) -> str:
    return f"output {output.index}: {describe_file(output)}"


def describe_error(error: JobErrorView) -> str:
    """``execution_error: CUDA out of memory (node 3, KSampler)``."""
    where = [part for part in (error.node_id and f"node {error.node_id}", error.node_type) if part]
    suffix = f" ({', '.join(where)})" if where else ""
    return f"{error.code}: {error.message}{suffix}"


def timing_rows(timings: Mapping[str, object]) -> list[tuple[str, str]]:
    """``queue_wait_ms`` → ``("queue wait", "0.012 s")``; non-numbers as they come."""
    rows = []
    for key, value in timings.items():
        label = key.removesuffix("_ms").replace("_", " ")
        if key.endswith("_ms") and isinstance(value, int | float):
            rows.append((label, f"{value / 1000:.3f} s"))
        else:
            rows.append((label, str(value)))
    return rows


def summary_table(job: JobView, saved: Mapping[int, Path]) -> Table:
    """Status, timings and outputs (with where each was saved) of a finished job."""
    table = Table(title=f"job {job.job_id}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    # Text cells, not markup: a message or file name with "[...]" is shown as it is.
    table.add_row("status", Text(job.status))
    if job.error is not None:
        table.add_row("error", Text(describe_error(job.error)))
    for label, value in timing_rows(job.timings):
        table.add_row(Text(label), Text(value))
    for output in job.outputs:
        place = str(saved[output.index]) if output.index in saved else "not downloaded"
        table.add_row(f"output {output.index}", Text(f"{describe_file(output)} → {place}"))
    return table


class LiveJobProgress:
    """A progress bar (percent, status, node, step) following a job's events."""

    def __init__(self, console: Console, job: JobView) -> None:
        self._console = console
        self._status = job.status
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID = self._progress.add_task(self._label(job.progress), total=100)
        self._show(job.progress)

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def apply(self, event: JobEvent) -> None:
        """Move the bar for a ``status``/``progress``/``end`` event; print new outputs."""
        if event.event in {"status", "end"}:
            job = JobView.from_body(event.data)
            self._status = job.status
            self._show(job.progress)
        elif event.event == "progress":
            details = event.data.get("progress_details")
            self._show(ProgressView.from_body(event.data.get("progress"), details))
        elif event.event == "output":
            line = describe_output(OutputView.from_body(event.data))
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def _label(self, progress: ProgressView) -> str:
        return describe_progress(self._status, progress)

    def _show(self, progress: ProgressView) -> None:
        self._progress.update(
            self._task, completed=progress.percent, description=self._label(progress)
        )
