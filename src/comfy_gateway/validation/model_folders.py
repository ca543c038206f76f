"""Which ComfyUI model folder a loader input reads its file from.

ComfyUI fills a loader's combo with the files of one folder under ``models/``; the
``/object_info`` answer lists the files but not the folder, so the mapping is ours. A
``(class, input)`` entry wins over the input name alone because ``clip_name`` means a
text encoder for CLIPLoader but a CLIP vision model for CLIPVisionLoader.
"""

from __future__ import annotations

from collections.abc import Mapping

_BY_CLASS_AND_INPUT: Mapping[tuple[str, str], str] = {
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
    ("UpscaleModelLoader", "model_name"): "upscale_models",
    ("DiffusersLoader", "model_path"): "diffusers",
    ("ModelPatchLoader", "name"): "model_patches",
    ("CreateHookModelAsLora", "ckpt_name"): "checkpoints",
    ("CreateHookModelAsLoraModelOnly", "ckpt_name"): "checkpoints",
}

_BY_INPUT: Mapping[str, str] = {
    "ckpt_name": "checkpoints",
    "vae_name": "vae",
    "lora_name": "loras",
    "unet_name": "diffusion_models",
    "clip_name": "text_encoders",
    "clip_name1": "text_encoders",
    "clip_name2": "text_encoders",
    "clip_name3": "text_encoders",
    "clip_name4": "text_encoders",
    "control_net_name": "controlnet",
    "style_model_name": "style_models",
    "gligen_name": "gligen",
    "hypernetwork_name": "hypernetworks",
    "photomaker_model_name": "photomaker",
    "audio_encoder_name": "audio_encoders",
    "upscale_model_name": "upscale_models",
}

# Entries of a loader's list that name a built-in behaviour, not a file to install.
_BUILT_IN_ENTRIES = frozenset({"pixel_space", "taesd", "taesdxl", "taesd3", "taef1"})


def model_folder(class_type: str, input_name: str) -> str | None:
    """The model folder feeding ``class_type.input_name``, or None for other inputs."""
    return _BY_CLASS_AND_INPUT.get((class_type, input_name)) or _BY_INPUT.get(input_name)


def is_model_file_value(value: object) -> bool:
    """True when a loader value names a file to install (not e.g. VAELoader's pixel_space)."""
    return isinstance(value, str) and bool(value) and value not in _BUILT_IN_ENTRIES
