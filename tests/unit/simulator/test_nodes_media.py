"""Audio, video, animated and 3D output nodes write real files that readers accept."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from unit.simulator.test_nodes_context import RecordingContext, make_context, run_node


@pytest.fixture
def ctx(tmp_path: Path) -> RecordingContext:
    return make_context(tmp_path)


def _frames(ctx: RecordingContext, count: int, color: int = 0x3366CC) -> np.ndarray:
    result = run_node(ctx, "EmptyImage", width=64, height=48, batch_size=count, color=color)
    frames: np.ndarray = result.outputs[0]
    return frames


def _sine(seconds: float, rate: int, channels: int) -> dict[str, Any]:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return {"waveform": np.tile(wave, (1, channels, 1)), "sample_rate": rate}


def test_save_video_writes_an_mp4_pyav_reads_back(ctx: RecordingContext) -> None:
    video = run_node(ctx, "CreateVideo", images=_frames(ctx, 8), fps=8.0).outputs[0]
    ui = run_node(
        ctx, "SaveVideo", video=video, filename_prefix="video/clip", format="auto", codec="auto"
    ).ui
    assert ui == {
        "images": [{"filename": "clip_00001_.mp4", "subfolder": "video", "type": "output"}],
        "animated": [True],
    }
    with av.open(str(ctx.output_dir / "video" / "clip_00001_.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (64, 48)
        assert stream.average_rate == 8
        decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        assert not container.streams.audio
    assert len(decoded) == 8
    np.testing.assert_allclose(decoded[3][10, 10], [0x33, 0x66, 0xCC], atol=8)


def test_save_video_counts_up_and_carries_the_audio_track(ctx: RecordingContext) -> None:
    audio = run_node(ctx, "EmptyAudio", duration=1.0, sample_rate=16000, channels=1).outputs[0]
    assert audio["waveform"].shape == (1, 1, 16000)
    video = run_node(ctx, "CreateVideo", images=_frames(ctx, 8), fps=8.0, audio=audio).outputs[0]
    for _ in range(2):
        ui = run_node(
            ctx,
            "SaveVideo",
            video=video,
            filename_prefix="video/clipaudio",
            format="mp4",
            codec="h264",
        ).ui
    assert ui is not None
    assert ui["images"][0]["filename"] == "clipaudio_00002_.mp4"
    with av.open(str(ctx.output_dir / "video" / "clipaudio_00002_.mp4")) as container:
        assert container.streams.video[0].frames == 8
        assert container.streams.audio[0].rate == 16000


def test_video_components_come_back_out(ctx: RecordingContext) -> None:
    frames = _frames(ctx, 3)
    audio = _sine(0.25, 8000, 2)
    video = run_node(ctx, "CreateVideo", images=frames, fps=12.0, audio=audio).outputs[0]
    images, got_audio, fps = run_node(ctx, "GetVideoComponents", video=video).outputs
    assert images is frames
    assert got_audio is audio
    assert fps == 12.0


def test_load_video_decodes_a_saved_mp4(ctx: RecordingContext) -> None:
    video = run_node(ctx, "CreateVideo", images=_frames(ctx, 5), fps=10.0).outputs[0]
    run_node(ctx, "SaveVideo", video=video, filename_prefix="v", format="auto", codec="auto")
    shutil.copy(ctx.output_dir / "v_00001_.mp4", ctx.input_dir / "v.mp4")
    loaded = run_node(ctx, "LoadVideo", file="v.mp4").outputs[0]
    assert loaded.frames.shape == (5, 48, 64, 3)
    assert loaded.fps == pytest.approx(10.0)
    assert loaded.audio is None


def test_save_audio_round_trips_through_flac(ctx: RecordingContext) -> None:
    audio = _sine(0.5, 16000, 2)
    ui = run_node(ctx, "SaveAudio", audio=audio, filename_prefix="audio/snd").ui
    assert ui == {
        "audio": [{"filename": "snd_00001_.flac", "subfolder": "audio", "type": "output"}]
    }
    saved = ctx.output_dir / "audio" / "snd_00001_.flac"
    assert saved.read_bytes()[:4] == b"fLaC"
    shutil.copy(saved, ctx.input_dir / "snd.flac")
    loaded = run_node(ctx, "LoadAudio", audio="snd.flac").outputs[0]
    assert loaded["sample_rate"] == 16000
    assert loaded["waveform"].shape == (1, 2, 8000)
    np.testing.assert_allclose(loaded["waveform"], audio["waveform"], atol=1e-3)


def test_preview_audio_goes_to_temp(ctx: RecordingContext) -> None:
    ui = run_node(ctx, "PreviewAudio", audio=_sine(0.1, 8000, 1)).ui
    assert ui is not None
    entry = ui["audio"][0]
    assert entry["type"] == "temp"
    assert (ctx.temp_dir / entry["filename"]).is_file()


def test_load_audio_reads_a_wav_file(ctx: RecordingContext) -> None:
    import wave

    samples = (np.arange(800) % 100 * 300 - 15000).astype("<i2")
    with wave.open(str(ctx.input_dir / "in.wav"), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(samples.tobytes())
    loaded = run_node(ctx, "LoadAudio", audio="in.wav").outputs[0]
    assert loaded["sample_rate"] == 8000
    np.testing.assert_allclose(loaded["waveform"][0, 0], samples / 32768, atol=1e-4)


def test_save_animated_webp_writes_every_frame(ctx: RecordingContext) -> None:
    # Distinct frames: Pillow merges identical neighbours into one longer frame.
    frames = np.concatenate([_frames(ctx, 1, 0xFF0000 + index * 30) for index in range(8)])
    ui = run_node(
        ctx,
        "SaveAnimatedWEBP",
        images=frames,
        filename_prefix="anim",
        fps=8.0,
        lossless=False,
        quality=80,
        method="default",
    ).ui
    assert ui == {
        "images": [{"filename": "anim_00001_.webp", "subfolder": "", "type": "output"}],
        "animated": [True],
    }
    with Image.open(ctx.output_dir / "anim_00001_.webp") as image:
        assert image.format == "WEBP"
        assert getattr(image, "n_frames", 1) == 8
        image.seek(6)
        pixel = image.convert("RGB").getpixel((5, 5))
        assert isinstance(pixel, tuple)
        red, _, blue = pixel
        assert red > 200
        assert blue == pytest.approx(180, abs=12)


def test_save_glb_writes_a_valid_binary_gltf(ctx: RecordingContext) -> None:
    mesh = run_node(ctx, "VoxelToMeshBasic", voxel=None, threshold=0.6).outputs[0]
    ui = run_node(ctx, "SaveGLB", mesh=mesh, filename_prefix="mesh/thing").ui
    assert ui == {"3d": [{"filename": "thing_00001_.glb", "subfolder": "mesh", "type": "output"}]}
    data = (ctx.output_dir / "mesh" / "thing_00001_.glb").read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == 0x4E4F534A
    document = json.loads(data[20 : 20 + json_length])
    assert document["accessors"][0]["count"] == mesh.vertices.shape[1]
    bin_length, bin_type = struct.unpack_from("<II", data, 20 + json_length)
    assert bin_type == 0x004E4942
    assert bin_length == document["buffers"][0]["byteLength"]


def test_save_webm_writes_a_vp9_webm(ctx: RecordingContext) -> None:
    ui = run_node(
        ctx,
        "SaveWEBM",
        images=_frames(ctx, 4),
        filename_prefix="clip",
        codec="vp9",
        fps=6.0,
        crf=32.0,
    ).ui
    assert ui == {
        "images": [{"filename": "clip_00001_.webm", "subfolder": "", "type": "output"}],
        "animated": [True],
    }
    with av.open(str(ctx.output_dir / "clip_00001_.webm")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name in {"vp9", "libvpx-vp9"}
        assert sum(1 for _ in container.decode(stream)) == 4
