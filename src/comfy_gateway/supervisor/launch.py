"""How to launch one supervised ComfyUI: its command line, folders and environment (pure).

Two ways, as the CLI offers them:

- ``--comfy-path DIR``: ``python main.py --listen HOST --port N --output-directory …
  --temp-directory …`` run in DIR;
- ``--comfy-cmd TEMPLATE``: any command with ``{port}`` (and optionally ``{host}``,
  ``{output_dir}``, ``{temp_dir}``, ``{data_dir}``, ``{gpu}``), e.g. the simulator:
  ``comfy-gateway simulate --port {port} --data-dir {data_dir}``.
"""

from __future__ import annotations

import shlex
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from comfy_gateway.errors import ConfigError

TEMPLATE_FIELDS = frozenset({"port", "host", "output_dir", "temp_dir", "data_dir", "gpu"})
PIDFILE_NAME = "comfyui.pid"


@dataclass(frozen=True, kw_only=True)
class LaunchSpec:
    """What to run: either a ComfyUI checkout (``comfy_path``) or a command template."""

    comfy_path: Path | None = None
    comfy_cmd: str | None = None
    python: str = sys.executable
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if (self.comfy_path is None) == (self.comfy_cmd is None):
            raise ConfigError("give exactly one of --comfy-path or --comfy-cmd")
        if self.comfy_cmd is not None:
            check_template(self.comfy_cmd)


@dataclass(frozen=True, kw_only=True)
class BackendFolders:
    """The folders one supervised ComfyUI owns, all under its ``work_dir``."""

    work_dir: Path

    @property
    def output_dir(self) -> Path:
        return self.work_dir / "output"

    @property
    def temp_dir(self) -> Path:
        return self.work_dir / "temp"

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def pidfile(self) -> Path:
        return self.work_dir / PIDFILE_NAME

    def create(self) -> None:
        for folder in (self.output_dir, self.temp_dir, self.data_dir):
            folder.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True, kw_only=True)
class LaunchCommand:
    """A resolved launch: argv, working directory and extra environment variables."""

    argv: tuple[str, ...]
    cwd: Path | None
    env: Mapping[str, str]


def check_template(template: str) -> None:
    """Refuse a ``--comfy-cmd`` without ``{port}`` or with a placeholder we do not fill."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"--comfy-cmd {template!r} is not a valid template: {exc}") from exc
    unknown = names - TEMPLATE_FIELDS
    if unknown:
        known = ", ".join("{" + name + "}" for name in sorted(TEMPLATE_FIELDS))
        raise ConfigError(
            f"--comfy-cmd uses unknown placeholders {sorted(unknown)}; known: {known}"
        )
    if "port" not in names:
        raise ConfigError("--comfy-cmd must contain {port}: the supervisor picks the port")
    if not shlex.split(template):
        raise ConfigError("--comfy-cmd is empty")


def template_values(
    *, host: str, port: int, folders: BackendFolders, gpu: str | None
) -> dict[str, str]:
    return {
        "port": str(port),
        "host": host,
        "output_dir": str(folders.output_dir),
        "temp_dir": str(folders.temp_dir),
        "data_dir": str(folders.data_dir),
        "gpu": gpu or "",
    }


def comfy_checkout_argv(spec: LaunchSpec, *, port: int, folders: BackendFolders) -> list[str]:
    # ComfyUI's own flags (comfy/cli_args.py): it writes outputs and temp files where told.
    return [
        spec.python,
        "main.py",
        "--listen",
        spec.host,
        "--port",
        str(port),
        "--output-directory",
        str(folders.output_dir),
        "--temp-directory",
        str(folders.temp_dir),
    ]


def gpu_environment(gpu: str | None) -> dict[str, str]:
    # Unbuffered so the log tail shows lines as they are written, not at exit.
    env = {"PYTHONUNBUFFERED": "1"}
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    return env


def build_launch(
    spec: LaunchSpec, *, port: int, folders: BackendFolders, gpu: str | None
) -> LaunchCommand:
    """The command that starts this backend on ``port``."""
    env = gpu_environment(gpu)
    if spec.comfy_path is not None:
        argv = comfy_checkout_argv(spec, port=port, folders=folders)
        return LaunchCommand(argv=tuple(argv), cwd=spec.comfy_path, env=env)
    assert spec.comfy_cmd is not None  # __post_init__ guarantees one of the two
    values = template_values(host=spec.host, port=port, folders=folders, gpu=gpu)
    # Split first, then fill each word, so a path with spaces stays one argument.
    argv = [word.format(**values) for word in shlex.split(spec.comfy_cmd)]
    return LaunchCommand(argv=tuple(argv), cwd=None, env=env)


def check_comfy_path(path: Path) -> None:
    """Refuse a ``--comfy-path`` that is not a ComfyUI checkout (no main.py)."""
    if not (path / "main.py").is_file():
        raise ConfigError(f"--comfy-path {path} has no main.py; is it a ComfyUI checkout?")


def parse_gpus(text: str | None) -> list[str | None]:
    """``"0,1"`` → ``["0", "1"]`` (one backend each); nothing → one backend, no pinning."""
    if text is None or not text.strip():
        return [None]
    gpus = [part.strip() for part in text.split(",")]
    if any(not gpu for gpu in gpus) or len(set(gpus)) != len(gpus):
        raise ConfigError(f"--gpus {text!r}: give distinct device ids separated by commas")
    return list(gpus)


def work_dir_for(base: Path, gpu: str | None) -> Path:
    """Each backend's own folder under the gateway's data dir."""
    return base / ("comfyui" if gpu is None else f"comfyui-gpu{gpu}")
