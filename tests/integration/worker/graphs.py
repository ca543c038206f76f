"""Small API-format graphs the simulator runs (node classes of ComfyUI 0.3.64)."""

from __future__ import annotations

from typing import Any

Graph = dict[str, Any]


def invert_graph(*, color: int = 0, size: int = 16, prefix: str = "inv") -> Graph:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


def load_invert_graph(media_name: str) -> Graph:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": media_name}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "in"}},
    }


def preview_only_graph() -> Graph:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 255},
        },
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }
