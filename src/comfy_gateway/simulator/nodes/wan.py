"""WAN 2.x video conditioning nodes with ComfyUI's latent shapes.

A video latent is [batch, 16, ((length - 1) // 4) + 1, height / 8, width / 8]. The start
or reference image is resized, encoded with the given VAE and attached to both
conditionings, where the simulated samplers pick it up as the content to show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.latent import as_vae
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.resize import resize_images
from comfy_gateway.simulator.nodes.values import (
    LATENT_SCALE,
    VIDEO_LATENT_CHANNELS,
    Conditioning,
    FloatArray,
    latent_value,
    video_latent_frames,
)

_GRAY = 0.5


def empty_video_latent(batch: int, length: int, width: int, height: int) -> FloatArray:
    shape = (batch, VIDEO_LATENT_CHANNELS, video_latent_frames(length))
    return np.zeros((*shape, height // LATENT_SCALE, width // LATENT_SCALE), np.float32)


def attach(conditioning: Any, **values: Any) -> Any:
    """Add values to a CONDITIONING (a placeholder conditioning becomes a real one)."""
    if not isinstance(conditioning, Conditioning):
        conditioning = Conditioning(text="", clip=conditioning)
    present = {key: value for key, value in values.items() if value is not None}
    return conditioning.with_values(**present)


def start_frames_latent(
    vae: Any, start: FloatArray, length: int, width: int, height: int
) -> tuple[FloatArray, FloatArray]:
    """WanImageToVideo's concat image (start frames then gray) and mask (0 = known)."""
    resized = resize_images(start[:length], width, height, "bilinear", "center")
    frames = np.full((length, height, width, 3), _GRAY, np.float32)
    frames[: len(resized)] = resized[..., :3]
    concat = as_vae(vae).encode(frames)
    mask = np.ones((1, 1, concat.shape[2], concat.shape[3], concat.shape[4]), np.float32)
    mask[:, :, : video_latent_frames(len(resized))] = 0.0
    return concat, mask


@implements("WanImageToVideo")
def wan_image_to_video(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    width, height, length = int(inputs["width"]), int(inputs["height"]), int(inputs["length"])
    latent = empty_video_latent(int(inputs["batch_size"]), length, width, height)
    extras: dict[str, Any] = {"clip_vision_output": inputs.get("clip_vision_output")}
    start = inputs.get("start_image")
    if start is not None:
        concat, mask = start_frames_latent(inputs["vae"], start, length, width, height)
        extras.update(concat_latent_image=concat, concat_mask=mask)
    positive, negative = attach(inputs["positive"], **extras), attach(inputs["negative"], **extras)
    return NodeResult(outputs=(positive, negative, latent_value(latent)))


def reference_latent(vae: Any, image: FloatArray | None, width: int, height: int) -> Any:
    """One encoded frame of the reference image, or None without one."""
    if image is None:
        return None
    resized = resize_images(image[:1], width, height, "bilinear", "center")
    return as_vae(vae).encode(resized[..., :3])


def _sound_extras(inputs: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    return {
        "audio_embed": inputs.get("audio_encoder_output"),
        "reference_latent": reference_latent(inputs["vae"], inputs.get("ref_image"), width, height),
        "control_video": inputs.get("control_video"),
    }


@implements("WanSoundImageToVideo")
def wan_sound_image_to_video(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    width, height, length = int(inputs["width"]), int(inputs["height"]), int(inputs["length"])
    latent = empty_video_latent(int(inputs["batch_size"]), length, width, height)
    extras = _sound_extras(inputs, width, height)
    positive, negative = attach(inputs["positive"], **extras), attach(inputs["negative"], **extras)
    return NodeResult(outputs=(positive, negative, latent_value(latent)))


@implements("WanSoundImageToVideoExtend")
def wan_sound_image_to_video_extend(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    """A new latent of `length` frames continuing `video_latent` (same batch and size)."""
    previous = inputs["video_latent"]["samples"]
    height, width = previous.shape[-2] * LATENT_SCALE, previous.shape[-1] * LATENT_SCALE
    latent = empty_video_latent(previous.shape[0], int(inputs["length"]), width, height)
    extras = _sound_extras(inputs, width, height)
    if extras["reference_latent"] is None and previous.ndim == 5:
        extras["reference_latent"] = previous[:1, :, -1:]
    positive, negative = attach(inputs["positive"], **extras), attach(inputs["negative"], **extras)
    return NodeResult(outputs=(positive, negative, latent_value(latent)))
