"""Every graph edit of a submission, in the contract's order, as one pure call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from comfy_gateway.jobs.domain_errors import UnfilledPlaceholder
from comfy_gateway.jobs.graph.media_wiring import wire_media
from comfy_gateway.jobs.graph.overrides import InputOverride, apply_input_overrides
from comfy_gateway.jobs.graph.placeholders import apply_placeholders, find_unfilled_placeholders
from comfy_gateway.jobs.graph.prefixes import PrefixRewrite, rewrite_filename_prefixes
from comfy_gateway.jobs.graph.shape import check_workflow_shape
from comfy_gateway.jobs.graph.values import Graph


@dataclass(frozen=True, kw_only=True)
class PreparedGraph:
    """The graph to validate and queue, and what the edits found on the way."""

    graph: Graph
    used_params: frozenset[str]
    used_media: frozenset[str]
    prefix_rewrites: Mapping[str, PrefixRewrite]


def prepare_graph(
    workflow: object,
    *,
    job_id: str,
    params: Mapping[str, Any] | None = None,
    overrides: Iterable[InputOverride] = (),
    media_refs: Mapping[str, str] | None = None,
) -> PreparedGraph:
    """shape → placeholders → overrides → media wiring → filename_prefix rewrite.

    Unfilled placeholders are looked for in the submitted graph, so text that a param or
    an override brings in (often a user's own words) is never mistaken for one, and an
    input that an override replaces needs no param. Template defaults must already be in
    ``params``.
    Validation against the backend's node definitions comes after, elsewhere.
    """
    graph = check_workflow_shape(workflow)
    overrides = list(overrides)
    overridden = {(str(override.node), override.field) for override in overrides}
    if missing := find_unfilled_placeholders(graph, params, ignore=overridden):
        raise UnfilledPlaceholder(missing)
    # A step with nothing to do is skipped (each is a walk and a copy of the whole graph);
    # the last one always runs and copies (and checks) every value.
    used_params: frozenset[str] = frozenset()
    if params:
        graph, used_params = apply_placeholders(graph, params, require_all=False)
    if overrides:
        graph = apply_input_overrides(graph, overrides)
    used_media: frozenset[str] = frozenset()
    if media_refs:
        graph, used_media = wire_media(graph, media_refs)
    graph, rewrites = rewrite_filename_prefixes(graph, job_id)
    return PreparedGraph(
        graph=graph, used_params=used_params, used_media=used_media, prefix_rewrites=rewrites
    )
