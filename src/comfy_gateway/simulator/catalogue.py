"""The simulator's node catalogue: ComfyUI's captured node definitions plus what is installed.

ComfyUI builds `GET /object_info` live: a model-file combo lists the files of its model
folder and an upload combo lists the input folder. The captured answer
(`data/object_info.json`, ComfyUI 0.3.64) was taken with no models installed, so those
lists are empty there. The catalogue refills them from the simulator's configured model
files and from its input folder, keeping each node's own combo encoding: V1 nodes spell a
combo `[[options], {...}]`, V3 nodes `["COMBO", {"options": [...], ...}]`.
"""

from __future__ import annotations

import copy
import json
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

DATA_PACKAGE = "comfy_gateway.simulator"

# (class_type, input name) → the ComfyUI model folder whose files the combo lists.
MODEL_FILE_INPUTS: Mapping[tuple[str, str], str] = {
    ("CheckpointLoaderSimple", "ckpt_name"): "checkpoints",
    ("CheckpointLoader", "ckpt_name"): "checkpoints",
    ("unCLIPCheckpointLoader", "ckpt_name"): "checkpoints",
    ("ImageOnlyCheckpointLoader", "ckpt_name"): "checkpoints",
    ("CreateHookModelAsLora", "ckpt_name"): "checkpoints",
    ("CreateHookModelAsLoraModelOnly", "ckpt_name"): "checkpoints",
    ("LoraLoader", "lora_name"): "loras",
    ("LoraLoaderModelOnly", "lora_name"): "loras",
    ("CreateHookLora", "lora_name"): "loras",
    ("CreateHookLoraModelOnly", "lora_name"): "loras",
    ("CLIPLoader", "clip_name"): "text_encoders",
    ("DualCLIPLoader", "clip_name1"): "text_encoders",
    ("DualCLIPLoader", "clip_name2"): "text_encoders",
    ("TripleCLIPLoader", "clip_name1"): "text_encoders",
    ("TripleCLIPLoader", "clip_name2"): "text_encoders",
    ("TripleCLIPLoader", "clip_name3"): "text_encoders",
    ("QuadrupleCLIPLoader", "clip_name1"): "text_encoders",
    ("QuadrupleCLIPLoader", "clip_name2"): "text_encoders",
    ("QuadrupleCLIPLoader", "clip_name3"): "text_encoders",
    ("QuadrupleCLIPLoader", "clip_name4"): "text_encoders",
    ("UNETLoader", "unet_name"): "diffusion_models",
    ("ControlNetLoader", "control_net_name"): "controlnet",
    ("DiffControlNetLoader", "control_net_name"): "controlnet",
    ("StyleModelLoader", "style_model_name"): "style_models",
    ("CLIPVisionLoader", "clip_name"): "clip_vision",
    ("GLIGENLoader", "gligen_name"): "gligen",
    ("DiffusersLoader", "model_path"): "diffusers",
    ("HypernetworkLoader", "hypernetwork_name"): "hypernetworks",
    ("UpscaleModelLoader", "model_name"): "upscale_models",
    ("PhotoMakerLoader", "photomaker_model_name"): "photomaker",
    ("ModelPatchLoader", "name"): "model_patches",
    ("AudioEncoderLoader", "audio_encoder_name"): "audio_encoders",
}

# ComfyUI still accepts the old names of two renamed folders (folder_paths.map_legacy).
LEGACY_FOLDER_NAMES: Mapping[str, str] = {"clip": "text_encoders", "unet": "diffusion_models"}

# VAELoader offers a TAESD approximation only when both halves are in vae_approx/.
TAESD_VARIANTS: tuple[str, ...] = ("taesd", "taesdxl", "taesd3", "taef1")

# ComfyUI overrides mimetypes for these; the rest pins host-dependent guesses.
EXTENSION_CONTENT_KINDS: Mapping[str, str] = {
    "webp": "image",
    "fbx": "model",
    "flac": "audio",
    "opus": "audio",
    "m4a": "audio",
    "webm": "video",
    "mkv": "video",
}

MODEL_3D_SUFFIXES = frozenset({".gltf", ".glb", ".obj", ".fbx", ".stl"})


def load_captured_object_info(
    extra_definitions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The captured `GET /object_info` answer, plus simulator-only node definitions."""
    resource = resources.files(DATA_PACKAGE).joinpath("data", "object_info.json")
    definitions: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    if extra_definitions:
        definitions.update(copy.deepcopy(dict(extra_definitions)))
    return definitions


def content_kind(file_name: str) -> str | None:
    """`image`, `audio`, `video`, … as ComfyUI's filter_files_content_types sees a name."""
    extension = file_name.rsplit(".", maxsplit=1)[-1]
    if extension.lower() in EXTENSION_CONTENT_KINDS:
        return EXTENSION_CONTENT_KINDS[extension.lower()]
    mime_type, _ = mimetypes.guess_type(file_name, strict=False)
    return mime_type.split("/")[0] if mime_type else None


def top_level_files(folder: Path) -> list[str]:
    """Names of the regular files directly in `folder` (none if it does not exist)."""
    if not folder.is_dir():
        return []
    return [entry.name for entry in folder.iterdir() if entry.is_file()]


def files_of_kinds(folder: Path, kinds: frozenset[str]) -> list[str]:
    """Top-level files whose content kind is one of `kinds`, sorted as ComfyUI sorts."""
    return sorted(name for name in top_level_files(folder) if content_kind(name) in kinds)


def latent_files(folder: Path) -> list[str]:
    """LoadLatent's list: `*.latent` files at the top of the input folder."""
    return sorted(name for name in top_level_files(folder) if name.endswith(".latent"))


def model_3d_files(folder: Path) -> list[str]:
    """Load3D's list: 3D files anywhere under `input/3d`, named relative to the input folder."""
    root = folder / "3d"
    if not root.is_dir():
        return []
    found = (path for path in root.rglob("*") if path.suffix.lower() in MODEL_3D_SUFFIXES)
    return sorted(path.relative_to(folder).as_posix() for path in found if path.is_file())


def sub_folders(folder: Path) -> list[str]:
    """The folders directly in the input folder (training set loaders pick one)."""
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if entry.is_dir())


def _images(folder: Path) -> list[str]:
    return files_of_kinds(folder, frozenset({"image"}))


def _audio_or_video(folder: Path) -> list[str]:
    return files_of_kinds(folder, frozenset({"audio", "video"}))


def _videos(folder: Path) -> list[str]:
    return files_of_kinds(folder, frozenset({"video"}))


# (class_type, input name) → how that upload combo lists the input folder.
INPUT_FOLDER_INPUTS: Mapping[tuple[str, str], Callable[[Path], list[str]]] = {
    ("LoadImage", "image"): _images,
    ("LoadImageMask", "image"): _images,
    ("LoadAudio", "audio"): _audio_or_video,
    ("LoadVideo", "file"): _videos,
    ("LoadLatent", "latent"): latent_files,
    ("Load3D", "model_file"): model_3d_files,
    ("Load3DAnimation", "model_file"): model_3d_files,
    ("LoadImageSetFromFolderNode", "folder"): sub_folders,
    ("LoadImageTextSetFromFolderNode", "folder"): sub_folders,
}


def vae_choices(vae_files: Sequence[str], approx_files: Sequence[str]) -> list[str]:
    """VAELoader's list: vae files, complete TAESD pairs, then the weightless pixel_space."""
    choices = list(vae_files)
    for variant in TAESD_VARIANTS:
        halves = (f"{variant}_decoder.", f"{variant}_encoder.")
        if all(any(name.startswith(half) for name in approx_files) for half in halves):
            choices.append(variant)
    choices.append("pixel_space")
    return choices


def with_combo_options(spec: Sequence[Any], options: list[str]) -> list[Any]:
    """`spec` with its combo options replaced, in the encoding the spec already uses."""
    if spec and isinstance(spec[0], list):
        return [options, *copy.deepcopy(list(spec[1:]))]
    extra = dict(spec[1]) if len(spec) > 1 else {}
    extra["options"] = options
    return [spec[0], copy.deepcopy(extra)]


def canonical_folder(folder: str) -> str:
    """A model folder's current name (`clip` → `text_encoders`, `unet` → `diffusion_models`)."""
    return LEGACY_FOLDER_NAMES.get(folder, folder)


class NodeCatalogue:
    """Node definitions as the simulated server currently offers them.

    Reads return fresh copies, so callers may keep or change what they get. Model files
    change through `set_model_files` (the control route); the input folder is read at
    each call, as ComfyUI lists it at each request.
    """

    def __init__(
        self,
        definitions: dict[str, Any],
        *,
        model_files: Mapping[str, Sequence[str]],
        input_dir: Path,
        output_dir: Path | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        self._definitions = definitions
        self._model_files: dict[str, list[str]] = {}
        self.input_dir = input_dir
        # The simulator's data dir holds input/, output/ and temp/ side by side.
        self.output_dir = output_dir if output_dir is not None else input_dir.parent / "output"
        self.temp_dir = temp_dir if temp_dir is not None else input_dir.parent / "temp"
        for folder, names in model_files.items():
            self.set_model_files(folder, names)

    def object_info(self) -> dict[str, Any]:
        """The full `GET /object_info` answer."""
        return {class_type: self._render(class_type) for class_type in self._definitions}

    def node_info(self, class_type: str) -> dict[str, Any] | None:
        """One class's definition (`GET /object_info/{class}`), None when unknown."""
        if class_type not in self._definitions:
            return None
        return self._render(class_type)

    def has_class(self, class_type: Any) -> bool:
        """Whether the class exists; an unhashable name raises TypeError, as in ComfyUI."""
        return class_type in self._definitions

    def is_output_node(self, class_type: str) -> bool:
        """Whether ComfyUI runs this class as an output (OUTPUT_NODE is True)."""
        definition = self._definitions.get(class_type)
        return definition is not None and definition.get("output_node") is True

    def class_types(self) -> list[str]:
        """Every known class name, in catalogue order."""
        return list(self._definitions)

    def set_model_files(self, folder: str, names: Sequence[str]) -> None:
        """Install exactly `names` (paths relative to the folder) in a model folder."""
        updated = dict(self._model_files)
        updated[canonical_folder(folder)] = sorted(names)
        # Replaced whole, so a reader in another thread sees the old or the new dict.
        self._model_files = updated

    def model_files(self) -> dict[str, list[str]]:
        """Installed model files per folder."""
        return {folder: list(names) for folder, names in self._model_files.items()}

    def _files_in(self, folder: str) -> list[str]:
        return list(self._model_files.get(folder, []))

    def _current_options(self, class_type: str, input_name: str) -> list[str] | None:
        key = (class_type, input_name)
        if key == ("VAELoader", "vae_name"):
            return vae_choices(self._files_in("vae"), self._files_in("vae_approx"))
        if key in MODEL_FILE_INPUTS:
            return self._files_in(MODEL_FILE_INPUTS[key])
        if key in INPUT_FOLDER_INPUTS:
            return INPUT_FOLDER_INPUTS[key](self.input_dir)
        return None

    def _render(self, class_type: str) -> dict[str, Any]:
        definition: dict[str, Any] = copy.deepcopy(self._definitions[class_type])
        for section in ("required", "optional"):
            specs = definition.get("input", {}).get(section, {})
            for input_name, spec in specs.items():
                options = self._current_options(class_type, input_name)
                if options is not None:
                    specs[input_name] = with_combo_options(spec, options)
        return definition
