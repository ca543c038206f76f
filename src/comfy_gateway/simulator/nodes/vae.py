"""Simulated VAEs: the weightless `pixel_space` one (identity-like, as in ComfyUI), an
image VAE (4 channels, 8× smaller) and a WAN-style video VAE (16 channels, 8× smaller,
4× fewer frames). The simulated ones keep a low-resolution copy of the pixels in their
first three channels, so whatever goes in still shows in what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comfy_gateway.simulator.nodes.values import (
    IMAGE_LATENT_CHANNELS,
    LATENT_SCALE,
    VIDEO_LATENT_CHANNELS,
    VIDEO_TIME_SCALE,
    FloatArray,
    pixel_frames,
    video_latent_frames,
)

PIXEL_SPACE = "pixel_space"
_VIDEO_NAME_HINTS = ("wan", "video", "hunyuan", "ltx", "cosmos", "mochi")
# How far (in pixels) each decoded video frame drifts sideways: fake but visible motion.
_MOTION_PIXELS_PER_FRAME = 1


@dataclass(frozen=True, kw_only=True)
class SimulatedVae:
    """A VAE value: its kind ("pixel_space" | "image" | "video") and file name."""

    kind: str
    name: str

    @property
    def compression(self) -> int:
        return 1 if self.kind == PIXEL_SPACE else LATENT_SCALE

    def encode(self, pixels: FloatArray) -> FloatArray:
        if self.kind == PIXEL_SPACE:
            return np.moveaxis(pixels * 2.0 - 1.0, -1, 1).astype(np.float32)
        if self.kind == "video":
            return encode_video_frames(pixels)
        return _pad_channels(_downscale(pixels), IMAGE_LATENT_CHANNELS)

    def decode(self, samples: FloatArray) -> FloatArray:
        if samples.ndim == 5:
            return decode_video_latent(samples)
        if self.kind == PIXEL_SPACE:
            return _to_unit(np.moveaxis(samples[:, :3], 1, -1))
        return _upscale(samples)


def vae_for_file(name: str) -> SimulatedVae:
    """The simulated VAE a VAELoader file name stands for."""
    if name == PIXEL_SPACE:
        return SimulatedVae(kind=PIXEL_SPACE, name=name)
    lowered = name.lower()
    kind = "video" if any(hint in lowered for hint in _VIDEO_NAME_HINTS) else "image"
    return SimulatedVae(kind=kind, name=name)


def encode_video_frames(frames: FloatArray) -> FloatArray:
    """[F,H,W,3] → [1,16,T,H/8,W/8]; latent frame t keeps pixel frame min(4t, F-1)."""
    count = video_latent_frames(frames.shape[0])
    picks = [min(t * VIDEO_TIME_SCALE, frames.shape[0] - 1) for t in range(count)]
    per_frame = _pad_channels(_downscale(frames[picks]), VIDEO_LATENT_CHANNELS)
    return np.moveaxis(per_frame, 0, 1)[np.newaxis].astype(np.float32)


def decode_video_latent(samples: FloatArray) -> FloatArray:
    """[B,C,T,h,w] → [B·((T-1)·4+1), 8h, 8w, 3], each frame drifting a little further."""
    batch, _, latent_frames, height, width = samples.shape
    per_video = pixel_frames(latent_frames)
    # Filled in place: a 720p, 81-frame video is already ~900 MB of float32.
    frames = np.empty(
        (batch * per_video, height * LATENT_SCALE, width * LATENT_SCALE, 3), np.float32
    )
    for video_index, video in enumerate(samples):
        still_of = -1
        for index in range(per_video):
            latent_index = (index + 3) // VIDEO_TIME_SCALE
            if latent_index != still_of:  # four pixel frames share one latent frame
                still, still_of = _upscale(video[np.newaxis, :, latent_index])[0], latent_index
            shift = index * _MOTION_PIXELS_PER_FRAME
            frames[video_index * per_video + index] = np.roll(still, shift, axis=1)
    return frames


def _downscale(pixels: FloatArray) -> FloatArray:
    """[B,H,W,3] → [B,3,H/8,W/8] block means mapped to -1..1 (sides cropped to ×8)."""
    height, width = pixels.shape[1] // LATENT_SCALE, pixels.shape[2] // LATENT_SCALE
    cropped = pixels[:, : height * LATENT_SCALE, : width * LATENT_SCALE, :3]
    blocks = cropped.reshape(len(pixels), height, LATENT_SCALE, width, LATENT_SCALE, 3)
    return np.moveaxis(blocks.mean(axis=(2, 4)) * 2.0 - 1.0, -1, 1)


def _upscale(samples: FloatArray) -> FloatArray:
    """[B,C,h,w] → [B,8h,8w,3] from the first three channels, nearest neighbour."""
    rgb = _to_unit(np.moveaxis(samples[:, :3], 1, -1))
    return np.repeat(np.repeat(rgb, LATENT_SCALE, axis=1), LATENT_SCALE, axis=2)


def _pad_channels(rgb_latent: FloatArray, channels: int) -> FloatArray:
    padding = np.zeros((rgb_latent.shape[0], channels - 3, *rgb_latent.shape[2:]), np.float32)
    return np.concatenate([rgb_latent, padding], axis=1).astype(np.float32)


def _to_unit(values: FloatArray) -> FloatArray:
    unit: FloatArray = np.clip((values + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    return unit
