"""Resolving a client-given template path inside the configured folders, and nowhere else.

A client path is refused (:class:`TemplatePathRefused`, 403) when, after undoing any
percent-encoding, it is absolute, names a drive, holds a NUL or a ``..`` segment, or when
the real file it resolves to (symlinks followed) lies outside every folder. Checking the
resolved path is what catches symlinks; checking the text first keeps ``..`` out of error
paths and logs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote

from comfy_gateway.templates.errors import TemplateNotFound, TemplatePathRefused

_DRIVE = re.compile(r"[A-Za-z]:")
#: Enough rounds to undo double and triple encoding (``%252e``) without looping forever.
_MAX_UNQUOTE_ROUNDS = 4


def fully_unquoted(text: str) -> str:
    """``text`` with percent-encoding undone until it no longer changes."""
    for _ in range(_MAX_UNQUOTE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    raise TemplatePathRefused(text, "too many layers of percent-encoding")


def check_relative_path(raw: str) -> str:
    """The decoded relative path, if its text alone cannot leave a folder."""
    path = fully_unquoted(raw)
    if not path or "\x00" in path:
        raise TemplatePathRefused(raw, "empty or holds a NUL character")
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise TemplatePathRefused(raw, "absolute paths are not allowed")
    if ".." in re.split(r"[/\\]", path):
        raise TemplatePathRefused(raw, "'..' is not allowed")
    return path.replace("\\", "/")


def resolve_in_folders(raw: str, folders: Sequence[Path]) -> Path:
    """The real path of ``raw`` inside the first folder that holds it.

    :class:`TemplateNotFound` when no folder has the file; :class:`TemplatePathRefused`
    when the text or the resolved file escapes the folders.
    """
    relative = check_relative_path(raw)
    for folder in folders:
        candidate = folder / relative
        if not candidate.exists():
            continue
        resolved = candidate.resolve()
        if not is_inside(resolved, folder):
            raise TemplatePathRefused(raw, "it resolves outside the template folders")
        if resolved.is_file():
            return resolved
    raise TemplateNotFound(relative)


def is_inside(path: Path, folder: Path) -> bool:
    """Whether resolved ``path`` lies within ``folder`` (itself resolved here)."""
    return path.is_relative_to(folder.resolve())
