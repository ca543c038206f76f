"""One backend's verdict on a graph at submit time, refetching a stale list at most once.

The API process may not reach ComfyUI: a backend we cannot ask about a stale list is
*undecided* (None), and the caller accepts the job rather than refuse good work.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from comfy_gateway.comfy import ComfyHttpClient, ComfyTimeouts, backend_slug
from comfy_gateway.errors import ComfyError
from comfy_gateway.validation.check_result import CheckResult
from comfy_gateway.validation.graph_checker import check_graph
from comfy_gateway.validation.node_catalogue import NodeCatalogue
from comfy_gateway.validation.refetch import check_graph_with_refetch

#: A refetch happens inside a client's submit: a backend slower than this is undecided.
REFETCH_TIMEOUTS = ComfyTimeouts(connect=2.0, read=10.0, write=10.0, pool=2.0)


async def backend_verdict(
    graph: Mapping[str, Any],
    catalogue: NodeCatalogue,
    url: str | None,
    *,
    media_names: Collection[str] = frozenset(),
) -> CheckResult | None:
    """The check on ``catalogue``; None when a stale list could not be refetched."""
    first = check_graph(graph, catalogue, media_names=media_names)
    if first.ok or not first.stale_classes or url is None:
        return first
    http = ComfyHttpClient(url, backend=backend_slug(url), timeouts=REFETCH_TIMEOUTS)
    try:
        checked = await check_graph_with_refetch(graph, catalogue, http, media_names=media_names)
    except ComfyError:
        return None
    finally:
        await http.aclose()
    return checked.result
