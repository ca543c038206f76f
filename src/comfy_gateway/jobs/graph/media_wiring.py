"""Wiring submitted media into the graph by name.

A string input whose whole value equals a media item's name (``"input.png"``) is replaced
by the item's stored reference (``"comfy-gateway/<sha256>.png"``). Only direct input
values are compared, never text inside lists or longer strings, so a prompt that mentions
``input.png`` stays as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.jobs.domain_errors import UnreferencedMedia
from comfy_gateway.jobs.graph.values import Graph, copy_json_value, input_where, map_input_values


def wire_media(
    graph: Mapping[str, Mapping[str, Any]],
    media_refs: Mapping[str, str],
    *,
    require_all: bool = True,
) -> tuple[Graph, frozenset[str]]:
    """A copy of ``graph`` with media names replaced by references, and the names used.

    With ``require_all`` a media item that no input names raises :class:`UnreferencedMedia`:
    it is almost always a typo, and uploading it would waste the backend's disk.
    """
    used: set[str] = set()

    def wire(node_id: str, name: str, value: Any) -> Any:
        if isinstance(value, str) and value in media_refs:
            used.add(value)
            return media_refs[value]
        return copy_json_value(value, where=input_where(node_id, name))

    edited = map_input_values(graph, wire)
    if require_all and (unused := set(media_refs) - used):
        raise UnreferencedMedia(unused)
    return edited, frozenset(used)
