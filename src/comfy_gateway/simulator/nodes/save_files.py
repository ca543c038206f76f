"""Where output nodes write: ComfyUI's `prefix_00001_.ext` counter and folder rules.

A prefix may hold a subfolder (`video/clip`); one that escapes the output folder is
refused with the exact message ComfyUI raises, as a plain `Exception` (scenario c2).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_DATE_FIELDS: dict[str, Callable[[time.struct_time], str]] = {
    "%year%": lambda now: str(now.tm_year),
    "%month%": lambda now: str(now.tm_mon).zfill(2),
    "%day%": lambda now: str(now.tm_mday).zfill(2),
    "%hour%": lambda now: str(now.tm_hour).zfill(2),
    "%minute%": lambda now: str(now.tm_min).zfill(2),
    "%second%": lambda now: str(now.tm_sec).zfill(2),
}


@dataclass(frozen=True, kw_only=True)
class SaveTarget:
    """The folder, base name, first free counter and subfolder of one save."""

    folder: Path
    filename: str
    counter: int
    subfolder: str

    def file_name(self, extension: str, offset: int = 0) -> str:
        """`name_00001_.ext` for the `offset`-th file of this save."""
        return f"{self.filename}_{self.counter + offset:05}_.{extension}"

    def path(self, extension: str, offset: int = 0) -> Path:
        return self.folder / self.file_name(extension, offset)

    def result(self, extension: str, offset: int, folder_type: str) -> dict[str, str]:
        """The `{"filename", "subfolder", "type"}` entry a UI output lists."""
        name = self.file_name(extension, offset)
        return {"filename": name, "subfolder": self.subfolder, "type": folder_type}


def expand_prefix_variables(prefix: str, width: int, height: int) -> str:
    """Replace `%width%`, `%height%` and the date fields as ComfyUI does."""
    expanded = prefix.replace("%width%", str(width)).replace("%height%", str(height))
    now = time.localtime()
    for field, render in _DATE_FIELDS.items():
        expanded = expanded.replace(field, render(now))
    return expanded


def save_target(prefix: str, output_dir: Path, width: int = 0, height: int = 0) -> SaveTarget:
    """Resolve a filename prefix to a save target (creating the folder when missing)."""
    if "%" in prefix:
        prefix = expand_prefix_variables(prefix, width, height)
    normalized = os.path.normpath(prefix)
    subfolder = os.path.dirname(normalized)
    filename = os.path.basename(normalized)
    root = os.path.abspath(output_dir)
    folder = os.path.abspath(os.path.join(root, subfolder))
    _refuse_escape(folder, root)
    os.makedirs(folder, exist_ok=True)
    counter = next_counter(Path(folder), filename)
    return SaveTarget(folder=Path(folder), filename=filename, counter=counter, subfolder=subfolder)


def next_counter(folder: Path, filename: str) -> int:
    """One past the highest counter among `filename_NNNNN…` files in `folder` (else 1)."""
    prefix_length = len(filename)
    counters = [
        _counter_of(name, prefix_length)
        for name in os.listdir(folder)
        if os.path.normcase(name[:prefix_length]) == os.path.normcase(filename)
        and name[prefix_length : prefix_length + 1] == "_"
    ]
    return max(counters, default=0) + 1


def _counter_of(name: str, prefix_length: int) -> int:
    # A name like `t_abc.png` still matches the prefix; ComfyUI counts it as 0.
    try:
        return int(name[prefix_length + 1 :].split("_", maxsplit=1)[0])
    except ValueError:
        return 0


def _refuse_escape(folder: str, root: str) -> None:
    common = os.path.commonpath((root, folder))
    if common != root:
        raise Exception(
            "**** ERROR: Saving image outside the output folder is not allowed."
            f"\n full_output_folder: {folder}"
            f"\n         output_dir: {root}"
            f"\n         commonpath: {common}"
        )
