"""Finding input files the way ComfyUI's `get_annotated_filepath` does, and hashing them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from comfy_gateway.simulator.nodes.context import NodeContext

_ANNOTATIONS = ("input", "output", "temp")


def split_annotation(name: str) -> tuple[str, str | None]:
    """`"a.png [output]"` → `("a.png", "output")`; no annotation → `(name, None)`."""
    for folder_type in _ANNOTATIONS:
        suffix = f" [{folder_type}]"
        if name.endswith(suffix):
            return name[: -len(suffix)], folder_type
    return name, None


def resolve_input_file(name: str, default_dir: Path, ctx: NodeContext | None = None) -> Path:
    """The file a loader node reads: `sub/name.png`, `name.png [input|output|temp]`."""
    relative, folder_type = split_annotation(name)
    base = _base_folder(folder_type, default_dir, ctx)
    path = (base / relative).resolve()
    # Never read outside the folder, whatever the name says.
    if not path.is_relative_to(base.resolve()):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{base / relative}'")
    return path


def _base_folder(folder_type: str | None, default_dir: Path, ctx: NodeContext | None) -> Path:
    if ctx is None or folder_type is None:
        return default_dir
    folders = {"input": ctx.input_dir, "output": ctx.output_dir, "temp": ctx.temp_dir}
    return folders[folder_type]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_file_fingerprint(name: object, input_dir: Path) -> str | None:
    """The IS_CHANGED key of a loader: the file's hash (None when there is no file)."""
    if not isinstance(name, str):
        return None
    try:
        path = resolve_input_file(name, input_dir)
    except FileNotFoundError:
        return None
    return file_sha256(path) if path.is_file() else None
