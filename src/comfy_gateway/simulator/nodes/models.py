"""Model loaders and encoders, simulated: right-typed markers that remember their inputs."""

from __future__ import annotations

from typing import Any

from comfy_gateway.simulator.nodes.context import NodeContext
from comfy_gateway.simulator.nodes.digests import digest_of
from comfy_gateway.simulator.nodes.registry import NodeResult, implements
from comfy_gateway.simulator.nodes.vae import SimulatedVae, vae_for_file
from comfy_gateway.simulator.nodes.values import Conditioning, Marker


def _marker(kind: str, source: str, inputs: dict[str, Any], *names: str) -> Marker:
    return Marker(kind=kind, source=source, details=tuple((n, inputs.get(n)) for n in names))


def _with_lora(model: Any, name: str, strength: float) -> Any:
    """A copy of a MODEL/CLIP marker that also lists this LoRA."""
    if not isinstance(model, Marker):
        return model
    loras = (*model.detail("loras", ()), (name, strength))
    return model.with_details(loras=loras)


@implements("UNETLoader")
def unet_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    model = _marker("MODEL", "UNETLoader", inputs, "unet_name", "weight_dtype")
    return NodeResult(outputs=(model,))


@implements("CheckpointLoaderSimple")
def checkpoint_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    name = str(inputs["ckpt_name"])
    model = _marker("MODEL", "CheckpointLoaderSimple", inputs, "ckpt_name")
    clip = _marker("CLIP", "CheckpointLoaderSimple", inputs, "ckpt_name")
    return NodeResult(outputs=(model, clip, SimulatedVae(kind="image", name=name)))


@implements("CLIPLoader")
def clip_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=(_marker("CLIP", "CLIPLoader", inputs, "clip_name", "type"),))


@implements("DualCLIPLoader")
def dual_clip_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    clip = _marker("CLIP", "DualCLIPLoader", inputs, "clip_name1", "clip_name2", "type")
    return NodeResult(outputs=(clip,))


@implements("VAELoader")
def vae_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=(vae_for_file(str(inputs["vae_name"])),))


@implements("LoraLoaderModelOnly")
def lora_model_only(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    strength = float(inputs["strength_model"])
    return NodeResult(outputs=(_with_lora(inputs["model"], inputs["lora_name"], strength),))


@implements("LoraLoader")
def lora_loader(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    name = inputs["lora_name"]
    model = _with_lora(inputs["model"], name, float(inputs["strength_model"]))
    clip = _with_lora(inputs["clip"], name, float(inputs["strength_clip"]))
    return NodeResult(outputs=(model, clip))


@implements("ModelSamplingSD3")
def model_sampling_sd3(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    model = inputs["model"]
    if isinstance(model, Marker):
        model = model.with_details(shift=float(inputs["shift"]))
    return NodeResult(outputs=(model,))


@implements("CLIPTextEncode")
def clip_text_encode(inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]) -> NodeResult:
    return NodeResult(outputs=(Conditioning(text=str(inputs["text"]), clip=inputs["clip"]),))


@implements("CLIPVisionLoader")
def clip_vision_loader(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    return NodeResult(outputs=(_marker("CLIP_VISION", "CLIPVisionLoader", inputs, "clip_name"),))


@implements("CLIPVisionEncode")
def clip_vision_encode(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    details = (("image", digest_of(inputs["image"])), ("crop", inputs.get("crop")))
    encoded = Marker(kind="CLIP_VISION_OUTPUT", source="CLIPVisionEncode", details=details)
    return NodeResult(outputs=(encoded,))


@implements("AudioEncoderLoader")
def audio_encoder_loader(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    encoder = _marker("AUDIO_ENCODER", "AudioEncoderLoader", inputs, "audio_encoder_name")
    return NodeResult(outputs=(encoder,))


@implements("AudioEncoderEncode")
def audio_encoder_encode(
    inputs: dict[str, Any], ctx: NodeContext, info: dict[str, Any]
) -> NodeResult:
    audio = inputs["audio"]
    seconds = audio["waveform"].shape[-1] / audio["sample_rate"]
    details = (("audio", digest_of(audio)), ("seconds", seconds))
    encoded = Marker(kind="AUDIO_ENCODER_OUTPUT", source="AudioEncoderEncode", details=details)
    return NodeResult(outputs=(encoded,))
