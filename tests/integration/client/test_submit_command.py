"""``comfy-gateway submit`` end to end against a fake API over real sockets: the request it
sends (JSON part, media parts, overrides, key), following SSE to the end (and resuming a
cut stream), downloads checked by sha256, and its exit codes."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from comfy_gateway import cli_submit
from comfy_gateway.cli_submit import submit
from comfy_gateway.client import JobView
from integration.client.fake_gateway import (
    FakeGateway,
    JobScript,
    job_body,
    output_body,
    serve_in_thread,
)

WORKFLOW = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": "__STEPS__"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a dog"}},
    "10": {"class_type": "LoadImage", "inputs": {"image": "cat.png"}},
}
PNG_OUT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
CAT_IN = b"\x89PNG\r\n\x1a\n cat bytes"


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def url(gateway: FakeGateway) -> Iterator[str]:
    with serve_in_thread(gateway.app) as base_url:
        yield base_url


@pytest.fixture
def workflow_file(tmp_path: Path) -> Path:
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(WORKFLOW))
    return path


def cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test app."""

    app.command()(submit)
    return app


def run(args: list[str], *, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli_app(), ["submit", *args], env=env, input=stdin)


def completed_script(job_id: str, filename: str = "ComfyUI_00001_.png") -> JobScript:
    output = output_body(job_id, 0, filename, PNG_OUT)
    details = {"current_node": "3", "nodes_done": 2, "nodes_total": 5, "step": 1, "steps": 4}
    events = [
        ("status", job_body(job_id, "queued")),
        ("status", job_body(job_id, "running", started_at="2026-11-22T18:40:02.000Z")),
        ("progress", {"job_id": job_id, "progress": 32.5, "progress_details": details}),
        ("output", {"job_id": job_id, **output}),
        (
            "end",
            job_body(
                job_id,
                "completed",
                progress=100.0,
                outputs=[output],
                timings={"queue_wait_ms": 12, "execution_ms": 2500},
            ),
        ),
    ]
    return JobScript(events=events, files={0: PNG_OUT})


def test_submit_with_media_follows_progress_and_downloads(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id)
    cat = tmp_path / "media" / "cat.png"
    cat.parent.mkdir()
    cat.write_bytes(CAT_IN)
    out = tmp_path / "out"
    args = [str(workflow_file), "--media", str(cat), "--set", "6.text=a cat"]
    args += ["--set", "3.seed=42", "--param", "STEPS=4", "--priority", "5"]
    args += ["-o", str(out), "--url", url, "--api-key", "k-123"]

    result = run(args)

    assert result.exit_code == 0, result.output
    [sent] = gateway.submits
    assert sent.content_type == "multipart/form-data"
    assert sent.authorization == "Bearer k-123"
    assert sent.request == {
        "workflow": WORKFLOW,
        "priority": 5,
        "params": {"STEPS": 4},
        "inputs": [
            {"node": "6", "field": "text", "value": "a cat"},
            {"node": "3", "field": "seed", "value": 42},
        ],
    }
    assert sent.files == {"cat.png": CAT_IN}
    assert gateway.stream_requests == [(None, "Bearer k-123")]
    saved = out / "ComfyUI_00001_.png"
    assert saved.read_bytes() == PNG_OUT
    assert [path.name for path in out.iterdir()] == ["ComfyUI_00001_.png"]
    assert f"submitted job {gateway.job_id}" in result.stderr
    assert "output 0: ComfyUI_00001_.png (image, 10.2 KB)" in result.stderr
    assert "completed" in result.stdout
    assert "execution" in result.stdout
    assert "2.500 s" in result.stdout
    # Streams and generators were closed in order, not left to the loop's shutdown.
    assert "asynchronous generator" not in result.stderr


def test_without_media_sends_json_and_reads_env(
    gateway: FakeGateway, url: str, workflow_file: Path
) -> None:
    env = {"COMFY_GATEWAY_URL": url, "COMFY_GATEWAY_API_KEY": "from-env"}
    result = run([str(workflow_file), "--no-wait"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == gateway.job_id
    [sent] = gateway.submits
    assert (sent.content_type, sent.authorization) == ("application/json", "Bearer from-env")
    assert sent.request == {"workflow": WORKFLOW, "priority": 0}
    assert gateway.stream_requests == []


def test_no_wait_json_prints_the_job_body(
    gateway: FakeGateway, url: str, workflow_file: Path
) -> None:
    result = run([str(workflow_file), "--no-wait", "--json", "--url", url])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == job_body(gateway.job_id, "queued")


def test_cut_stream_resumes_with_last_event_id(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id)
    gateway.script.drop_first_stream_after = 3
    result = run([str(workflow_file), "-o", str(tmp_path / "out"), "--url", url])
    assert result.exit_code == 0, result.output
    assert [last for last, _ in gateway.stream_requests] == [None, "3"]
    # Every event was shown once: none lost at the cut, none repeated after it.
    assert result.stderr.count("output 0: ComfyUI_00001_.png") == 1
    assert (tmp_path / "out" / "ComfyUI_00001_.png").read_bytes() == PNG_OUT


def test_json_wait_prints_the_final_body(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id)
    result = run([str(workflow_file), "--json", "-o", str(tmp_path), "--url", url])
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout)
    assert (final["status"], final["outputs"][0]["filename"]) == ("completed", "ComfyUI_00001_.png")


def test_failed_job_exits_1_with_code_message_and_node(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    error = {
        "code": "execution_error",
        "message": "Allocation on device",
        "node_id": "3",
        "node_type": "KSampler",
        "exception_type": "torch.OutOfMemoryError",
    }
    gateway.script = JobScript(
        events=[
            ("status", job_body(gateway.job_id, "running")),
            ("end", job_body(gateway.job_id, "failed", error=error)),
        ]
    )
    result = run([str(workflow_file), "-o", str(tmp_path / "out"), "--url", url])
    assert result.exit_code == 1, result.output
    assert "job failed: execution_error: Allocation on device (node 3, KSampler)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_cancelled_job_exits_1(gateway: FakeGateway, url: str, workflow_file: Path) -> None:
    gateway.script = JobScript(events=[("end", job_body(gateway.job_id, "cancelled"))])
    result = run([str(workflow_file), "--url", url])
    assert result.exit_code == 1, result.output
    assert "job cancelled" in result.stderr


def test_http_error_exits_2_with_our_error(
    gateway: FakeGateway, url: str, workflow_file: Path
) -> None:
    gateway.submit_error = (
        422,
        {
            "error": {
                "code": "workflow_invalid",
                "message": "Prompt outputs failed validation",
                "node_errors": {"3": {"errors": []}},
            }
        },
    )
    result = run([str(workflow_file), "--url", url])
    assert result.exit_code == 2, result.output
    assert "HTTP 422 workflow_invalid: Prompt outputs failed validation" in result.stderr
    assert gateway.stream_requests == []


def test_unreachable_api_exits_2(workflow_file: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = run([str(workflow_file), "--url", f"http://127.0.0.1:{port}"])
    assert result.exit_code == 2, result.output
    assert "ConnectError" in result.stderr


def test_sha256_mismatch_exits_2_and_keeps_nothing(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id)
    gateway.script.files = {0: PNG_OUT[:-1] + b"!"}  # same size, other bytes
    out = tmp_path / "out"
    result = run([str(workflow_file), "-o", str(out), "--url", url])
    assert result.exit_code == 2, result.output
    assert "sha256" in result.stderr
    assert list(out.iterdir()) == []


def test_hostile_output_names_stay_inside_the_folder(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id, filename="../../escape.png")
    out = tmp_path / "deep" / "out"
    result = run([str(workflow_file), "-o", str(out), "--url", url])
    assert result.exit_code == 0, result.output
    assert [path.name for path in out.iterdir()] == ["escape.png"]
    assert (
        hashlib.sha256((out / "escape.png").read_bytes()).hexdigest()
        == hashlib.sha256(PNG_OUT).hexdigest()
    )
    assert not (tmp_path / "escape.png").exists()


def test_a_symlink_planted_in_the_folder_is_not_followed(
    gateway: FakeGateway, url: str, workflow_file: Path, tmp_path: Path
) -> None:
    gateway.script = completed_script(gateway.job_id)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "ComfyUI_00001_.png").symlink_to(elsewhere / "victim.png")
    result = run([str(workflow_file), "-o", str(out), "--url", url])
    assert result.exit_code == 2, result.output
    assert "would leave" in result.stderr
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["--set", "3seed=1"], "--set"),
        (["--param", "NOPE"], "--param"),
    ],
)
def test_bad_values_are_usage_errors(
    gateway: FakeGateway, url: str, workflow_file: Path, args: list[str], hint: str
) -> None:
    result = run([str(workflow_file), *args, "--url", url])
    assert result.exit_code == 2
    assert hint in result.output
    assert gateway.submits == []


def test_workflow_that_is_not_json_is_a_usage_error(url: str, tmp_path: Path) -> None:
    path = tmp_path / "wf.json"
    path.write_text("{not json")
    result = run([str(path), "--url", url])
    assert result.exit_code == 2
    assert "not JSON" in result.output


async def _interrupted(*_: object) -> JobView:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("extra", "answer", "cancelled"),
    [
        pytest.param([], "y\n", True, id="answer-yes"),
        pytest.param([], "n\n", False, id="answer-no"),
        pytest.param([], "", False, id="no-terminal"),
        pytest.param(["--cancel-on-interrupt"], None, True, id="flag"),
    ],
)
def test_ctrl_c_while_waiting(
    *,
    gateway: FakeGateway,
    url: str,
    workflow_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    answer: str | None,
    cancelled: bool,
) -> None:
    monkeypatch.setattr(cli_submit, "follow_job", _interrupted)
    result = run([str(workflow_file), "--url", url, *extra], stdin=answer)
    assert result.exit_code == cli_submit.EXIT_INTERRUPTED, result.output
    assert gateway.cancels == ([gateway.job_id] if cancelled else [])
    expected = "cancel requested for job" if cancelled else f"job {gateway.job_id} keeps running"
    assert expected in result.stderr
