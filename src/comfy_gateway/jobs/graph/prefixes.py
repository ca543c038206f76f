"""Giving every job its own output folder through the save nodes' ``filename_prefix``.

ComfyUI turns a prefix with slashes into a subfolder of its output directory
(``"video/clip"`` → subfolder ``video``, file ``clip_00001_.mp4``), so rewriting every
prefix to ``comfy-gateway/<job_id>/<original>`` keeps jobs apart and makes cleanup one
folder. The client never sees the added part: :func:`strip_job_prefix` removes it from the
subfolder ComfyUI reports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comfy_gateway.jobs.domain_errors import UnsafeFilenamePrefix
from comfy_gateway.jobs.graph.values import Graph, copy_json_value, input_where, map_input_values

#: The folder under ComfyUI's input and output directories that belongs to the gateway.
GATEWAY_FOLDER = "comfy-gateway"
PREFIX_INPUT = "filename_prefix"

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True, kw_only=True)
class PrefixRewrite:
    """One save node's prefix before and after the rewrite."""

    node_id: str
    original: str
    rewritten: str


def job_output_folder(job_id: str) -> str:
    """The subfolder of ComfyUI's output directory that holds one job's files."""
    return f"{GATEWAY_FOLDER}/{job_id}"


def rewrite_filename_prefixes(
    graph: Mapping[str, Mapping[str, Any]], job_id: str
) -> tuple[Graph, dict[str, PrefixRewrite]]:
    """A copy of ``graph`` with every literal ``filename_prefix`` moved under the job folder.

    A prefix that is a link (fed by another node) cannot be checked or moved and is left
    as it is; it is not in the returned mapping. A prefix with a ``..`` segment, an
    absolute path or control characters raises :class:`UnsafeFilenamePrefix`.
    """
    rewrites: dict[str, PrefixRewrite] = {}

    def rewrite(node_id: str, name: str, value: Any) -> Any:
        if name != PREFIX_INPUT or not isinstance(value, str):
            return copy_json_value(value, where=input_where(node_id, name))
        _check_prefix(node_id, value)
        rewritten = f"{job_output_folder(job_id)}/{value}"
        rewrites[node_id] = PrefixRewrite(node_id=node_id, original=value, rewritten=rewritten)
        return rewritten

    return map_input_values(graph, rewrite), rewrites


def strip_job_prefix(subfolder: str, job_id: str) -> str:
    """The subfolder as the client wrote it: ``comfy-gateway/<job>/video`` → ``video``.

    ComfyUI builds the subfolder with the OS's separator, so a Windows backend reports
    backslashes; both are accepted. A subfolder outside the job folder is returned as is.
    """
    normalised = subfolder.replace("\\", "/")
    folder = job_output_folder(job_id)
    if normalised == folder:
        return ""
    if normalised.startswith(f"{folder}/"):
        return normalised[len(folder) + 1 :]
    return subfolder


def _check_prefix(node_id: str, prefix: str) -> None:
    if any(ord(char) < 32 or ord(char) == 127 for char in prefix):
        raise UnsafeFilenamePrefix(node_id, prefix, "contains control characters")
    if prefix.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(prefix):
        raise UnsafeFilenamePrefix(node_id, prefix, "is an absolute path")
    if ".." in re.split(r"[/\\]", prefix):
        raise UnsafeFilenamePrefix(node_id, prefix, "has a '..' segment")
