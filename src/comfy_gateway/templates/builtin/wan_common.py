"""Parameters and graph pieces the WAN 2.2 builders share.

Defaults follow the official ComfyUI WAN 2.2 templates: the LightX2V 4-step LoRAs are on
by default (4 steps, cfg 1), and without them the slower full path runs (20 steps, with
the template's cfg). The model file names are those the official templates download.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.templates.builtin.nodes import link, node
from comfy_gateway.templates.model import Parameter, ParameterType

TEXT_ENCODER = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
VAE = "wan_2.1_vae.safetensors"
LORA_STEPS, LORA_CFG = 4, 1.0
FULL_STEPS = 20
DEFAULT_NEGATIVE = (
    "blurry, low quality, worst quality, static, overexposed, jpeg artifacts, watermark, "
    "subtitles, text, deformed, disfigured, extra fingers, bad hands, messy background"
)
SAMPLERS = (
    "euler",
    "euler_ancestral",
    "uni_pc",
    "uni_pc_bh2",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "res_multistep",
    "lcm",
    "ddim",
)
SCHEDULERS = (
    "simple",
    "sgm_uniform",
    "karras",
    "exponential",
    "ddim_uniform",
    "beta",
    "normal",
    "linear_quadratic",
    "kl_optimal",
)
P = ParameterType


def text_parameters() -> tuple[Parameter, ...]:
    return (
        Parameter(name="prompt", type=P.STRING, required=True, description="What happens."),
        Parameter(
            name="negative",
            type=P.STRING,
            default=DEFAULT_NEGATIVE,
            description="What to avoid.",
        ),
    )


def sampling_parameters(*, sampler: str, full_cfg: float, shift: float) -> tuple[Parameter, ...]:
    return (
        Parameter(
            name="seed",
            type=P.INT,
            default=-1,
            minimum=0,
            maximum=2**64 - 1,
            random_seed=True,
            description="Noise seed; -1 draws a random one (returned in resolved_params).",
        ),
        Parameter(
            name="steps",
            type=P.INT,
            minimum=1,
            maximum=200,
            description=f"Sampling steps (default {LORA_STEPS} with use_lora, else {FULL_STEPS}).",
        ),
        Parameter(
            name="cfg",
            type=P.FLOAT,
            minimum=0.0,
            maximum=30.0,
            description=f"Guidance (default {LORA_CFG} with use_lora, else {full_cfg}).",
        ),
        Parameter(name="sampler", type=P.ENUM, default=sampler, choices=SAMPLERS),
        Parameter(name="scheduler", type=P.ENUM, default="simple", choices=SCHEDULERS),
        Parameter(name="shift", type=P.FLOAT, default=shift, minimum=0.0, maximum=100.0),
        Parameter(
            name="use_lora",
            type=P.BOOL,
            default=True,
            description="LightX2V 4-step LoRAs: fast (4 steps, cfg 1) instead of the 20-step path.",
        ),
    )


def video_parameters(*, frames: int, size: int, prefix: str) -> tuple[Parameter, ...]:
    return (
        Parameter(name="width", type=P.INT, default=size, minimum=16, maximum=4096, step=16),
        Parameter(name="height", type=P.INT, default=size, minimum=16, maximum=4096, step=16),
        Parameter(
            name="frames",
            type=P.INT,
            default=frames,
            minimum=1,
            maximum=4097,
            step=4,
            description="Number of frames, 4k+1 (81 frames at 16 fps = 5 s).",
        ),
        Parameter(name="fps", type=P.FLOAT, default=16.0, minimum=1.0, maximum=120.0),
        Parameter(name="filename_prefix", type=P.STRING, default=prefix, minimum=1, maximum=200),
    )


def model_parameter(name: str, default: str, description: str) -> Parameter:
    return Parameter(
        name=name, type=P.STRING, default=default, minimum=1, maximum=255, description=description
    )


def encoder_parameters() -> tuple[Parameter, ...]:
    return (
        model_parameter("text_encoder", TEXT_ENCODER, "UMT5 text encoder (text_encoders)."),
        model_parameter("vae", VAE, "WAN VAE (vae)."),
    )


def steps_and_cfg(values: Mapping[str, Any], full_cfg: float) -> tuple[int, float]:
    """Steps and cfg as given, else the LoRA path's or the full path's defaults."""
    lora = bool(values["use_lora"])
    steps = values.get("steps", LORA_STEPS if lora else FULL_STEPS)
    cfg = values.get("cfg", LORA_CFG if lora else full_cfg)
    return int(steps), float(cfg)


def text_nodes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Text encoder, the two prompts and the VAE: nodes 38, 6, 7 and 39."""
    return {
        "38": node(
            "CLIPLoader",
            "Load CLIP",
            clip_name=values["text_encoder"],
            type="wan",
            device="default",
        ),
        "6": node("CLIPTextEncode", "Positive prompt", clip=link("38"), text=values["prompt"]),
        "7": node("CLIPTextEncode", "Negative prompt", clip=link("38"), text=values["negative"]),
        "39": node("VAELoader", "Load VAE", vae_name=values["vae"]),
    }


def output_nodes(
    values: Mapping[str, Any], *, samples: str, audio: str | None, ids: tuple[str, str, str]
) -> dict[str, Any]:
    """VAEDecode → CreateVideo (with the audio track if any) → SaveVideo."""
    decode, create, save = ids
    video_inputs: dict[str, Any] = {"images": link(decode), "fps": float(values["fps"])}
    if audio is not None:
        video_inputs["audio"] = link(audio)
    return {
        decode: node("VAEDecode", "VAE Decode", samples=link(samples), vae=link("39")),
        create: node("CreateVideo", "Create Video", **video_inputs),
        save: node(
            "SaveVideo",
            "Save Video",
            video=link(create),
            filename_prefix=values["filename_prefix"],
            format="auto",
            codec="auto",
        ),
    }


def expert_model(
    values: Mapping[str, Any], *, unet: str, lora: str, ids: tuple[str, str, str]
) -> dict[str, Any]:
    """UNETLoader → (LoRA when use_lora) → ModelSamplingSD3; the last id is the model out."""
    loader, lora_node, sampling = ids
    nodes: dict[str, Any] = {
        loader: node(
            "UNETLoader",
            unet.replace("_", " ").capitalize(),
            unet_name=values[unet],
            weight_dtype="default",
        ),
    }
    model_from = loader
    if values["use_lora"]:
        nodes[lora_node] = node(
            "LoraLoaderModelOnly",
            lora.replace("_", " ").capitalize(),
            model=link(loader),
            lora_name=values[lora],
            strength_model=1.0,
        )
        model_from = lora_node
    nodes[sampling] = node(
        "ModelSamplingSD3", "Shift", model=link(model_from), shift=float(values["shift"])
    )
    return nodes


def models_by_folder(values: Mapping[str, Any], folders: Mapping[str, str]) -> dict[str, list[str]]:
    """``{model folder: [file names]}`` for the model parameters in ``folders`` the graph
    loads (LoRA files only when ``use_lora``)."""
    by_folder: dict[str, list[str]] = {}
    for name, folder in folders.items():
        if folder != "loras" or values["use_lora"]:
            by_folder.setdefault(folder, []).append(str(values[name]))
    return by_folder
