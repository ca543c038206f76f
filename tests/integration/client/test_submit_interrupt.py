"""Ctrl-C while ``submit`` waits, for real: the command runs as a subprocess and gets a
SIGINT while it follows a job that never ends. Without a terminal to ask on, the job is
left running (exit 130); ``--cancel-on-interrupt`` cancels it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.client.fake_gateway import FakeGateway, JobScript, job_body, serve_in_thread

RUN_SUBMIT = (
    "import typer\n"
    "from comfy_gateway.cli_submit import submit\n"
    "app = typer.Typer()\n"
    "app.command()(submit)\n"
    "app()\n"
)


@pytest.fixture
def gateway() -> FakeGateway:
    fake = FakeGateway()
    running = job_body(fake.job_id, "running", progress=10.0)
    fake.script = JobScript(events=[("status", running)], hold_open=True)
    return fake


@pytest.fixture
def url(gateway: FakeGateway) -> Iterator[str]:
    with serve_in_thread(gateway.app) as base_url:
        yield base_url


def interrupt_submit(
    url: str, workflow: Path, gateway: FakeGateway, *extra: str
) -> tuple[int, str]:
    command = [sys.executable, "-c", RUN_SUBMIT, str(workflow), "--url", url, *extra]
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        try:
            assert gateway.stream_opened.wait(30), "the command never opened the stream"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    return process.returncode, stderr.decode()


def test_interrupt_leaves_the_job_running(gateway: FakeGateway, url: str, tmp_path: Path) -> None:
    workflow = tmp_path / "wf.json"
    workflow.write_text(json.dumps({"1": {"class_type": "X", "inputs": {}}}))
    code, stderr = interrupt_submit(url, workflow, gateway)
    assert code == 130, stderr
    assert f"job {gateway.job_id} keeps running" in stderr
    assert "Traceback" not in stderr
    assert gateway.cancels == []


def test_interrupt_with_cancel_flag_cancels(gateway: FakeGateway, url: str, tmp_path: Path) -> None:
    workflow = tmp_path / "wf.json"
    workflow.write_text(json.dumps({"1": {"class_type": "X", "inputs": {}}}))
    code, stderr = interrupt_submit(url, workflow, gateway, "--cancel-on-interrupt")
    assert code == 130, stderr
    assert f"cancel requested for job {gateway.job_id}" in stderr
    assert gateway.cancels == [gateway.job_id]
