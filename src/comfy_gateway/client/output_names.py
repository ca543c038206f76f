"""Local file names for a job's outputs (pure).

The name comes from the output's ``filename``, which the server got from ComfyUI; it is
treated as untrusted: only its last path component is kept, characters no file system
accepts become ``_``, leading dots go (no hidden files, no ``..``), reserved Windows
device names get a prefix and the length stays under common limits. Whatever comes in,
the result is a single plain component, so a download can never land outside its folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from comfy_gateway.client.errors import UnsafeOutputPath
from comfy_gateway.client.job_view import OutputView

MAX_NAME_BYTES = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*\\/]')
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in range(1, 10)}
    | {f"lpt{n}" for n in range(1, 10)}
)


def safe_output_filename(filename: str, index: int) -> str:
    """A single safe path component for ``filename``; ``output-<index>`` if none is left."""
    last = PurePosixPath(filename.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", last).strip(" .")
    if cleaned.split(".")[0].lower() in _WINDOWS_DEVICES:
        cleaned = f"_{cleaned}"
    cleaned = _shorten(cleaned)
    return cleaned or f"output-{index}"


def _shorten(name: str) -> str:
    """Cut the stem (never the extension) until the UTF-8 name fits ``MAX_NAME_BYTES``."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 16:
        stem, suffix = name, ""
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8")) - (1 if suffix else 0)
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore").rstrip(" .")
    return f"{cut}.{suffix}" if suffix else cut


def output_file_names(outputs: Iterable[OutputView]) -> dict[int, str]:
    """A distinct local name per output index; names that collide (after cleaning, or
    case-insensitively) are prefixed with their index."""
    names = {item.index: safe_output_filename(item.filename, item.index) for item in outputs}
    folded = [name.casefold() for name in names.values()]
    return {
        index: name if folded.count(name.casefold()) == 1 else f"{index}-{name}"
        for index, name in names.items()
    }


def path_inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing anything that would resolve outside ``folder``."""
    root = folder.resolve()
    target = (root / name).resolve()
    if target.parent != root:
        raise UnsafeOutputPath(f"output name {name!r} would leave {root}")
    return target
