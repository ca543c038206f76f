"""Launch commands, folders, templates and --gpus parsing (no process started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_gateway.errors import ConfigError
from comfy_gateway.supervisor.launch import (
    BackendFolders,
    LaunchSpec,
    build_launch,
    check_comfy_path,
    parse_gpus,
    work_dir_for,
)

FOLDERS = BackendFolders(work_dir=Path("/data/comfyui-gpu1"))


def test_comfy_path_runs_main_py_in_the_checkout_with_our_folders() -> None:
    spec = LaunchSpec(comfy_path=Path("/opt/ComfyUI"), python="/venv/bin/python")
    launch = build_launch(spec, port=8190, folders=FOLDERS, gpu="1")
    assert launch.argv == (
        "/venv/bin/python",
        "main.py",
        "--listen",
        "127.0.0.1",
        "--port",
        "8190",
        "--output-directory",
        "/data/comfyui-gpu1/output",
        "--temp-directory",
        "/data/comfyui-gpu1/temp",
    )
    assert launch.cwd == Path("/opt/ComfyUI")
    assert launch.env["CUDA_VISIBLE_DEVICES"] == "1"
    assert launch.env["PYTHONUNBUFFERED"] == "1"


def test_template_fills_every_placeholder_word_by_word() -> None:
    template = "sim --port {port} --host {host} --out '{output_dir}' --tmp={temp_dir} {data_dir}"
    launch = build_launch(LaunchSpec(comfy_cmd=template), port=9000, folders=FOLDERS, gpu=None)
    assert launch.argv == (
        "sim",
        "--port",
        "9000",
        "--host",
        "127.0.0.1",
        "--out",
        "/data/comfyui-gpu1/output",
        "--tmp=/data/comfyui-gpu1/temp",
        "/data/comfyui-gpu1/data",
    )
    assert launch.cwd is None
    assert "CUDA_VISIBLE_DEVICES" not in launch.env


def test_a_folder_with_spaces_stays_one_argument() -> None:
    folders = BackendFolders(work_dir=Path("/my data/gpu 0"))
    launch = build_launch(
        LaunchSpec(comfy_cmd="sim {port} {data_dir}"), port=1, folders=folders, gpu="0"
    )
    assert launch.argv[-1] == "/my data/gpu 0/data"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("sim --port 8188", r"must contain \{port\}"),
        ("sim --port {port} --model {model}", "unknown placeholders"),
        ("sim --port {port", "not a valid template"),
    ],
)
def test_bad_templates_are_refused(template: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LaunchSpec(comfy_cmd=template)


def test_exactly_one_way_to_launch() -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        LaunchSpec()
    with pytest.raises(ConfigError, match="exactly one"):
        LaunchSpec(comfy_path=Path("/opt/ComfyUI"), comfy_cmd="sim {port}")


def test_comfy_path_must_hold_main_py(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no main\.py"):
        check_comfy_path(tmp_path)
    (tmp_path / "main.py").write_text("")
    check_comfy_path(tmp_path)


def test_folders_are_created_under_the_work_dir(tmp_path: Path) -> None:
    folders = BackendFolders(work_dir=tmp_path / "b")
    folders.create()
    assert folders.output_dir.is_dir()
    assert folders.temp_dir.is_dir()
    assert folders.data_dir.is_dir()
    assert folders.pidfile.parent == tmp_path / "b"


@pytest.mark.parametrize(
    ("text", "gpus"), [(None, [None]), ("", [None]), ("0", ["0"]), ("0, 1", ["0", "1"])]
)
def test_parse_gpus(text: str | None, gpus: list[str | None]) -> None:
    assert parse_gpus(text) == gpus


@pytest.mark.parametrize("text", ["0,,1", "0,0"])
def test_parse_gpus_refuses_empty_or_repeated_ids(text: str) -> None:
    with pytest.raises(ConfigError, match="distinct"):
        parse_gpus(text)


def test_each_gpu_gets_its_own_work_dir() -> None:
    base = Path("/data")
    assert work_dir_for(base, None) == Path("/data/comfyui")
    assert work_dir_for(base, "0") != work_dir_for(base, "1")
