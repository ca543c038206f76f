"""Image resizing like ComfyUI's `common_upscale` (optional centre crop, then resample)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from comfy_gateway.simulator.nodes.values import FloatArray

_FILTERS = {
    "nearest-exact": Image.Resampling.NEAREST,
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "area": Image.Resampling.BOX,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "bislerp": Image.Resampling.BILINEAR,
}


def resize_images(
    images: FloatArray, width: int, height: int, method: str, crop: str
) -> FloatArray:
    """Resize an IMAGE batch [B,H,W,C] to width×height, centre-cropping first if asked."""
    if method not in _FILTERS:
        raise ValueError(f"unknown upscale method {method!r}")
    if crop == "center":
        images = center_crop_to_aspect(images, width / height)
    frames = [_resize_frame(frame, width, height, _FILTERS[method]) for frame in images]
    return np.stack(frames).astype(np.float32)


def center_crop_to_aspect(images: FloatArray, aspect: float) -> FloatArray:
    """Cut equal margins so the batch has the given width/height ratio."""
    old_height, old_width = images.shape[1], images.shape[2]
    old_aspect = old_width / old_height
    x = y = 0
    if old_aspect > aspect:
        x = round((old_width - old_width * (aspect / old_aspect)) / 2)
    elif old_aspect < aspect:
        y = round((old_height - old_height * (old_aspect / aspect)) / 2)
    return images[:, y : old_height - y, x : old_width - x, :]


def _resize_frame(
    frame: FloatArray, width: int, height: int, method: Image.Resampling
) -> FloatArray:
    # Mode "F" keeps full float precision; each channel is resampled on its own.
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(frame[:, :, c], dtype=np.float32)).resize(
                (width, height), method
            )
        )
        for c in range(frame.shape[2])
    ]
    return np.stack(channels, axis=-1)


def scaled_size(old_width: int, old_height: int, width: int, height: int) -> tuple[int, int]:
    """ImageScale's rule: a 0 side keeps the aspect ratio (both 0: unchanged)."""
    if width == 0 and height == 0:
        return old_width, old_height
    if width == 0:
        width = max(1, round(old_width * height / old_height))
    elif height == 0:
        height = max(1, round(old_height * width / old_width))
    return width, height
