"""``comfy-gateway submit``: send a workflow to a comfy-gateway API, follow it, fetch outputs.

Registered by ``cli.py`` as ``app.command()(submit)``. Exit codes: 0 the job completed;
1 it failed or was cancelled; 2 a usage error, an HTTP error answer, an unreachable API
or a download that did not match its sha256; 130 interrupted (Ctrl-C) while waiting.

Each phase (submit, follow, download) is one ``asyncio.run`` of the async client, so a
Ctrl-C while following lands here, outside any event loop, where the user is asked
(once) whether to cancel the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from comfy_gateway.client.errors import GatewayApiError, GatewayClientError
from comfy_gateway.client.gateway_client import END_EVENT, GatewayClient
from comfy_gateway.client.job_display import LiveJobProgress, describe_error, summary_table
from comfy_gateway.client.job_view import JobView
from comfy_gateway.client.output_names import output_file_names, path_inside
from comfy_gateway.client.submission import (
    Submission,
    media_files,
    parse_input_override,
    parse_param,
    parse_workflow,
)

DEFAULT_URL = "http://127.0.0.1:8000"
EXIT_COMPLETED = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE_OR_HTTP = 2
EXIT_INTERRUPTED = 130

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Connection:
    """Where the API is and how to authenticate; a fresh client per event loop."""

    url: str
    api_key: str | None

    def client(self) -> GatewayClient:
        return GatewayClient(self.url, api_key=self.api_key)


def build_submission(
    workflow_text: str,
    media: list[Path],
    set_values: list[str],
    param_values: list[str],
    priority: int,
) -> Submission:
    """The submission the command line describes; a bad value is a usage error."""
    try:
        workflow = parse_workflow(workflow_text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="WORKFLOW") from exc
    try:
        inputs = [parse_input_override(text) for text in set_values]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--set") from exc
    try:
        params = dict(parse_param(text) for text in param_values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from exc
    try:
        files = media_files(media)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--media") from exc
    return Submission(
        workflow=workflow, params=params, inputs=inputs, media=files, priority=priority
    )


def submit(  # noqa: PLR0917 - one parameter per CLI flag is how typer works
    workflow: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="ComfyUI API-format graph (JSON)."
        ),
    ],
    media: Annotated[
        list[Path] | None,
        typer.Option(
            "--media",
            metavar="PATH",
            exists=True,
            dir_okay=False,
            readable=True,
            help="A file the workflow names by its base name; repeatable.",
        ),
    ] = None,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NODE.FIELD=VALUE",
            help="Override a node input; VALUE is JSON when it parses, else text. Repeatable.",
        ),
    ] = None,
    param_values: Annotated[
        list[str] | None,
        typer.Option(
            "--param", metavar="NAME=VALUE", help="Fill the __NAME__ placeholder; repeatable."
        ),
    ] = None,
    priority: Annotated[int, typer.Option(help="Higher runs sooner (-1000…1000).")] = 0,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the job and download its outputs.")
    ] = True,
    output_dir: Annotated[
        Path, typer.Option("-o", "--output-dir", file_okay=False, help="Where outputs go.")
    ] = Path(),
    url: Annotated[
        str, typer.Option(envvar="COMFY_GATEWAY_URL", help="The comfy-gateway API.")
    ] = DEFAULT_URL,
    api_key: Annotated[
        str | None, typer.Option(envvar="COMFY_GATEWAY_API_KEY", help="Sent as a Bearer token.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the job body as JSON instead of tables.")
    ] = False,
    cancel_on_interrupt: Annotated[
        bool, typer.Option("--cancel-on-interrupt", help="On Ctrl-C cancel without asking.")
    ] = False,
) -> None:
    """Submit a workflow to comfy-gateway, follow its progress and download its outputs."""
    submission = build_submission(
        workflow.read_text(encoding="utf-8"),
        media or [],
        set_values or [],
        param_values or [],
        priority,
    )
    connection = Connection(url=url, api_key=api_key)
    messages = Console(stderr=True, soft_wrap=True, highlight=False)
    job = run_client_call(messages, _submit_job(connection, submission))
    if not wait:
        typer.echo(json.dumps(job.body) if as_json else job.job_id)
        return
    messages.print(f"submitted job {job.job_id}", markup=False)
    final = _follow_or_interrupt(connection, job, messages, as_json, cancel_on_interrupt)
    saved = _download_outputs(connection, final, output_dir, messages)
    _report(final, saved, messages, as_json)
    raise typer.Exit(EXIT_COMPLETED if final.status == "completed" else EXIT_JOB_FAILED)


def run_client_call(messages: Console, call: Coroutine[Any, Any, T]) -> T:
    """Run one client phase; its errors become exit code 2 with the API's code/message."""
    try:
        return asyncio.run(call)
    except GatewayApiError as exc:
        _fail(messages, f"error: HTTP {exc.status} {exc.code}: {exc.message}")
    except GatewayClientError as exc:
        _fail(messages, f"error: {exc}")


def _fail(messages: Console, text: str) -> NoReturn:
    messages.print(text, markup=False)
    raise typer.Exit(EXIT_USAGE_OR_HTTP)


async def _submit_job(connection: Connection, submission: Submission) -> JobView:
    async with connection.client() as client:
        return await client.submit(submission)


async def follow_job(connection: Connection, job: JobView, display: Console) -> JobView:
    """Show the job's events on a live bar until its ``end``; the final job body."""
    async with connection.client() as client:
        events = contextlib.aclosing(client.stream_events(job.job_id))
        with LiveJobProgress(display, job) as live:
            async with events as stream:
                async for event in stream:
                    live.apply(event)
                    if event.event == END_EVENT:
                        return JobView.from_body(event.data)
        return await client.get_job(job.job_id)  # the stream only ends at ``end``


def _follow_or_interrupt(
    connection: Connection,
    job: JobView,
    messages: Console,
    as_json: bool,
    cancel_on_interrupt: bool,
) -> JobView:
    display = Console(stderr=True, quiet=as_json, highlight=False)
    try:
        return run_client_call(messages, follow_job(connection, job, display))
    except KeyboardInterrupt:
        handle_interrupt(connection, job.job_id, messages, cancel=cancel_on_interrupt)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def handle_interrupt(
    connection: Connection, job_id: str, messages: Console, *, cancel: bool
) -> None:
    """Cancel the job if told to or if the user says so; otherwise leave it running."""
    if cancel or _confirm(f"Cancel job {job_id}?"):
        job = run_client_call(messages, _cancel_job(connection, job_id))
        messages.print(f"cancel requested for job {job_id} (now {job.status})", markup=False)
    else:
        messages.print(f"job {job_id} keeps running", markup=False)


def _confirm(question: str) -> bool:
    # A second Ctrl-C, or no terminal to answer from, means "no": the job keeps running.
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        return False


async def _cancel_job(connection: Connection, job_id: str) -> JobView:
    async with connection.client() as client:
        return await client.cancel(job_id)


def _download_outputs(
    connection: Connection, job: JobView, folder: Path, messages: Console
) -> dict[int, Path]:
    # A failed or cancelled job keeps what it made before it stopped: fetch that too.
    if not job.outputs:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    return run_client_call(messages, download_all(connection, job, folder))


async def download_all(connection: Connection, job: JobView, folder: Path) -> dict[int, Path]:
    """Every output into ``folder`` under its sanitised name, each checked by sha256."""
    names = output_file_names(job.outputs)
    saved: dict[int, Path] = {}
    async with connection.client() as client:
        for output in job.outputs:
            dest = path_inside(folder, names[output.index])
            downloaded = await client.download_output(job, output.index, dest)
            saved[output.index] = downloaded.path
    return saved


def _report(job: JobView, saved: dict[int, Path], messages: Console, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(job.body))
    else:
        Console(soft_wrap=True).print(summary_table(job, saved))
    if job.error is not None:
        messages.print(f"job {job.status}: {describe_error(job.error)}", markup=False)
    elif job.status != "completed":
        messages.print(f"job {job.status}", markup=False)
