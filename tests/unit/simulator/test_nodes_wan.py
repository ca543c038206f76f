"""The captured WAN 2.2 graphs run end to end through the simulated nodes into a real MP4."""

from __future__ import annotations

import copy
import json
import wave
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from comfy_gateway.simulator.nodes.samplers import advanced_step_count
from unit.simulator.test_nodes_context import RecordingContext, make_context, run_graph, run_node

_RED = (200, 40, 40)
_BLUE = (30, 60, 220)


def _graph(shared_dir: Path, name: str) -> dict[str, Any]:
    graph: dict[str, Any] = json.loads((shared_dir / name).read_text())
    return graph


def _write_start_image(ctx: RecordingContext, color: tuple[int, int, int]) -> None:
    Image.new("RGB", (80, 60), color).save(ctx.input_dir / "input.png")


def _write_wav(ctx: RecordingContext) -> None:
    samples = (np.sin(np.arange(16000) / 7) * 8000).astype("<i2")
    with wave.open(str(ctx.input_dir / "input.wav"), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16000)
        writer.writeframes(samples.tobytes())


def _mp4_facts(path: Path) -> tuple[int, int, int, bool]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, stream.width, stream.height, bool(container.streams.audio)


@pytest.fixture
def i2v(shared_comfyui_dir: Path) -> dict[str, Any]:
    return _graph(shared_comfyui_dir, "wan22_i2v_api_example.json")


def test_wan_i2v_graph_ends_in_a_video_of_the_requested_length(
    tmp_path: Path, i2v: dict[str, Any]
) -> None:
    ctx = make_context(tmp_path)
    _write_start_image(ctx, _RED)
    run = run_graph(ctx, i2v)

    assert run.values["63"][2]["samples"].shape == (1, 16, 5, 40, 40)
    assert run.progress["57"] == [(1, 2), (2, 2)]
    assert run.progress["58"] == [(1, 2), (2, 2)]
    assert run.ui["61"] == {
        "images": [{"filename": "wan_00001_.mp4", "subfolder": "video", "type": "output"}],
        "animated": [True],
    }
    assert _mp4_facts(ctx.output_dir / "video" / "wan_00001_.mp4") == (17, 320, 320, False)
    # The video shows the start image (give or take the simulated sampler's tint).
    first_frame = run.values["8"][0][0]
    np.testing.assert_allclose(first_frame.mean(axis=(0, 1)), np.array(_RED) / 255, atol=0.15)


def test_wan_i2v_output_follows_the_start_image_and_the_prompt(
    tmp_path: Path, i2v: dict[str, Any]
) -> None:
    def frames(name: str, color: tuple[int, int, int], text: str) -> np.ndarray:
        ctx = make_context(tmp_path / name)
        _write_start_image(ctx, color)
        graph = copy.deepcopy(i2v)
        graph["6"]["inputs"]["text"] = text
        graph["63"]["inputs"]["length"] = 5
        decoded: np.ndarray = run_graph(ctx, graph).values["8"][0]
        return decoded

    red = frames("red", _RED, "a cat")
    assert red.shape == (5, 320, 320, 3)
    np.testing.assert_array_equal(red, frames("again", _RED, "a cat"))
    assert not np.allclose(red, frames("blue", _BLUE, "a cat"), atol=0.05)
    assert not np.array_equal(red, frames("dog", _RED, "a dog"))


def test_wan_s2v_graph_ends_in_a_video_with_the_sound(
    shared_comfyui_dir: Path, tmp_path: Path
) -> None:
    graph = _graph(shared_comfyui_dir, "wan22_s2v_api_example.json")
    graph["93"]["inputs"]["length"] = 13
    ctx = make_context(tmp_path)
    _write_start_image(ctx, _BLUE)
    _write_wav(ctx)
    run = run_graph(ctx, graph)

    assert run.values["93"][2]["samples"].shape == (1, 16, 4, 40, 40)
    assert run.progress["3"] == [(step, 4) for step in range(1, 5)]
    entry = run.ui["113"]["images"][0]
    assert (entry["filename"], entry["subfolder"]) == ("wan_s2v_00001_.mp4", "video")
    assert _mp4_facts(ctx.output_dir / "video" / entry["filename"]) == (13, 320, 320, True)


@pytest.mark.parametrize(
    ("steps", "start", "end", "expected"),
    [(4, 0, 2, 2), (4, 2, 10000, 2), (20, 0, 10000, 20), (4, 5, 10000, 0), (10, 3, 7, 4)],
)
def test_advanced_sampler_step_count(steps: int, start: int, end: int, expected: int) -> None:
    assert advanced_step_count(steps, start, end) == expected


def _latent(ctx: RecordingContext) -> dict[str, Any]:
    latent: dict[str, Any] = run_node(
        ctx, "EmptyLatentImage", width=64, height=64, batch_size=1
    ).outputs[0]
    return latent


def test_ksampler_reports_one_tick_per_step_and_depends_on_the_seed(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    common = {
        "model": "m",
        "steps": 5,
        "cfg": 7.0,
        "sampler_name": "euler",
        "scheduler": "normal",
        "positive": "p",
        "negative": "n",
        "latent_image": _latent(ctx),
        "denoise": 1.0,
    }
    first = run_node(ctx, "KSampler", seed=1, **common).outputs[0]
    assert ctx.progress == [(step, 5) for step in range(1, 6)]
    second = run_node(ctx, "KSampler", seed=2, **common).outputs[0]
    assert first["samples"].shape == (1, 4, 8, 8)
    assert not np.array_equal(first["samples"], second["samples"])


def test_custom_sampler_runs_one_step_fewer_than_its_sigmas(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    sigmas = run_node(
        ctx, "BasicScheduler", model="m", scheduler="simple", steps=6, denoise=1.0
    ).outputs[0]
    assert len(sigmas) == 7
    sampler = run_node(ctx, "KSamplerSelect", sampler_name="euler").outputs[0]
    out, denoised = run_node(
        ctx,
        "SamplerCustom",
        model="m",
        add_noise=True,
        noise_seed=3,
        cfg=1.0,
        positive="p",
        negative="n",
        sampler=sampler,
        sigmas=sigmas,
        latent_image=_latent(ctx),
    ).outputs
    assert ctx.progress == [(step, 6) for step in range(1, 7)]
    assert out["samples"].shape == denoised["samples"].shape == (1, 4, 8, 8)


def test_wan_conditioning_nodes_attach_their_inputs(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    clip = run_node(ctx, "CLIPLoader", clip_name="umt5.safetensors", type="wan").outputs[0]
    text = run_node(ctx, "CLIPTextEncode", text="a cat", clip=clip).outputs[0]
    vae = run_node(ctx, "VAELoader", vae_name="wan_2.1_vae.safetensors").outputs[0]
    image = run_node(ctx, "EmptyImage", width=32, height=32, batch_size=1, color=0xFF0000)
    vision = run_node(
        ctx, "CLIPVisionEncode", clip_vision="cv", image=image.outputs[0], crop="none"
    ).outputs[0]
    positive, negative, latent = run_node(
        ctx,
        "WanImageToVideo",
        positive=text,
        negative=text,
        vae=vae,
        width=64,
        height=48,
        length=9,
        batch_size=2,
        clip_vision_output=vision,
        start_image=image.outputs[0],
    ).outputs
    assert latent["samples"].shape == (2, 16, 3, 6, 8)
    assert positive.text == "a cat"
    assert positive.extra("clip_vision_output") is vision
    assert positive.extra("concat_latent_image").shape == (1, 16, 3, 6, 8)
    mask = positive.extra("concat_mask")
    assert mask[0, 0, :, 0, 0].tolist() == [0.0, 1.0, 1.0]
    assert negative.extra("concat_mask") is mask

    extended = run_node(
        ctx,
        "WanSoundImageToVideoExtend",
        positive=text,
        negative=text,
        vae=vae,
        length=5,
        video_latent=latent,
    ).outputs
    assert extended[2]["samples"].shape == (2, 16, 2, 6, 8)
    assert extended[0].extra("reference_latent").shape == (1, 16, 1, 6, 8)
