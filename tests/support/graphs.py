"""API-format graphs of ComfyUI 0.3.64's no-model nodes, shared by test tiers."""

from __future__ import annotations

from typing import Any

Graph = dict[str, Any]


def video_graph(frames: int = 4, size: int = 32) -> Graph:
    """A batch of frames → CreateVideo → SaveVideo (an MP4 under ``video/``)."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": frames, "color": 0x3366CC},
        },
        "2": {"class_type": "CreateVideo", "inputs": {"images": ["1", 0], "fps": 8.0}},
        "3": {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["2", 0],
                "filename_prefix": "video/clip",
                "format": "mp4",
                "codec": "h264",
            },
        },
    }


def audio_graph() -> Graph:
    """EmptyAudio → SaveAudio (a FLAC under ``audio/``)."""
    return {
        "1": {
            "class_type": "EmptyAudio",
            "inputs": {"duration": 0.25, "sample_rate": 8000, "channels": 1},
        },
        "2": {
            "class_type": "SaveAudio",
            "inputs": {"audio": ["1", 0], "filename_prefix": "audio/sound"},
        },
    }
