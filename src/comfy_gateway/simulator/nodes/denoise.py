"""What a simulated sampler computes: a deterministic latent derived from every input.

The "denoised" target is the guide the conditioning carries (WAN's start image or
reference image, encoded) plus a per-channel tint seeded by the model, the prompts and
the seed; a partial run (KSamplerAdvanced stopping early) blends toward it in proportion.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.digests import seed_from
from comfy_gateway.simulator.nodes.values import Conditioning, FloatArray

_TINT = 0.15
_NOISE = 0.1


def denoise(
    samples: FloatArray,
    *,
    positive: Any,
    negative: Any,
    model: Any,
    seed: int | None,
    fraction: float,
) -> FloatArray:
    """Move `samples` `fraction` of the way to the target; `seed` None: no noise added."""
    target = guide_latent(positive, samples.shape) + _tint(samples, positive, negative, model, seed)
    start = samples if seed is None else samples + _noise(samples.shape, seed)
    return ((1.0 - fraction) * start + fraction * target).astype(np.float32)


def guide_latent(positive: Any, shape: tuple[int, ...]) -> FloatArray:
    """The content a video should show: known frames from `concat_latent_image`, the
    last known frame held after them; or a `reference_latents` frame; else zeros."""
    if not isinstance(positive, Conditioning):
        return np.zeros(shape, np.float32)
    concat = positive.extra("concat_latent_image")
    if isinstance(concat, np.ndarray) and concat.shape[1:] == shape[1:]:
        return _hold_last_known(concat, positive.extra("concat_mask"), shape)
    reference = positive.extra("reference_latent")
    if isinstance(reference, np.ndarray) and reference.shape[1:2] + reference.shape[3:] == (
        shape[1:2] + shape[3:]
    ):
        return np.broadcast_to(reference[:, :, :1], shape).astype(np.float32)
    return np.zeros(shape, np.float32)


def _hold_last_known(concat: FloatArray, mask: Any, shape: tuple[int, ...]) -> FloatArray:
    guide = np.broadcast_to(concat, shape).copy()
    if isinstance(mask, np.ndarray) and guide.ndim == 5:
        known = int(np.count_nonzero(mask[0, 0, :, 0, 0] == 0))
        if 0 < known < guide.shape[2]:
            guide[:, :, known:] = guide[:, :, known - 1 : known]
    return guide


def _tint(
    samples: FloatArray, positive: Any, negative: Any, model: Any, seed: int | None
) -> FloatArray:
    rng = np.random.default_rng(seed_from(positive, negative, model, seed))
    tint = np.asarray(rng.uniform(-_TINT, _TINT, size=samples.shape[1]), dtype=np.float32)
    return tint.reshape((1, -1) + (1,) * (samples.ndim - 2))


def _noise(shape: tuple[int, ...], seed: int) -> FloatArray:
    rng = np.random.default_rng(seed % (1 << 64))
    return (rng.standard_normal(shape, dtype=np.float32) * _NOISE).astype(np.float32)
