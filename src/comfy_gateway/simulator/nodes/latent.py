"""Latent nodes: empty latents, VAEEncode/VAEDecode and their tiled forms (with progress)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.vae import SimulatedVae
from comfy_gateway.simulator.nodes.values import (
    IMAGE_LATENT_CHANNELS,
    LATENT_SCALE,
    VIDEO_LATENT_CHANNELS,
    latent_value,
    video_latent_frames,
)


def as_vae(value: Any) -> SimulatedVae:
    """A VAE input; a placeholder VAE from an unimplemented loader acts as an image VAE."""
    if isinstance(value, SimulatedVae):
        return value
    return SimulatedVae(kind="image", name=str(getattr(value, "source", "unknown")))


@implements("EmptyLatentImage")
def empty_latent_image(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    shape = (
        int(inputs["batch_size"]),
        IMAGE_LATENT_CHANNELS,
        int(inputs["height"]) // LATENT_SCALE,
        int(inputs["width"]) // LATENT_SCALE,
    )
    return NodeResult(outputs=(latent_value(np.zeros(shape, np.float32)),))


@implements("EmptyHunyuanLatentVideo")
def empty_video_latent(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    shape = (
        int(inputs["batch_size"]),
        VIDEO_LATENT_CHANNELS,
        video_latent_frames(int(inputs["length"])),
        int(inputs["height"]) // LATENT_SCALE,
        int(inputs["width"]) // LATENT_SCALE,
    )
    return NodeResult(outputs=(latent_value(np.zeros(shape, np.float32)),))


@implements("VAEEncode")
def vae_encode(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    samples = as_vae(inputs["vae"]).encode(inputs["pixels"])
    return NodeResult(outputs=(latent_value(samples),))


@implements("VAEDecode")
def vae_decode(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=(as_vae(inputs["vae"]).decode(inputs["samples"]["samples"]),))


@implements("VAEDecodeTiled")
def vae_decode_tiled(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    """Image latents report one progress tick per tile over ComfyUI's three tiling passes."""
    vae = as_vae(inputs["vae"])
    samples = inputs["samples"]["samples"]
    if samples.ndim == 4:
        tile, overlap = _tile_and_overlap(int(inputs["tile_size"]), int(inputs["overlap"]))
        steps = tiled_pass_steps(samples.shape, tile // vae.compression, overlap // vae.compression)
        report_steps(ctx, steps)
    return NodeResult(outputs=(vae.decode(samples),))


@implements("VAEEncodeTiled")
def vae_encode_tiled(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    vae = as_vae(inputs["vae"])
    pixels = inputs["pixels"]
    tile, overlap = _tile_and_overlap(int(inputs["tile_size"]), int(inputs["overlap"]))
    channels_first = (pixels.shape[0], pixels.shape[3], pixels.shape[1], pixels.shape[2])
    report_steps(ctx, tiled_pass_steps(channels_first, tile, overlap))
    return NodeResult(outputs=(latent_value(vae.encode(pixels)),))


def tiled_pass_steps(shape: tuple[int, ...], tile: int, overlap: int) -> int:
    """Tiles over ComfyUI's three passes (tile×tile, tile/2×2tile, 2tile×tile/2) × batch."""
    batch, height, width = shape[0], shape[2], shape[3]
    passes = ((tile, tile), (tile // 2, tile * 2), (tile * 2, tile // 2))
    return batch * sum(_tiles(width, height, x, y, overlap) for x, y in passes)


def report_steps(ctx: NodeContext, steps: int) -> None:
    # One tick per tile, paced like sampler steps so tests can interrupt mid-node.
    ctx.simulate_steps(steps)


def _tiles(width: int, height: int, tile_x: int, tile_y: int, overlap: int) -> int:
    return math.ceil(height / (tile_y - overlap)) * math.ceil(width / (tile_x - overlap))


def _tile_and_overlap(tile: int, overlap: int) -> tuple[int, int]:
    # ComfyUI shrinks an overlap that would leave tiles with no room of their own.
    if tile < overlap * 4:
        overlap = tile // 4
    return tile, overlap
