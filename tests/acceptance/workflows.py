"""Tiny ComfyUI API-format graphs the acceptance tests submit (core nodes, no models)."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
from PIL import Image

Graph = dict[str, dict[str, Any]]


def inverted_colour_graph(color: int, prefix: str = "acceptance", size: int = 8) -> Graph:
    """EmptyImage of one colour → ImageInvert → SaveImage."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


def plain_image_graph(color: int, prefix: str = "plain") -> Graph:
    """EmptyImage → SaveImage: no ImageInvert, so a slow ImageInvert does not slow it."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": prefix}},
    }


def load_save_audio_graph(media_name: str) -> Graph:
    """LoadAudio of a media item → SaveAudio."""
    return {
        "1": {"class_type": "LoadAudio", "inputs": {"audio": media_name}},
        "2": {
            "class_type": "SaveAudio",
            "inputs": {"audio": ["1", 0], "filename_prefix": "audio/loaded"},
        },
    }


def wav_bytes(samples: int = 800, rate: int = 8000) -> bytes:
    """A mono 16-bit WAV of a sawtooth (not silence, so a decode that drops it shows)."""
    frames = np.array([(i % 100) * 300 - 15000 for i in range(samples)], dtype="<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(frames.tobytes())
    return buffer.getvalue()


def load_invert_save_graph(media_name: str, prefix: str = "inverted") -> Graph:
    """LoadImage of a media item → ImageInvert → SaveImage."""
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": media_name}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }


def preview_only_graph(color: int) -> Graph:
    """EmptyImage → PreviewImage: the only results are ComfyUI `temp` files."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }


def png_bytes(pixels: list[tuple[int, int, int]], width: int) -> bytes:
    """An RGB PNG made of ``pixels`` (row-major, ``width`` per row)."""
    rows = np.array(pixels, dtype=np.uint8).reshape(len(pixels) // width, width, 3)
    image = Image.fromarray(rows, mode="RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def rgb_pixels(png: bytes) -> list[tuple[int, int, int]]:
    with Image.open(io.BytesIO(png)) as image:
        flat = np.asarray(image.convert("RGB")).reshape(-1, 3)
    return [(int(r), int(g), int(b)) for r, g, b in flat]


def inverted(pixels: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    return [(255 - r, 255 - g, 255 - b) for r, g, b in pixels]


def close_to(
    actual: list[tuple[int, int, int]], expected: list[tuple[int, int, int]], tolerance: int = 1
) -> bool:
    """Equal within ``tolerance`` per channel: ComfyUI computes in float32 and truncates
    to uint8 when saving, so 255 - v can come out one lower (1 - 200/255 → 54.99 → 54)."""
    if len(actual) != len(expected):
        return False
    pairs = zip(actual, expected, strict=True)
    return all(
        abs(a - e) <= tolerance for got, want in pairs for a, e in zip(got, want, strict=True)
    )
