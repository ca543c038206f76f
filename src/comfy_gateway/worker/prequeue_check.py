"""The worker's own validation of a graph right before ``POST /prompt``.

A job accepted while no catalogue was known carries no requirements; the worker checks
it against the chosen backend's catalogue before anything is sent, so a refused graph
fails ``workflow_invalid`` without an upload, an attempt or a trip through ComfyUI (a
job with requirements was checked when it was submitted and placed on a backend that
meets them: it is not checked twice). A value missing from a cached combo list is
refetched once from that backend (a model may have been installed since). With no
catalogue, or when the refetch itself fails, the job goes on and ComfyUI's own 400
decides.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from comfy_gateway.errors import ComfyError
from comfy_gateway.jobs.graph import GATEWAY_FOLDER
from comfy_gateway.jobs.model import JobError, MediaRef
from comfy_gateway.validation import CheckResult, check_graph_with_refetch
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.capabilities import BackendCatalogues

logger = logging.getLogger(__name__)


class PrequeueRefused(Exception):
    """The chosen backend's catalogue refuses the graph; ``error`` is the job's error."""

    def __init__(self, error: JobError) -> None:
        super().__init__(error.message)
        self.error = error


def wired_media_names(media: Iterable[MediaRef]) -> frozenset[str]:
    """The graph values the job's media items were wired to (``comfy-gateway/<file>``)."""
    return frozenset(f"{GATEWAY_FOLDER}/{ref.filename}" for ref in media)


async def prequeue_refusal(
    graph: Mapping[str, Any],
    backend: Backend,
    catalogues: BackendCatalogues | None,
    media: Iterable[MediaRef],
) -> JobError | None:
    """The job's error when ``backend`` cannot run ``graph``; None to go on and queue it."""
    catalogue = None if catalogues is None else catalogues.cache.get(backend.url)
    if catalogues is None or catalogue is None:
        return None
    try:
        checked = await check_graph_with_refetch(
            graph, catalogue, backend.http, media_names=wired_media_names(media)
        )
    except ComfyError as exc:  # cannot refetch: ComfyUI's own validation decides
        logger.warning("pre-queue check on %s undecided: %s", backend.url, exc)
        return None
    if checked.refetched_classes:
        catalogues.cache.put(backend.url, checked.catalogue)  # keep the fresher lists
    return None if checked.result.ok else refusal_error(checked.result)


def refusal_error(result: CheckResult) -> JobError:
    """ComfyUI's error as a job error; the message names the type and first failing input."""
    error = result.error or {}
    return JobError(
        code="workflow_invalid",
        message=describe_refusal(error, result.node_errors),
        node_errors=result.node_errors,
    )


def describe_refusal(error: Mapping[str, Any], node_errors: Mapping[str, Any]) -> str:
    """``<message> (<type>); node '<id>' (<class>) input '<name>': <reason>``."""
    headline = str(error.get("message") or "the workflow failed validation")
    if error.get("type"):
        headline = f"{headline} ({error['type']})"  # JobError has no comfy_type field
    for node_id, entry in sorted(node_errors.items()):
        if isinstance(entry, dict):
            return f"{headline}; {_first_node_error(str(node_id), entry)}"
    details = error.get("details")
    return f"{headline}: {details}" if details else headline


def _first_node_error(node_id: str, entry: Mapping[str, Any]) -> str:
    errors = entry.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    field = (first.get("extra_info") or {}).get("input_name")
    where = f"node {node_id!r} ({entry.get('class_type')})"
    where += f" input {field!r}" if field else ""
    reason = ": ".join(str(part) for part in (first.get("message"), first.get("details")) if part)
    return f"{where}: {reason}" if reason else where
