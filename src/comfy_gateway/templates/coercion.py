"""Checking one raw parameter value against its declared type and limits.

Values arrive from JSON bodies and from multipart forms, where everything is text, so
numbers and booleans are also accepted as their usual spellings (``"20"``, ``"true"``).
Media values are only classified here (base64, ``data:`` URI, URL, multipart part); the
submit path decodes and fetches them with its own limits.
"""

from __future__ import annotations

import math
import re
from typing import Any

from comfy_gateway.templates.errors import InvalidParameterValue
from comfy_gateway.templates.model import (
    MediaSourceKind,
    Parameter,
    ParameterType,
    Scalar,
    UploadedPart,
)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_INT_TEXT = re.compile(r"[+-]?\d{1,30}")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/]+={0,2}")
MAX_STRING_CHARS = 100_000


def coerce_value(param: Parameter, raw: Any) -> Any:
    """The typed value of ``raw`` for ``param``, or :class:`InvalidParameterValue`."""
    coerce = _COERCERS[param.type]
    return coerce(param, raw)


def classify_media(param: Parameter, raw: Any) -> tuple[MediaSourceKind, str]:
    """Which kind of media source ``raw`` is, and its text (a part name for multipart)."""
    if isinstance(raw, UploadedPart):
        return "multipart", raw.part_name
    if not isinstance(raw, str) or not raw:
        raise _invalid(param, "must be base64 text, a data: URI, a URL or a file part")
    if raw[:5].lower() == "data:":
        return "data_uri", raw
    if raw.lower().startswith(("http://", "https://")):
        return "url", raw
    if _BASE64_TEXT.fullmatch(raw) is None:
        raise _invalid(param, "is neither base64 text, a data: URI nor an http(s) URL")
    return "base64", raw


def _invalid(param: Parameter, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(param.name, reason)


def _string(param: Parameter, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _invalid(param, f"must be a string, not {_json_type(raw)}")
    if len(raw) > MAX_STRING_CHARS:
        raise _invalid(param, f"is longer than {MAX_STRING_CHARS} characters")
    _check_range(param, len(raw), "length")
    return raw


def _int(param: Parameter, raw: Any) -> int:
    value = _as_int(param, raw)
    if param.random_seed and value == -1:
        return value  # drawn later by the renderer, which owns the random source
    _check_range(param, value, "value")
    _check_step(param, value)
    return value


def _as_int(param: Parameter, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _invalid(param, "must be an integer, not a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INT_TEXT.fullmatch(raw.strip()):
        return int(raw.strip())
    raise _invalid(param, f"must be an integer, not {_json_type(raw)} {str(raw)[:40]!r}")


def _float(param: Parameter, raw: Any) -> float:
    value = _as_float(param, raw)
    _check_range(param, value, "value")
    return value


def _as_float(param: Parameter, raw: Any) -> float:
    if isinstance(raw, bool):
        raise _invalid(param, "must be a number, not a boolean")
    value: float | None = None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            value = None
    if value is None or not math.isfinite(value):
        raise _invalid(param, f"must be a finite number, not {_json_type(raw)} {str(raw)[:40]!r}")
    return value


def _bool(param: Parameter, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise _invalid(param, f"must be true or false, not {_json_type(raw)} {str(raw)[:40]!r}")


def _enum(param: Parameter, raw: Any) -> Scalar:
    for choice in param.choices:
        if _same_choice(choice, raw):
            return choice
    shown = ", ".join(repr(choice) for choice in param.choices[:20])
    raise _invalid(param, f"{str(raw)[:40]!r} is not one of {shown}")


def _same_choice(choice: Scalar, raw: Any) -> bool:
    if isinstance(raw, bool) or isinstance(choice, bool):
        return raw is choice
    # Form fields carry text, so "16" picks the choice 16.
    return bool(raw == choice or (isinstance(raw, str) and raw == str(choice)))


def _media(param: Parameter, raw: Any) -> Any:
    classify_media(param, raw)
    return raw


def _check_range(param: Parameter, value: float, what: str) -> None:
    if param.minimum is not None and value < param.minimum:
        raise _invalid(param, f"{what} {value} is below the minimum {_number(param.minimum)}")
    if param.maximum is not None and value > param.maximum:
        raise _invalid(param, f"{what} {value} is above the maximum {_number(param.maximum)}")


def _check_step(param: Parameter, value: int) -> None:
    if not param.step:
        return
    base = int(param.minimum or 0)
    if (value - base) % param.step:
        raise _invalid(param, f"must be {base} plus a multiple of {param.step}, not {value}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return names.get(type(value), "null" if value is None else f"a {type(value).__name__}")


_COERCERS = {
    ParameterType.STRING: _string,
    ParameterType.INT: _int,
    ParameterType.FLOAT: _float,
    ParameterType.BOOL: _bool,
    ParameterType.ENUM: _enum,
    ParameterType.IMAGE: _media,
    ParameterType.AUDIO: _media,
    ParameterType.VIDEO: _media,
}
