"""Typed node definitions parsed from ``GET /object_info``.

Two combo encodings coexist in ComfyUI 0.3.64 and both must be read:

* legacy (V1) nodes: ``[[option, ...], {...}]`` — the first element is the list itself;
* V3 nodes: ``["COMBO", {"options": [...], ...}]``.

Hidden inputs are a bare string in V1 (``"PROMPT"``) and a one-item list in V3
(``["PROMPT"]``). ``display_name`` may be ``null`` on V3 nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from comfy_gateway.errors import ComfyProtocolError

Section = Literal["required", "optional", "hidden"]
UploadKind = Literal["image", "audio", "video", "file"]
_SECTIONS: tuple[Section, ...] = ("required", "optional", "hidden")
_UPLOAD_FLAGS: tuple[tuple[str, UploadKind], ...] = (
    ("image_upload", "image"),
    ("audio_upload", "audio"),
    ("video_upload", "video"),
    ("file_upload", "file"),
)


@dataclass(frozen=True, kw_only=True)
class InputSpec:
    """One input of a node class.

    ``choices`` is the tuple of allowed values for a combo whose options are listed, and
    None otherwise (not a combo, or a combo filled remotely such as LoadImageOutput).
    ``upload_kind`` says which upload widget feeds the combo (LoadImage → "image").
    """

    name: str
    type: str
    section: Section
    options: dict[str, Any]
    choices: tuple[Any, ...] | None = None
    is_combo: bool = False
    upload_kind: UploadKind | None = None

    @property
    def default(self) -> Any:
        return self.options.get("default")

    @property
    def min(self) -> Any:
        return self.options.get("min")

    @property
    def max(self) -> Any:
        return self.options.get("max")

    @property
    def is_link_type(self) -> bool:
        """True for inputs fed by another node's output (IMAGE, MODEL, …), not a widget."""
        return not self.is_combo and self.type not in _WIDGET_TYPES


_WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})


@dataclass(frozen=True, kw_only=True)
class OutputSpec:
    type: str
    name: str
    is_list: bool = False


@dataclass(frozen=True, kw_only=True)
class NodeDefinition:
    name: str
    display_name: str
    category: str
    output_node: bool
    inputs: dict[str, InputSpec]
    input_order: tuple[str, ...]
    outputs: tuple[OutputSpec, ...]
    python_module: str
    description: str = ""
    deprecated: bool = False
    experimental: bool = False
    api_node: bool = False

    def required_inputs(self) -> tuple[InputSpec, ...]:
        return tuple(spec for spec in self.inputs.values() if spec.section == "required")


def parse_object_info(raw: Any) -> dict[str, NodeDefinition]:
    """Parse a whole ``/object_info`` (or ``/object_info/{class}``) answer."""
    if not isinstance(raw, dict):
        raise ComfyProtocolError("GET /object_info did not answer a JSON object")
    return {str(name): parse_node_definition(str(name), info) for name, info in raw.items()}


def parse_node_definition(name: str, info: Any) -> NodeDefinition:
    """Parse one node class entry; ComfyProtocolError names the class when it is malformed."""
    try:
        return _node_definition(name, info)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ComfyProtocolError(f"object_info entry for {name!r} has an unexpected shape") from exc


def _node_definition(name: str, info: dict[str, Any]) -> NodeDefinition:
    inputs = _inputs(info.get("input") or {})
    return NodeDefinition(
        name=str(info.get("name") or name),
        display_name=str(info.get("display_name") or info.get("name") or name),
        category=str(info.get("category") or ""),
        output_node=bool(info.get("output_node", False)),
        inputs=inputs,
        input_order=_input_order(info.get("input_order"), inputs),
        outputs=_outputs(info),
        python_module=str(info.get("python_module") or ""),
        description=str(info.get("description") or ""),
        deprecated=bool(info.get("deprecated", False)),
        experimental=bool(info.get("experimental", False)),
        api_node=bool(info.get("api_node", False)),
    )


def _inputs(sections: dict[str, Any]) -> dict[str, InputSpec]:
    inputs: dict[str, InputSpec] = {}
    for section in _SECTIONS:
        for input_name, raw_spec in (sections.get(section) or {}).items():
            inputs[str(input_name)] = parse_input_spec(str(input_name), raw_spec, section)
    return inputs


def _input_order(raw: Any, inputs: dict[str, InputSpec]) -> tuple[str, ...]:
    if not isinstance(raw, dict):
        return tuple(inputs)
    return tuple(str(name) for section in _SECTIONS for name in raw.get(section) or ())


def _outputs(info: dict[str, Any]) -> tuple[OutputSpec, ...]:
    types = list(info.get("output") or ())
    names = list(info.get("output_name") or types)
    is_list = list(info.get("output_is_list") or [False] * len(types))
    return tuple(
        OutputSpec(
            type=_type_name(output_type),
            name=str(names[index]) if index < len(names) else _type_name(output_type),
            is_list=bool(is_list[index]) if index < len(is_list) else False,
        )
        for index, output_type in enumerate(types)
    )


def _type_name(raw_type: Any) -> str:
    # An output can itself be a list of options (a COMBO output); name it COMBO.
    return "COMBO" if isinstance(raw_type, list) else str(raw_type)


def parse_input_spec(name: str, raw_spec: Any, section: Section) -> InputSpec:
    """Parse ``[TYPE]``, ``[TYPE, {opts}]``, ``[[choices], {opts}]`` or a hidden ``"TYPE"``."""
    if isinstance(raw_spec, str):
        return InputSpec(name=name, type=raw_spec, section=section, options={})
    head = raw_spec[0]
    options = dict(raw_spec[1]) if len(raw_spec) > 1 and isinstance(raw_spec[1], dict) else {}
    upload_kind = _upload_kind(options)
    if isinstance(head, list):
        return InputSpec(
            name=name,
            type="COMBO",
            section=section,
            options=options,
            choices=tuple(head),
            is_combo=True,
            upload_kind=upload_kind,
        )
    is_combo = head == "COMBO"
    choices = tuple(options["options"]) if is_combo and "options" in options else None
    return InputSpec(
        name=name,
        type=str(head),
        section=section,
        options=options,
        choices=choices,
        is_combo=is_combo,
        upload_kind=upload_kind,
    )


def _upload_kind(options: dict[str, Any]) -> UploadKind | None:
    for flag, kind in _UPLOAD_FLAGS:
        if options.get(flag):
            return kind
    return None
