"""Pure edits of an API-format ComfyUI graph, applied in the order of the API contract.

check_workflow_shape → apply_placeholders → apply_input_overrides → wire_media →
rewrite_filename_prefixes (→ validation against node definitions, elsewhere); or all of
them at once with prepare_graph. Each step takes a graph checked by check_workflow_shape
and returns a new one; none mutates its argument.
"""

from comfy_gateway.jobs.graph.media_wiring import wire_media
from comfy_gateway.jobs.graph.overrides import InputOverride, apply_input_overrides
from comfy_gateway.jobs.graph.pipeline import PreparedGraph, prepare_graph
from comfy_gateway.jobs.graph.placeholders import (
    apply_placeholders,
    find_unfilled_placeholders,
    placeholder_name,
)
from comfy_gateway.jobs.graph.prefixes import (
    GATEWAY_FOLDER,
    PrefixRewrite,
    job_output_folder,
    rewrite_filename_prefixes,
    strip_job_prefix,
)
from comfy_gateway.jobs.graph.reachability import is_link, nodes_feeding_outputs
from comfy_gateway.jobs.graph.shape import check_workflow_shape
from comfy_gateway.jobs.graph.values import MAX_VALUE_DEPTH, Graph

__all__ = [
    "GATEWAY_FOLDER",
    "MAX_VALUE_DEPTH",
    "Graph",
    "InputOverride",
    "PrefixRewrite",
    "PreparedGraph",
    "apply_input_overrides",
    "apply_placeholders",
    "check_workflow_shape",
    "find_unfilled_placeholders",
    "is_link",
    "job_output_folder",
    "nodes_feeding_outputs",
    "placeholder_name",
    "prepare_graph",
    "rewrite_filename_prefixes",
    "strip_job_prefix",
    "wire_media",
]
