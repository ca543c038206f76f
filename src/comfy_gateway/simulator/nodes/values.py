"""The value types flowing between simulated nodes (ComfyUI's types, numpy for torch).

IMAGE is float32 [B,H,W,C] in 0..1, MASK float32 [B,H,W], LATENT {"samples": [B,C,h,w]}
(video: [B,16,T,h,w]), AUDIO {"waveform": float32 [B,channels,samples], "sample_rate"}.
Model-like values are small frozen markers that remember what built them, so a wrong
input still changes what comes out downstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

# Spatial and temporal compression of the simulated WAN video VAE, as WAN 2.x.
LATENT_SCALE = 8
VIDEO_TIME_SCALE = 4
VIDEO_LATENT_CHANNELS = 16
IMAGE_LATENT_CHANNELS = 4


@dataclass(frozen=True, kw_only=True)
class Marker:
    """A model-like value (MODEL, CLIP, CONDITIONING, …): its type and what built it."""

    kind: str
    source: str
    details: tuple[tuple[str, Any], ...] = ()

    def detail(self, key: str, default: Any = None) -> Any:
        return dict(self.details).get(key, default)

    def with_details(self, **extra: Any) -> Marker:
        merged = {**dict(self.details), **extra}
        return Marker(kind=self.kind, source=self.source, details=tuple(merged.items()))


@dataclass(frozen=True, kw_only=True, eq=False)
class VideoValue:
    """A VIDEO: frames as an IMAGE batch, a frame rate, and an optional AUDIO."""

    frames: FloatArray
    fps: float
    audio: dict[str, Any] | None = None

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0])


@dataclass(frozen=True, kw_only=True, eq=False)
class MeshValue:
    """A MESH batch: vertices [B,N,3] and triangle faces [B,M,3] (what SaveGLB writes)."""

    vertices: FloatArray
    faces: npt.NDArray[np.uint32]


def image_batch(batch: int, height: int, width: int, value: float = 0.0) -> FloatArray:
    return np.full((batch, height, width, 3), value, dtype=np.float32)


def audio_value(waveform: FloatArray, sample_rate: int) -> dict[str, Any]:
    return {"waveform": waveform.astype(np.float32, copy=False), "sample_rate": int(sample_rate)}


def latent_value(samples: FloatArray, **extra: Any) -> dict[str, Any]:
    return {"samples": samples.astype(np.float32, copy=False), **extra}


def video_latent_frames(length: int) -> int:
    """Latent frames T for `length` pixel frames: ((length - 1) // 4) + 1."""
    return ((length - 1) // VIDEO_TIME_SCALE) + 1


def pixel_frames(latent_frames: int) -> int:
    """Pixel frames for T latent frames: (T - 1) * 4 + 1."""
    return (latent_frames - 1) * VIDEO_TIME_SCALE + 1


@dataclass(frozen=True, kw_only=True, eq=False)
class Conditioning:
    """A CONDITIONING: the prompt text, the CLIP that encoded it, and attached values
    (ComfyUI's names: `concat_latent_image`, `concat_mask`, `clip_vision_output`, …)."""

    text: str
    clip: Any = None
    extras: tuple[tuple[str, Any], ...] = ()

    def extra(self, key: str, default: Any = None) -> Any:
        return dict(self.extras).get(key, default)

    def with_values(self, **values: Any) -> Conditioning:
        merged = {**dict(self.extras), **values}
        return Conditioning(text=self.text, clip=self.clip, extras=tuple(merged.items()))
