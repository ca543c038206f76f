"""Checks of one widget value (not a link): coercion, min/max, combo lists, media names.

Coercion is ComfyUI's: the value is passed through ``int``/``float``/``str``/``bool``
for those input types, so ``"64"`` and ``64.0`` are valid INTs and ``"abc"`` is not, with
Python's own error text as the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from comfy_gateway.comfy import InputSpec
from comfy_gateway.validation import error_shapes
from comfy_gateway.validation.crash import ValidationCrash
from comfy_gateway.validation.error_shapes import ErrorDict

_COERCIONS: dict[str, Callable[[Any], Any]] = {
    "INT": int,
    "FLOAT": float,
    "STRING": str,
    "BOOLEAN": bool,
}
# Upload widgets whose node checks the file itself (LoadImage, LoadAudio, LoadVideo):
# ComfyUI skips the list check for them and runs the node's own file check instead.
_MEDIA_KINDS = frozenset({"image", "audio", "video"})
GATEWAY_MEDIA_NAME = re.compile(r"comfy-gateway/[0-9a-f]{64}\.[A-Za-z0-9]{1,16}")
_ANNOTATION = re.compile(r"^(?P<name>.*) \[(?P<folder>input|output|temp)\]$")


@dataclass(frozen=True, kw_only=True)
class WidgetVerdict:
    """The error of one value (None when it passes) and whether a fresh list could help."""

    error: ErrorDict | None = None
    list_may_be_stale: bool = False


def check_widget_value(
    spec: InputSpec,
    value: Any,
    *,
    choices: Sequence[Any] | None,
    folder: str | None,
    media_names: Collection[str],
) -> WidgetVerdict:
    """Check ``value`` for ``spec`` as ComfyUI's ``validate_inputs`` does."""
    if isinstance(value, dict) and "__value__" in value:
        value = value["__value__"]
    config = error_shapes.input_config(spec, choices)
    coerce = _COERCIONS.get(spec.type)
    if coerce is not None:
        try:
            value = coerce(value)
        except (ValueError, TypeError, OverflowError) as exc:
            error = error_shapes.invalid_input_type(spec.name, config, spec.type, value, str(exc))
            return WidgetVerdict(error=error)
    if spec.upload_kind in _MEDIA_KINDS:
        return _check_media(spec, value, choices or (), media_names)
    bound_error = _check_bounds(spec, config, value)
    if bound_error is not None:
        return WidgetVerdict(error=bound_error)
    if spec.is_combo and choices is not None and value not in choices:
        error = error_shapes.value_not_in_list(spec.name, config, value, choices, folder)
        return WidgetVerdict(error=error, list_may_be_stale=True)
    return WidgetVerdict()


def _check_bounds(spec: InputSpec, config: list[Any], value: Any) -> ErrorDict | None:
    try:
        if "min" in spec.options and value < spec.min:
            return error_shapes.out_of_range(spec.name, config, value, bound=spec.min, above=False)
        if "max" in spec.options and value > spec.max:
            return error_shapes.out_of_range(spec.name, config, value, bound=spec.max, above=True)
    except TypeError as exc:
        # ComfyUI does not catch this either: the node's validation breaks off.
        raise ValidationCrash.from_exception(exc) from exc
    return None


def _check_media(
    spec: InputSpec, value: Any, choices: Sequence[Any], media_names: Collection[str]
) -> WidgetVerdict:
    if is_known_media(value, choices, media_names):
        return WidgetVerdict()
    error = error_shapes.media_file_missing(spec.name, str(spec.upload_kind), value)
    return WidgetVerdict(error=error, list_may_be_stale=True)


def is_known_media(value: Any, choices: Sequence[Any], media_names: Collection[str]) -> bool:
    """True for one of the job's media items, a gateway upload, or a listed input file.

    A ``name [output]`` / ``name [temp]`` reference points outside the input folder, which
    no catalogue lists: it is let through rather than refused on a guess.
    """
    if not isinstance(value, str):
        return False
    name, folder = split_annotation(value)
    if folder in ("output", "temp"):
        return True
    if value in media_names or name in media_names or GATEWAY_MEDIA_NAME.fullmatch(name):
        return True
    return name in choices


def split_annotation(value: str) -> tuple[str, str | None]:
    """``"a.png [input]"`` → ``("a.png", "input")``; an unannotated name → ``(name, None)``."""
    match = _ANNOTATION.match(value)
    if match is None:
        return value, None
    return match["name"], match["folder"]
