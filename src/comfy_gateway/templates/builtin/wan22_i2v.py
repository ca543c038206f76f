"""``wan22-i2v``: WAN 2.2 14B image-to-video, high-noise then low-noise expert.

Modelled on the official ``video_wan2_2_14B_i2v.json``: two KSamplerAdvanced stages share
one schedule; the high-noise expert denoises the first half of the steps and hands its
leftover noise to the low-noise expert, which finishes. With ``use_lora`` each expert
goes through its LightX2V 4-step LoRA (4 steps, cfg 1); without, the 20-step path runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.templates.builtin import wan_common as wan
from comfy_gateway.templates.builtin.nodes import link, node
from comfy_gateway.templates.model import BuiltWorkflow, Parameter, ParameterType, Template
from comfy_gateway.templates.render import media_name_for

NAME = "wan22-i2v"
FULL_CFG = 3.5
#: parameter → ComfyUI model folder, for installing or checking the model files.
MODEL_FOLDERS = {
    "high_noise_model": "diffusion_models",
    "low_noise_model": "diffusion_models",
    "high_noise_lora": "loras",
    "low_noise_lora": "loras",
    "text_encoder": "text_encoders",
    "vae": "vae",
}


def parameters() -> tuple[Parameter, ...]:
    image = Parameter(
        name="image", type=ParameterType.IMAGE, required=True, description="The first frame."
    )
    models = (
        wan.model_parameter(
            "high_noise_model",
            "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors",
            "High-noise expert (diffusion_models).",
        ),
        wan.model_parameter(
            "low_noise_model",
            "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors",
            "Low-noise expert (diffusion_models).",
        ),
        wan.model_parameter(
            "high_noise_lora",
            "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors",
            "LightX2V LoRA for the high-noise expert (loras).",
        ),
        wan.model_parameter(
            "low_noise_lora",
            "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors",
            "LightX2V LoRA for the low-noise expert (loras).",
        ),
    )
    return (
        *wan.text_parameters(),
        image,
        *wan.sampling_parameters(sampler="euler", full_cfg=FULL_CFG, shift=5.0),
        *wan.video_parameters(frames=81, size=640, prefix="video/wan22_i2v"),
        *models,
        *wan.encoder_parameters(),
    )


def build(values: Mapping[str, Any]) -> BuiltWorkflow:
    """The API-format graph for validated ``values`` (media already named)."""
    steps, cfg = wan.steps_and_cfg(values, FULL_CFG)
    split = max(1, steps // 2)
    graph: dict[str, dict[str, Any]] = {
        **wan.expert_model(
            values, unet="high_noise_model", lora="high_noise_lora", ids=("37", "101", "54")
        ),
        **wan.expert_model(
            values, unet="low_noise_model", lora="low_noise_lora", ids=("56", "102", "55")
        ),
        **wan.text_nodes(values),
        "62": node("LoadImage", "Start image", image=values["image"]),
        "63": node(
            "WanImageToVideo",
            "WanImageToVideo",
            positive=link("6"),
            negative=link("7"),
            vae=link("39"),
            start_image=link("62"),
            width=values["width"],
            height=values["height"],
            length=values["frames"],
            batch_size=1,
        ),
        "57": _stage(
            values,
            "High-noise stage",
            model="54",
            latent=link("63", 2),
            steps=(steps, 0, split),
            cfg=cfg,
            first=True,
        ),
        "58": _stage(
            values,
            "Low-noise stage",
            model="55",
            latent=link("57"),
            steps=(steps, split, 10000),
            cfg=cfg,
            first=False,
        ),
        **wan.output_nodes(values, samples="58", audio=None, ids=("8", "94", "61")),
    }
    return BuiltWorkflow(workflow=graph, resolved={"steps": steps, "cfg": cfg})


def _stage(
    values: Mapping[str, Any],
    title: str,
    *,
    model: str,
    latent: list[Any],
    steps: tuple[int, int, int],
    cfg: float,
    first: bool,
) -> dict[str, Any]:
    total, start, end = steps
    # Only the first stage adds noise; it hands its leftover noise to the second.
    return node(
        "KSamplerAdvanced",
        title,
        model=link(model),
        positive=link("63", 0),
        negative=link("63", 1),
        latent_image=latent,
        add_noise="enable" if first else "disable",
        noise_seed=values["seed"] if first else 0,
        steps=total,
        cfg=cfg,
        sampler_name=values["sampler"],
        scheduler=values["scheduler"],
        start_at_step=start,
        end_at_step=end,
        return_with_leftover_noise="enable" if first else "disable",
    )


def required_models(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """``{model folder: [file names]}`` the graph for resolved ``values`` loads."""
    return wan.models_by_folder(values, MODEL_FOLDERS)


def template() -> Template:
    params = parameters()
    defaults = {p.name: p.default for p in params if p.default is not None}
    example = build({**defaults, "prompt": "", "image": media_name_for("image"), "seed": 0})
    return Template(
        name=NAME,
        description="WAN 2.2 14B image-to-video: high-noise and low-noise experts, "
        "optional LightX2V 4-step LoRAs.",
        version="1",
        parameters=params,
        workflow=example.workflow,
        builder=build,
    )
