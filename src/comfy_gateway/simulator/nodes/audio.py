"""Audio nodes: LoadAudio (PyAV decode), EmptyAudio, SaveAudio / PreviewAudio (FLAC)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.files import input_file_fingerprint, resolve_input_file
from comfy_gateway.simulator.nodes.media_io import decode_audio_file, encode_flac
from comfy_gateway.simulator.nodes.registry import NodeResult, fingerprints, implements
from comfy_gateway.simulator.nodes.save_files import SaveTarget, save_target
from comfy_gateway.simulator.nodes.values import audio_value

_PREVIEW_ALPHABET = "abcdefghijklmnopqrstupvxyz"


@implements("LoadAudio")
def load_audio(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    path = resolve_input_file(str(inputs["audio"]), ctx.input_dir, ctx)
    return NodeResult(outputs=(decode_audio_file(path),))


@fingerprints("LoadAudio")
def load_audio_fingerprint(inputs: dict[str, Any], input_dir: Path) -> str | None:
    return input_file_fingerprint(inputs.get("audio"), input_dir)


@implements("EmptyAudio")
def empty_audio(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    rate, channels = int(inputs["sample_rate"]), int(inputs["channels"])
    samples = int(float(inputs["duration"]) * rate)
    return NodeResult(outputs=(audio_value(np.zeros((1, channels, samples), np.float32), rate),))


@implements("SaveAudio")
def save_audio(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    target = save_target(str(inputs.get("filename_prefix", "audio/ComfyUI")), ctx.output_dir)
    return NodeResult(outputs=(), ui={"audio": write_flac_batch(inputs, target, "output")})


@implements("PreviewAudio")
def preview_audio(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    suffix = "".join(random.choice(_PREVIEW_ALPHABET) for _ in range(5))
    target = save_target(f"ComfyUI_temp_{suffix}", ctx.temp_dir)
    return NodeResult(outputs=(), ui={"audio": write_flac_batch(inputs, target, "temp")})


def write_flac_batch(inputs: dict[str, Any], target: SaveTarget, kind: str) -> list[dict[str, str]]:
    """One FLAC per batch item, counting up from the target's counter."""
    audio = inputs["audio"]
    metadata = _audio_metadata(inputs)
    results = []
    for offset, waveform in enumerate(audio["waveform"]):
        encode_flac(target.path("flac", offset), waveform, int(audio["sample_rate"]), metadata)
        results.append(target.result("flac", offset, kind))
    return results


def _audio_metadata(inputs: dict[str, Any]) -> dict[str, str]:
    metadata = {}
    if inputs.get("prompt") is not None:
        metadata["prompt"] = json.dumps(inputs["prompt"])
    for key, value in (inputs.get("extra_pnginfo") or {}).items():
        metadata[key] = json.dumps(value)
    return metadata
