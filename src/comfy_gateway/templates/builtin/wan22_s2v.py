"""``wan22-s2v``: WAN 2.2 14B sound-to-video, a reference image driven by an audio track.

Modelled on the official ``video_wan2_2_14B_s2v.json``: wav2vec2 encodes the audio
(AudioEncoderLoader → AudioEncoderEncode), WanSoundImageToVideo conditions on it and on
the reference image, one KSampler denoises, and CreateVideo muxes the original audio
into the saved video. ``use_lora`` adds the LightX2V 4-step LoRA (4 steps, cfg 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.templates.builtin import wan_common as wan
from comfy_gateway.templates.builtin.nodes import link, node
from comfy_gateway.templates.model import BuiltWorkflow, Parameter, ParameterType, Template
from comfy_gateway.templates.render import media_name_for

NAME = "wan22-s2v"
FULL_CFG = 6.0
MODEL_FOLDERS = {
    "model": "diffusion_models",
    "lora": "loras",
    "audio_encoder": "audio_encoders",
    "text_encoder": "text_encoders",
    "vae": "vae",
}


def parameters() -> tuple[Parameter, ...]:
    media = (
        Parameter(
            name="image",
            type=ParameterType.IMAGE,
            required=True,
            description="The reference image (who is seen).",
        ),
        Parameter(
            name="audio",
            type=ParameterType.AUDIO,
            required=True,
            description="The sound track (what is heard); it is kept in the video.",
        ),
    )
    models = (
        wan.model_parameter(
            "model",
            "wan2.2_s2v_14B_fp8_scaled.safetensors",
            "Sound-to-video model (diffusion_models).",
        ),
        wan.model_parameter(
            "lora",
            "wan2.2_t2v_lightx2v_4steps_lora_v1.1_high_noise.safetensors",
            "LightX2V 4-step LoRA (loras).",
        ),
        wan.model_parameter(
            "audio_encoder",
            "wav2vec2_large_english_fp16.safetensors",
            "Audio encoder (audio_encoders).",
        ),
    )
    return (
        *wan.text_parameters(),
        *media,
        *wan.sampling_parameters(sampler="uni_pc", full_cfg=FULL_CFG, shift=8.0),
        *wan.video_parameters(frames=77, size=640, prefix="video/wan22_s2v"),
        *models,
        *wan.encoder_parameters(),
    )


def build(values: Mapping[str, Any]) -> BuiltWorkflow:
    """The API-format graph for validated ``values`` (media already named)."""
    steps, cfg = wan.steps_and_cfg(values, FULL_CFG)
    graph: dict[str, dict[str, Any]] = {
        **wan.expert_model(values, unet="model", lora="lora", ids=("37", "107", "54")),
        **wan.text_nodes(values),
        "57": node(
            "AudioEncoderLoader", "Load audio encoder", audio_encoder_name=values["audio_encoder"]
        ),
        "58": node("LoadAudio", "Sound track", audio=values["audio"]),
        "56": node(
            "AudioEncoderEncode", "Encode audio", audio_encoder=link("57"), audio=link("58")
        ),
        "52": node("LoadImage", "Reference image", image=values["image"]),
        "93": node(
            "WanSoundImageToVideo",
            "WanSoundImageToVideo",
            positive=link("6"),
            negative=link("7"),
            vae=link("39"),
            audio_encoder_output=link("56"),
            ref_image=link("52"),
            width=values["width"],
            height=values["height"],
            length=values["frames"],
            batch_size=1,
        ),
        "3": node(
            "KSampler",
            "KSampler",
            model=link("54"),
            positive=link("93", 0),
            negative=link("93", 1),
            latent_image=link("93", 2),
            seed=values["seed"],
            steps=steps,
            cfg=cfg,
            sampler_name=values["sampler"],
            scheduler=values["scheduler"],
            denoise=1.0,
        ),
        **wan.output_nodes(values, samples="3", audio="58", ids=("8", "82", "113")),
    }
    return BuiltWorkflow(workflow=graph, resolved={"steps": steps, "cfg": cfg})


def required_models(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{model folder: [file names]}`` the graph for resolved ``values`` loads."""
    return wan.models_by_folder(values, MODEL_FOLDERS)


def template() -> Template:
    params = parameters()
    defaults = {p.name: p.default for p in params if p.default is not None}
    media = {"image": media_name_for("image"), "audio": media_name_for("audio")}
    example = build({**defaults, **media, "prompt": "", "seed": 0})
    return Template(
        name=NAME,
        description="WAN 2.2 14B sound-to-video: a reference image animated by an audio "
        "track, saved as a video with that audio.",
        version="1",
        parameters=params,
        workflow=example.workflow,
        builder=build,
    )
