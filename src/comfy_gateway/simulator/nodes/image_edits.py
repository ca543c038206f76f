"""Cheap image edits computed for real, so common helper nodes keep sizes and content."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.resize import resize_images
from comfy_gateway.simulator.nodes.values import FloatArray

# ComfyUI turns clockwise: torch.rot90(image, k, dims=[2, 1]) goes from width to height.
_ROTATIONS = {"none": 0, "90 degrees": 1, "180 degrees": 2, "270 degrees": 3}
_FLIP_AXES = {"x-axis: vertically": 1, "y-axis: horizontally": 2}


def _image_result(image: FloatArray) -> NodeResult:
    return NodeResult(outputs=(np.ascontiguousarray(image, dtype=np.float32),))


@implements("ImageScaleBy")
def image_scale_by(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    image: FloatArray = inputs["image"]
    factor = float(inputs["scale_by"])
    width, height = round(image.shape[2] * factor), round(image.shape[1] * factor)
    return _image_result(resize_images(image, width, height, inputs["upscale_method"], "disabled"))


@implements("ImageScaleToTotalPixels")
def image_scale_to_total_pixels(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    image: FloatArray = inputs["image"]
    total = float(inputs["megapixels"]) * 1024 * 1024
    factor = math.sqrt(total / (image.shape[2] * image.shape[1]))
    width, height = round(image.shape[2] * factor), round(image.shape[1] * factor)
    return _image_result(resize_images(image, width, height, inputs["upscale_method"], "disabled"))


@implements("ImageCrop")
def image_crop(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    image: FloatArray = inputs["image"]
    width, height = (
        min(image.shape[2], int(inputs["width"])),
        min(image.shape[1], int(inputs["height"])),
    )
    x, y = min(int(inputs["x"]), image.shape[2] - 1), min(int(inputs["y"]), image.shape[1] - 1)
    return _image_result(image[:, y : y + height, x : x + width, :])


@implements("RepeatImageBatch")
def repeat_image_batch(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    return _image_result(np.tile(inputs["image"], (int(inputs["amount"]), 1, 1, 1)))


@implements("ImageFromBatch")
def image_from_batch(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    image: FloatArray = inputs["image"]
    start = min(image.shape[0] - 1, int(inputs["batch_index"]))
    length = min(image.shape[0] - start, int(inputs["length"]))
    return _image_result(image[start : start + length])


@implements("ImageFlip")
def image_flip(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return _image_result(np.flip(inputs["image"], axis=_FLIP_AXES[inputs["flip_method"]]))


@implements("ImageRotate")
def image_rotate(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    turns = _ROTATIONS[inputs["rotation"]]
    return _image_result(np.rot90(inputs["image"], k=turns, axes=(2, 1)))
