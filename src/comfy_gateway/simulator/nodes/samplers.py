"""Samplers: progress once per step through `ctx.simulate_steps`, then a derived latent."""

from __future__ import annotations

from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.denoise import denoise
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.values import Marker

_DEFAULT_CUSTOM_STEPS = 1


def advanced_step_count(steps: int, start_at_step: int, end_at_step: int) -> int:
    """Steps KSamplerAdvanced runs: end_at_step - start_at_step, clipped to `steps`."""
    return max(0, min(end_at_step, steps) - start_at_step)


def sigma_steps(sigmas: Any) -> int:
    """Steps a custom sampler runs: one fewer than the sigmas."""
    if isinstance(sigmas, np.ndarray):
        return max(0, len(sigmas) - 1)
    if isinstance(sigmas, Marker):
        return int(sigmas.detail("steps", _DEFAULT_CUSTOM_STEPS))
    return _DEFAULT_CUSTOM_STEPS


def _run(ctx: NodeContext, steps: int) -> None:
    ctx.check_interrupted()
    if steps > 0:
        ctx.simulate_steps(steps)


def _sampled(latent: dict[str, Any], samples: Any) -> dict[str, Any]:
    # Keep the latent's other keys (batch_index, noise_mask…) as ComfyUI's samplers do.
    return {**latent, "samples": samples}


@implements("KSampler", sampler=True)
def ksampler(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    steps = int(inputs["steps"])
    _run(ctx, steps)
    latent = inputs["latent_image"]
    samples = denoise(
        latent["samples"],
        positive=inputs["positive"],
        negative=inputs["negative"],
        model=inputs["model"],
        seed=int(inputs["seed"]),
        fraction=float(inputs.get("denoise", 1.0)),
    )
    return NodeResult(outputs=(_sampled(latent, samples),))


@implements("KSamplerAdvanced", sampler=True)
def ksampler_advanced(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    steps = int(inputs["steps"])
    count = advanced_step_count(steps, int(inputs["start_at_step"]), int(inputs["end_at_step"]))
    _run(ctx, count)
    latent = inputs["latent_image"]
    if count == 0:
        return NodeResult(outputs=(latent,))
    seed = int(inputs["noise_seed"]) if inputs.get("add_noise") == "enable" else None
    samples = denoise(
        latent["samples"],
        positive=inputs["positive"],
        negative=inputs["negative"],
        model=inputs["model"],
        seed=seed,
        fraction=count / steps,
    )
    return NodeResult(outputs=(_sampled(latent, samples),))


@implements("SamplerCustom", sampler=True)
def sampler_custom(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    _run(ctx, sigma_steps(inputs["sigmas"]))
    latent = inputs["latent_image"]
    seed = int(inputs["noise_seed"]) if inputs.get("add_noise") else None
    samples = denoise(
        latent["samples"],
        positive=inputs["positive"],
        negative=inputs["negative"],
        model=(inputs["model"], inputs["sampler"], inputs["sigmas"]),
        seed=seed,
        fraction=1.0,
    )
    result = _sampled(latent, samples)
    return NodeResult(outputs=(result, result))


@implements("SamplerCustomAdvanced", sampler=True)
def sampler_custom_advanced(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    _run(ctx, sigma_steps(inputs["sigmas"]))
    latent = inputs["latent_image"]
    samples = denoise(
        latent["samples"],
        positive=inputs["guider"],
        negative=inputs["noise"],
        model=(inputs["sampler"], inputs["sigmas"]),
        seed=None,
        fraction=1.0,
    )
    result = _sampled(latent, samples)
    return NodeResult(outputs=(result, result))


@implements("BasicScheduler")
def basic_scheduler(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    """Sigmas from 1 down to 0; with denoise < 1 only the last `steps` of a longer run."""
    steps, amount = int(inputs["steps"]), float(inputs["denoise"])
    if amount <= 0.0:
        return NodeResult(outputs=(np.zeros(0, np.float32),))
    total = int(steps / amount)
    sigmas = np.linspace(1.0, 0.0, total + 1, dtype=np.float32)[-(steps + 1) :]
    return NodeResult(outputs=(sigmas,))
