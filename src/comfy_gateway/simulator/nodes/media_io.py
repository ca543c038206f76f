"""Encoding and decoding real media files with PyAV (FLAC audio, MP4 video with audio)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from comfy_gateway.simulator.nodes.values import FloatArray, VideoValue, audio_value

_LAYOUTS = {1: "mono", 2: "stereo"}


def _video_codec_name() -> str:
    # Whatever this PyAV build can encode: H.264 when present, MPEG-4 part 2 otherwise.
    for name in ("libx264", "h264", "mpeg4"):
        if name in av.codecs_available:
            return name
    raise RuntimeError("this PyAV build has no H.264 or MPEG-4 encoder")


def decode_audio_file(path: Path) -> dict[str, Any]:
    """Every sample of the first audio stream as AUDIO ([1, channels, samples] float32)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = int(stream.rate)
        resampler = av.AudioResampler(format="fltp", layout=stream.layout, rate=rate)
        chunks = [
            chunk.to_ndarray()
            for frame in container.decode(stream)
            for chunk in resampler.resample(frame)
        ]
    channels = len(stream.layout.channels)
    samples = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    return audio_value(samples[np.newaxis].astype(np.float32), rate)


def encode_flac(
    path: Path, waveform: FloatArray, sample_rate: int, metadata: dict[str, str]
) -> None:
    """Write one [channels, samples] clip as FLAC."""
    with av.open(str(path), mode="w", format="flac") as container:
        container.metadata.update(metadata)
        stream = container.add_stream("flac", rate=sample_rate)
        stream.layout = _layout(waveform.shape[0])
        _mux_audio(container, stream, waveform, sample_rate)


def encode_mp4(path: Path, video: VideoValue) -> None:
    """Write a VIDEO as MP4 (H.264 or MPEG-4, yuv420p), with an AAC track if it has audio."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream: Any = container.add_stream(_video_codec_name(), rate=_frame_rate(video.fps))
        frames = even_sized(video.frames)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if stream.codec_context.name == "libx264":
            # Speed over size: a simulated video is for checking plumbing, not for viewing.
            stream.options = {"preset": "ultrafast"}
        audio_stream = _add_audio_stream(container, video.audio)
        for image in frames:
            pixels = np.clip(image * 255.0, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio_stream is not None and video.audio is not None:
            waveform = video.audio["waveform"][0]
            _mux_audio(container, audio_stream, waveform, int(video.audio["sample_rate"]))


def encode_webm(path: Path, frames: FloatArray, fps: float, codec: str, crf: float) -> None:
    """Write frames as WebM (VP9, or AV1 when asked and this build has SVT-AV1)."""
    use_av1 = codec == "av1" and "libsvtav1" in av.codecs_available
    with av.open(str(path), mode="w", format="webm") as container:
        rate = Fraction(round(fps * 1000), 1000)
        stream: Any = container.add_stream("libsvtav1" if use_av1 else "libvpx-vp9", rate=rate)
        even = even_sized(frames)
        stream.width, stream.height = even.shape[2], even.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(int(crf))}
        for image in even:
            pixels = np.clip(image[..., :3] * 255.0, 0, 255).astype(np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode(None))


def decode_video_file(path: Path) -> VideoValue:
    """Frames (as IMAGE), frame rate and audio of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 24)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
        has_audio = bool(container.streams.audio)
    images = np.stack(frames).astype(np.float32) / 255.0
    audio = decode_audio_file(path) if has_audio else None
    return VideoValue(frames=images, fps=fps, audio=audio)


def even_sized(frames: FloatArray) -> FloatArray:
    """Pad odd widths/heights by one edge pixel: yuv420p needs even sides."""
    pad_height, pad_width = frames.shape[1] % 2, frames.shape[2] % 2
    if not pad_height and not pad_width:
        return frames
    return np.pad(frames, ((0, 0), (0, pad_height), (0, pad_width), (0, 0)), mode="edge")


def _add_audio_stream(container: Any, audio: dict[str, Any] | None) -> Any:
    if audio is None:
        return None
    stream = container.add_stream("aac", rate=int(audio["sample_rate"]))
    stream.layout = _layout(audio["waveform"].shape[1])
    return stream


def _mux_audio(container: Any, stream: Any, waveform: FloatArray, sample_rate: int) -> None:
    planar = np.ascontiguousarray(np.clip(waveform[:2], -1.0, 1.0).astype(np.float32))
    frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=_layout(planar.shape[0]))
    frame.sample_rate = sample_rate
    frame.pts = 0
    container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def _layout(channels: int) -> str:
    return _LAYOUTS.get(min(channels, 2), "stereo")


def _frame_rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)
