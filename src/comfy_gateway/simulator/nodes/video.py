"""Video nodes: CreateVideo, GetVideoComponents, LoadVideo, SaveVideo (a real MP4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.files import input_file_fingerprint, resolve_input_file
from comfy_gateway.simulator.nodes.media_io import decode_video_file, encode_mp4, encode_webm
from comfy_gateway.simulator.nodes.registry import NodeResult, fingerprints, implements
from comfy_gateway.simulator.nodes.save_files import save_target
from comfy_gateway.simulator.nodes.values import VideoValue


@implements("CreateVideo")
def create_video(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    video = VideoValue(frames=inputs["images"], fps=float(inputs["fps"]), audio=inputs.get("audio"))
    return NodeResult(outputs=(video,))


@implements("GetVideoComponents")
def get_video_components(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    video: VideoValue = inputs["video"]
    return NodeResult(outputs=(video.frames, video.audio, video.fps))


@implements("LoadVideo")
def load_video(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    path = resolve_input_file(str(inputs["file"]), ctx.input_dir, ctx)
    return NodeResult(outputs=(decode_video_file(path),))


@fingerprints("LoadVideo")
def load_video_fingerprint(inputs: dict[str, Any], input_dir: Path) -> str | None:
    return input_file_fingerprint(inputs.get("file"), input_dir)


@implements("SaveVideo")
def save_video(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    """Both `auto` and `mp4`/`h264` give an MP4, reported as an animated image (§14)."""
    video: VideoValue = inputs["video"]
    height, width = video.frames.shape[1], video.frames.shape[2]
    prefix = str(inputs.get("filename_prefix", "video/ComfyUI"))
    target = save_target(prefix, ctx.output_dir, width, height)
    ctx.check_interrupted()
    encode_mp4(target.path("mp4"), video)
    return NodeResult(
        outputs=(), ui={"images": [target.result("mp4", 0, "output")], "animated": [True]}
    )


@implements("SaveWEBM")
def save_webm(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    images = inputs["images"]
    target = save_target(
        str(inputs["filename_prefix"]), ctx.output_dir, images.shape[2], images.shape[1]
    )
    ctx.check_interrupted()
    encode_webm(
        target.path("webm"),
        images,
        float(inputs["fps"]),
        str(inputs["codec"]),
        float(inputs["crf"]),
    )
    ui = {"images": [target.result("webm", 0, "output")], "animated": [True]}
    return NodeResult(outputs=(), ui=ui)
