"""Turning ComfyUI's ``executed`` UI dicts into the job's ordered list of outputs.

Outputs are exactly the file entries of this prompt's ``executed`` events (or of
``/history``), never a folder scan. Any UI key whose value is a list of
``{"filename", "subfolder", "type"}`` objects counts (``images``, ``gifs``, ``audio``,
``3d``, custom nodes' own keys); ``{"text": [...]}`` becomes inline ``text/plain`` outputs.

The kind comes from the file, never from the UI key: ComfyUI reports SaveVideo results
under ``images`` with ``animated: [true]``, and an ``.mp4`` is a video. Animated WebP and
GIF files stay ``image`` (they are image formats, served as ``image/webp``/``image/gif``);
``animated`` is ignored.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from comfy_gateway.jobs.graph.prefixes import strip_job_prefix

OutputKind = Literal["image", "video", "audio", "3d", "text", "file"]
TEXT_UI_KEY = "text"
#: ``input`` entries name files the prompt read, not results; other types are unknown.
_COLLECTED_TYPES = frozenset({"output", "temp"})

#: Our own table first, so the answer does not depend on the host's mime.types.
_CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "avi": "video/x-msvideo",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "glb": "model/gltf-binary",
    "gltf": "model/gltf+json",
    "obj": "model/obj",
    "ply": "application/octet-stream",
    "splat": "application/octet-stream",
    "spz": "application/octet-stream",
    "txt": "text/plain",
    "json": "application/json",
}
_3D_EXTENSIONS = frozenset({"glb", "gltf", "obj", "ply", "splat", "spz", "stl", "fbx", "usdz"})
_KIND_OF_MAJOR_TYPE: dict[str, OutputKind] = {"image": "image", "video": "video", "audio": "audio"}
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, kw_only=True)
class OutputEntry:
    """One output of a job, in the order ComfyUI reported it.

    ``filename``, ``subfolder`` and ``type`` are ComfyUI's (what ``/view`` needs);
    ``client_subfolder`` is the subfolder without the job folder the gateway added.
    ``text`` is set only for text outputs, which have no file on the backend.
    """

    index: int
    node_id: str
    filename: str
    subfolder: str
    type: str
    kind: OutputKind
    content_type: str
    temporary: bool
    client_subfolder: str
    text: str | None = None


def collect_output_entries(
    executed_uis: Iterable[tuple[str, Mapping[str, Any]]], *, job_id: str | None = None
) -> list[OutputEntry]:
    """The job's outputs from ``(node_id, ui_dict)`` pairs in event order.

    ``temp`` files (previews) are skipped unless no ``output`` file exists, then listed with
    ``temporary=True``; text outputs do not count as files for that rule. A file reported
    twice (a cached node re-sends its UI) is listed once. Indexes are 0-based, in order.
    """
    found = [entry for node_id, ui in executed_uis for entry in _entries_of(node_id, ui, job_id)]
    found = _without_duplicates(found)
    has_output_file = any(entry.type == "output" for entry in found)
    kept = [entry for entry in found if entry.type != "temp" or not has_output_file]
    return [
        replace(entry, index=index, temporary=entry.type == "temp")
        for index, entry in enumerate(kept)
    ]


def output_content_type(filename: str) -> str:
    """The content type of an output file, from its extension."""
    ext = _extension(filename)
    known = _CONTENT_TYPES.get(ext)
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(f"file.{ext}", strict=False) if ext else (None, None)
    return guessed or "application/octet-stream"


def output_kind(filename: str, content_type: str) -> OutputKind:
    """What the file is: by extension for 3D, else by the content type's major type."""
    if _extension(filename) in _3D_EXTENSIONS:
        return "3d"
    return _KIND_OF_MAJOR_TYPE.get(content_type.split("/", 1)[0], "file")


def storage_key(tenant: str, job_id: str, index: int, filename: str) -> str:
    """``{tenant}/{job_id}/{index}-{filename}``, with the filename made safe for any store."""
    return f"{tenant}/{job_id}/{index}-{safe_file_name(filename)}"


def safe_file_name(filename: str) -> str:
    """A name with only ``A-Z a-z 0-9 . _ -``, no leading dot, at most 200 characters."""
    cleaned = _UNSAFE_NAME_CHARACTERS.sub("_", filename).lstrip(".")[:200]
    return cleaned or "output"


def _entries_of(node_id: str, ui: Mapping[str, Any], job_id: str | None) -> list[OutputEntry]:
    entries: list[OutputEntry] = []
    for key, value in ui.items():
        if not isinstance(value, list):
            continue
        if key == TEXT_UI_KEY:
            entries.extend(_text_entries(node_id, value))
        else:
            entries.extend(_file_entries(node_id, value, job_id))
    return entries


def _file_entries(node_id: str, items: list[Any], job_id: str | None) -> list[OutputEntry]:
    entries = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        filename, subfolder = item.get("filename"), item.get("subfolder", "")
        kind = item.get("type", "output")
        if not (isinstance(filename, str) and filename and isinstance(subfolder, str)):
            continue
        if kind in _COLLECTED_TYPES:
            entries.append(_file_entry(node_id, filename, subfolder, kind, job_id))
    return entries


def _file_entry(
    node_id: str, filename: str, subfolder: str, kind: str, job_id: str | None
) -> OutputEntry:
    content_type = output_content_type(filename)
    return OutputEntry(
        index=-1,
        node_id=node_id,
        filename=filename,
        subfolder=subfolder,
        type=kind,
        kind=output_kind(filename, content_type),
        content_type=content_type,
        temporary=kind == "temp",
        client_subfolder=strip_job_prefix(subfolder, job_id) if job_id else subfolder,
    )


def _text_entries(node_id: str, items: list[Any]) -> list[OutputEntry]:
    texts = [item for item in items if isinstance(item, str)]
    return [
        OutputEntry(
            index=-1,
            node_id=node_id,
            filename=f"text_{safe_file_name(node_id)}_{position}.txt",
            subfolder="",
            type="text",
            kind="text",
            content_type="text/plain; charset=utf-8",
            temporary=False,
            client_subfolder="",
            text=text,
        )
        for position, text in enumerate(texts)
    ]


def _without_duplicates(entries: list[OutputEntry]) -> list[OutputEntry]:
    seen: set[tuple[str, ...]] = set()
    unique = []
    for entry in entries:
        identity = _identity(entry)
        if identity not in seen:
            seen.add(identity)
            unique.append(entry)
    return unique


def _identity(entry: OutputEntry) -> tuple[str, ...]:
    # Text has no file: the same text from the same node re-sent from the cache is one output.
    if entry.text is not None:
        return ("text", entry.node_id, entry.filename, entry.text)
    return (entry.filename, entry.subfolder, entry.type)


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[1].lower() if "." in filename else ""
