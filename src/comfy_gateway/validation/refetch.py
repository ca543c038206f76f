"""Re-check a graph after fetching the classes whose cached lists may be out of date.

Models are installed and files uploaded while the gateway runs, so a value missing from
a cached combo list is not yet a reason to refuse: fetch ``/object_info/{class}`` once
for each such class, then check again with the fresh definitions.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.validation.check_result import CheckResult
from comfy_gateway.validation.graph_checker import check_graph
from comfy_gateway.validation.node_catalogue import NodeCatalogue


@dataclass(frozen=True, kw_only=True)
class RefetchedCheck:
    """The final result and the catalogue it was made with (refreshed if we refetched)."""

    result: CheckResult
    catalogue: NodeCatalogue
    refetched_classes: frozenset[str]


async def check_graph_with_refetch(
    graph: Any,
    catalogue: NodeCatalogue,
    http: ComfyHttpClient,
    *,
    media_names: Collection[str] = frozenset(),
) -> RefetchedCheck:
    """Check; if a cached list may be stale, refetch those classes once and check again.

    Errors talking to the backend (``ComfyError``) propagate: the caller decides whether
    an unreachable backend means "wait" or "refuse".
    """
    first = check_graph(graph, catalogue, media_names=media_names)
    if first.ok or not first.stale_classes:
        return RefetchedCheck(result=first, catalogue=catalogue, refetched_classes=frozenset())
    fresh = catalogue
    for class_type in sorted(first.stale_classes):
        fresh = fresh.with_classes(await http.object_info_raw(class_type))
    second = check_graph(graph, fresh, media_names=media_names)
    return RefetchedCheck(result=second, catalogue=fresh, refetched_classes=first.stale_classes)
