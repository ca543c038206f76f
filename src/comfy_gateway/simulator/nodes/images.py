"""Image nodes computed for real: EmptyImage, LoadImage, ImageInvert, ImageScale, ImageBatch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.files import input_file_fingerprint, resolve_input_file
from comfy_gateway.simulator.nodes.registry import NodeResult, fingerprints, implements
from comfy_gateway.simulator.nodes.resize import resize_images, scaled_size
from comfy_gateway.simulator.nodes.values import FloatArray

# LoadImage answers a 64×64 empty mask when the file has no alpha, as ComfyUI does.
_EMPTY_MASK_SIZE = 64


def color_to_rgb(color: int) -> tuple[float, float, float]:
    """ComfyUI's 0xRRGGBB integer as three floats in 0..1."""
    return (((color >> 16) & 0xFF) / 255, ((color >> 8) & 0xFF) / 255, (color & 0xFF) / 255)


@implements("EmptyImage")
def empty_image(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    batch, height, width = int(inputs["batch_size"]), int(inputs["height"]), int(inputs["width"])
    image = np.empty((batch, height, width, 3), dtype=np.float32)
    image[...] = color_to_rgb(int(inputs["color"]))
    return NodeResult(outputs=(image,))


@implements("ImageInvert")
def image_invert(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=((1.0 - inputs["image"]).astype(np.float32),))


@implements("ImageScale")
def image_scale(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    image: FloatArray = inputs["image"]
    width, height = scaled_size(
        image.shape[2], image.shape[1], int(inputs["width"]), int(inputs["height"])
    )
    scaled = resize_images(image, width, height, inputs["upscale_method"], inputs["crop"])
    return NodeResult(outputs=(scaled,))


@implements("ImageBatch")
def image_batch(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    first: FloatArray = inputs["image1"]
    second: FloatArray = inputs["image2"]
    if first.shape[1:3] != second.shape[1:3]:
        second = resize_images(second, first.shape[2], first.shape[1], "bilinear", "center")
    return NodeResult(outputs=(np.concatenate([first, second]).astype(np.float32),))


@implements("LoadImage")
def load_image(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    path = resolve_input_file(str(inputs["image"]), ctx.input_dir, ctx)
    images, masks = read_image_file(path)
    return NodeResult(outputs=(images, masks))


@implements("LoadImageOutput")
def load_image_output(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    """LoadImage reading from the output folder unless the name is annotated."""
    path = resolve_input_file(str(inputs["image"]), ctx.output_dir, ctx)
    images, masks = read_image_file(path)
    return NodeResult(outputs=(images, masks))


@fingerprints("LoadImage")
def load_image_fingerprint(inputs: dict[str, Any], input_dir: Path) -> str | None:
    return input_file_fingerprint(inputs.get("image"), input_dir)


def read_image_file(path: Path) -> tuple[FloatArray, FloatArray]:
    """Every frame of the same size as the first, as IMAGE + MASK (1 - alpha)."""
    # A str path makes Pillow's error read "cannot identify image file '<path>'".
    with Image.open(str(path)) as opened:
        frames: list[FloatArray] = []
        masks: list[FloatArray] = []
        for frame in ImageSequence.Iterator(opened):
            upright = _sixteen_bit_to_eight(ImageOps.exif_transpose(frame))
            rgb = np.asarray(upright.convert("RGB"), dtype=np.float32) / 255.0
            if frames and rgb.shape != frames[0].shape:
                continue
            frames.append(rgb)
            masks.append(_mask_of(upright))
            if opened.format == "MPO":
                break
    return np.stack(frames), _stack_masks(masks)


def _sixteen_bit_to_eight(frame: Image.Image) -> Image.Image:
    # 32-bit integer mode holds 16-bit PNG samples; ComfyUI scales them by 1/255 too.
    return frame.point(lambda value: value * (1 / 255)) if frame.mode == "I" else frame


def _mask_of(frame: Image.Image) -> FloatArray:
    if "A" in frame.getbands():
        return 1.0 - np.asarray(frame.getchannel("A"), dtype=np.float32) / 255.0
    if frame.mode == "P" and "transparency" in frame.info:
        alpha = frame.convert("RGBA").getchannel("A")
        return 1.0 - np.asarray(alpha, dtype=np.float32) / 255.0
    return np.zeros((_EMPTY_MASK_SIZE, _EMPTY_MASK_SIZE), dtype=np.float32)


def _stack_masks(masks: list[FloatArray]) -> FloatArray:
    # Frames with and without alpha give masks of different sizes; keep the first's.
    same = [mask for mask in masks if mask.shape == masks[0].shape]
    return np.stack(same).astype(np.float32)
