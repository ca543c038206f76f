"""Validation of API-format graphs before anything reaches a GPU.

Public API::

    catalogue = NodeCatalogue.from_object_info(raw_object_info, model_files={"vae": [...]})
    result = check_graph(graph, catalogue, media_names={"input.png"})
    if not result.ok:
        body = result.comfy_body()          # ComfyUI's own 400 body
    result.requirements                     # node classes + model files per folder
    checked = await check_graph_with_refetch(graph, catalogue, http)   # one refetch
    cache = CatalogueCache(data_dir)        # <data_dir>/catalogues/<backend slug>.json

Pure checking lives in ``graph_checker``; only ``refetch`` and ``catalogue_cache`` do I/O.
"""

from comfy_gateway.validation.catalogue_cache import CatalogueCache
from comfy_gateway.validation.check_result import CheckResult, GraphRequirements
from comfy_gateway.validation.graph_checker import check_graph
from comfy_gateway.validation.model_folders import model_folder
from comfy_gateway.validation.node_catalogue import NodeCatalogue
from comfy_gateway.validation.refetch import RefetchedCheck, check_graph_with_refetch

__all__ = [
    "CatalogueCache",
    "CheckResult",
    "GraphRequirements",
    "NodeCatalogue",
    "RefetchedCheck",
    "check_graph",
    "check_graph_with_refetch",
    "model_folder",
]
