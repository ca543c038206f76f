"""Output nodes that write images: SaveImage, PreviewImage, animated WebP/PNG, websocket."""

from __future__ import annotations

import io
import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.registry import NodeResult, fingerprints, implements
from comfy_gateway.simulator.nodes.save_files import SaveTarget, save_target
from comfy_gateway.simulator.nodes.values import FloatArray

# ComfyUI's PreviewImage draws its 5-letter suffix from this exact (misspelt) alphabet.
_PREVIEW_ALPHABET = "abcdefghijklmnopqrstupvxyz"
_CALLS = itertools.count()
_WEBP_METHODS = {"default": 4, "fastest": 0, "slowest": 6}


def to_pil(image: FloatArray) -> Image.Image:
    """One [H,W,C] float frame as an 8-bit Pillow image."""
    return Image.fromarray(np.clip(image * 255.0, 0, 255).astype(np.uint8))


def png_metadata(inputs: dict[str, Any]) -> PngInfo:
    """The `prompt` and workflow text chunks ComfyUI embeds in saved PNGs."""
    info = PngInfo()
    if inputs.get("prompt") is not None:
        info.add_text("prompt", json.dumps(inputs["prompt"]))
    for key, value in (inputs.get("extra_pnginfo") or {}).items():
        info.add_text(key, json.dumps(value))
    return info


def save_png_batch(
    images: FloatArray, target: SaveTarget, inputs: dict[str, Any], compress_level: int, kind: str
) -> list[dict[str, str]]:
    """Write each frame as `name_NNNNN_.png`, counting up; return the UI entries."""
    metadata = png_metadata(inputs)
    results = []
    for offset, image in enumerate(images):
        path = target.path("png", offset)
        to_pil(image).save(path, pnginfo=metadata, compress_level=compress_level)
        results.append(target.result("png", offset, kind))
    return results


@implements("SaveImage")
def save_image(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    images: FloatArray = inputs["images"]
    prefix = str(inputs.get("filename_prefix", "ComfyUI"))
    target = save_target(prefix, ctx.output_dir, images.shape[2], images.shape[1])
    results = save_png_batch(images, target, inputs, compress_level=4, kind="output")
    return NodeResult(outputs=(), ui={"images": results})


@implements("PreviewImage")
def preview_image(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    images: FloatArray = inputs["images"]
    suffix = "".join(random.choice(_PREVIEW_ALPHABET) for _ in range(5))
    prefix = f"ComfyUI_temp_{suffix}"
    target = save_target(prefix, ctx.temp_dir, images.shape[2], images.shape[1])
    results = save_png_batch(images, target, inputs, compress_level=1, kind="temp")
    return NodeResult(outputs=(), ui={"images": results})


@implements("SaveAnimatedWEBP")
def save_animated_webp(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    images: FloatArray = inputs["images"]
    target = save_target(str(inputs["filename_prefix"]), ctx.output_dir)
    frames = [to_pil(image) for image in images]
    frames[0].save(
        target.path("webp"),
        save_all=True,
        append_images=frames[1:],
        duration=round(1000.0 / float(inputs["fps"])),
        lossless=bool(inputs["lossless"]),
        quality=int(inputs["quality"]),
        method=_WEBP_METHODS.get(str(inputs["method"]), 4),
    )
    ui = {"images": [target.result("webp", 0, "output")], "animated": [len(frames) != 1]}
    return NodeResult(outputs=(), ui=ui)


@implements("SaveAnimatedPNG")
def save_animated_png(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    images: FloatArray = inputs["images"]
    target = save_target(str(inputs["filename_prefix"]), ctx.output_dir)
    frames = [to_pil(image) for image in images]
    frames[0].save(
        target.path("png"),
        save_all=True,
        append_images=frames[1:],
        duration=round(1000.0 / float(inputs["fps"])),
        compress_level=int(inputs["compress_level"]),
    )
    ui = {"images": [target.result("png", 0, "output")], "animated": [len(frames) != 1]}
    return NodeResult(outputs=(), ui=ui)


@implements("SaveImageWebsocket")
def save_image_websocket(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    """Each frame goes out as a binary PNG preview with progress 0..n-1 (f1/f2)."""
    images: FloatArray = inputs["images"]
    for step, image in enumerate(images):
        # Like ProgressBar.update_absolute(step, total, preview): the preview rides along
        # with the progress tick it belongs to.
        ctx.send_preview(encode_png(image), "PNG")
        ctx.report_progress(step, len(images))
    return NodeResult(outputs=(), ui=None)


@fingerprints("SaveImageWebsocket")
def always_changed(inputs: dict[str, Any], input_dir: Path) -> str:
    # ComfyUI's node declares IS_CHANGED = time.time(): it is never cached.
    return f"{time.time_ns()}-{next(_CALLS)}"


def encode_png(image: FloatArray) -> bytes:
    buffer = io.BytesIO()
    to_pil(image).save(buffer, format="PNG")
    return buffer.getvalue()
