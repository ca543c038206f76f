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


def video_graph() -> Graph:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 4, "color": 1234},
        },
        "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8.0}},
        "3": {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["2", 0],
                "filename_prefix": "video/clip",
                "format": "auto",
                "codec": "auto",
            },
        },
    }


def audio_graph() -> Graph:
    return {
        "1": {
            "class_type": "EmptyAudio",
            "inputs": {"duration": 0.2, "sample_rate": 8000, "channels": 1},
        },
        "2": {
            "class_type": "SaveAudio",
            "inputs": {"audio": ["1", 0], "filename_prefix": "audio/a"},
        },
    }
