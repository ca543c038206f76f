"""Submit-time validation: refuse a graph that no configured backend's catalogue accepts.

The verdict per backend comes from its cached catalogue. A value missing from a cached
combo list (a model installed since) is re-checked once against that backend's
``/object_info/{class}``. The API process may not reach ComfyUI: a backend we cannot ask
then counts as *undecided* and the job is accepted; the worker validates before queueing
(ComfyUI's own 400 fails the job ``workflow_invalid``). We refuse only on certain errors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from comfy_gateway.api.context import ApiContext
from comfy_gateway.jobs.domain_errors import GraphEditError
from comfy_gateway.validation import CheckResult, GraphRequirements, check_graph
from comfy_gateway.validation.backend_verdict import backend_verdict
from comfy_gateway.validation.catalogue_files import CatalogueFiles, catalogue_name

_CATALOGUES_KEY = "catalogue_files"


class WorkflowRejected(GraphEditError):
    """No configured backend would run the graph: ComfyUI's own error, per node."""

    code = "workflow_invalid"

    def __init__(self, result: CheckResult) -> None:
        error = result.error or {}
        super().__init__(
            _describe(error, result.node_errors),
            comfy_type=error.get("type"),
            node_errors=result.node_errors,
        )


def catalogue_files(context: ApiContext) -> CatalogueFiles:
    """The app's one reader of saved catalogues (made on first use)."""
    files = context.extra.get(_CATALOGUES_KEY)
    if not isinstance(files, CatalogueFiles):
        settings = context.settings
        files = CatalogueFiles(
            settings.data_dir, backends=settings.comfy_urls, stand_in=settings.catalogue_file
        )
        context.extra[_CATALOGUES_KEY] = files
    return files


async def validate_graph(
    context: ApiContext, graph: Mapping[str, Any], media_names: Collection[str]
) -> GraphRequirements | None:
    """The graph's requirements, None with no catalogue; WorkflowRejected if none runs it."""
    catalogues = catalogue_files(context).current()
    urls = {catalogue_name(url): url for url in context.settings.comfy_urls}
    refused: CheckResult | None = None
    for name, catalogue in catalogues.items():
        result = await backend_verdict(graph, catalogue, urls.get(name), media_names=media_names)
        if result is None or result.ok:
            return (result or check_graph(graph, catalogue, media_names=media_names)).requirements
        refused = refused or result
    if refused is None:
        return None
    raise WorkflowRejected(refused)


def _describe(error: Mapping[str, Any], node_errors: Mapping[str, Any]) -> str:
    """ComfyUI's message, then the first failing node and input, so a person can act."""
    headline = str(error.get("message") or "the workflow failed validation")
    for node_id, entry in sorted(node_errors.items()):
        first = (entry.get("errors") or [{}])[0] if isinstance(entry, dict) else {}
        field = (first.get("extra_info") or {}).get("input_name")
        where = f"node {node_id!r} ({entry.get('class_type')})"
        where += f" input {field!r}" if field else ""
        reason = ": ".join(
            str(part) for part in (first.get("message"), first.get("details")) if part
        )
        return f"{headline}; {where}: {reason}"
    return f"{headline}: {error.get('details') or ''}".rstrip(": ")
