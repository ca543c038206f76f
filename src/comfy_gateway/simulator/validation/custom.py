"""The VALIDATE_INPUTS hooks of ComfyUI's core loaders that the simulator reproduces.

A node with such a hook skips the min/max/combo checks for the inputs the hook takes and
reports a `custom_validation_failed` reason instead when the hook answers a message.
ComfyUI's loaders only ask whether the named file exists (an annotated name such as
`x.png [output]` points into another folder); they never compare it with the combo list,
so `sub/name.png` is valid when that file exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_gateway.simulator.catalogue import NodeCatalogue

ANNOTATION_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("[output]", "output"),
    ("[input]", "input"),
    ("[temp]", "temp"),
)


@dataclass(frozen=True, kw_only=True)
class FileHook:
    """A hook taking one input, a file name, and refusing names that do not exist."""

    input_name: str
    refusal: str  # formatted with the received name
    hook_name: str = "VALIDATE_INPUTS"


FILE_HOOKS: Mapping[str, FileHook] = {
    "LoadImage": FileHook(input_name="image", refusal="Invalid image file: {}"),
    "LoadImageMask": FileHook(input_name="image", refusal="Invalid image file: {}"),
    "LoadImageOutput": FileHook(input_name="image", refusal="Invalid image file: {}"),
    "LoadAudio": FileHook(input_name="audio", refusal="Invalid audio file: {}"),
    "LoadVideo": FileHook(
        input_name="file", refusal="Invalid video file: {}", hook_name="validate_inputs"
    ),
    "LoadLatent": FileHook(input_name="latent", refusal="Invalid latent file: {}"),
}


def hook_for(class_type: str) -> FileHook | None:
    return FILE_HOOKS.get(class_type)


def annotated_path(name: Any, catalogue: NodeCatalogue) -> Path | str:
    """Where ComfyUI looks for `name`; a non-string name fails as it does in ComfyUI."""
    folders = {
        "output": catalogue.output_dir,
        "input": catalogue.input_dir,
        "temp": catalogue.temp_dir,
    }
    for suffix, folder in ANNOTATION_SUFFIXES:
        if name.endswith(suffix):
            # ComfyUI cuts the suffix and the space before it.
            return os.path.join(folders[folder], name[: -len(suffix) - 1])
    return os.path.join(catalogue.input_dir, name)


def run_hook(
    hook: FileHook, class_type: str, arguments: dict[str, Any], catalogue: NodeCatalogue
) -> Any:
    """True when the file exists, else the refusal; raises like ComfyUI on odd arguments."""
    if hook.input_name not in arguments:
        # ComfyUI calls the hook without the argument: Python refuses the call.
        raise TypeError(
            f"{class_type}.{hook.hook_name}() missing 1 required positional argument: "
            f"'{hook.input_name}'"
        )
    name = arguments[hook.input_name]
    if os.path.exists(annotated_path(name, catalogue)):
        return True
    return hook.refusal.format(name)
