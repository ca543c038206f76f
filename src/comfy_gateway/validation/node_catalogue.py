"""A backend's node catalogue: its ``/object_info`` plus the model files it has installed.

The raw answer is kept next to the parsed definitions so a catalogue can be written back
to disk unchanged (both combo encodings survive a round trip) and so a refetched class
can replace its entry. Model files can be declared by hand because a captured
``object_info.json`` (taken with no models installed) lists none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from comfy_gateway.comfy import InputSpec, NodeDefinition, parse_object_info
from comfy_gateway.errors import ComfyProtocolError
from comfy_gateway.validation.model_folders import model_folder

FORMAT_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class NodeCatalogue:
    """Node classes one backend can run and the model files it holds, per folder."""

    object_info: Mapping[str, Any]
    definitions: Mapping[str, NodeDefinition]
    declared_model_files: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_object_info(
        cls, raw: Any, *, model_files: Mapping[str, Iterable[str]] | None = None
    ) -> NodeCatalogue:
        """Build from a ``GET /object_info`` answer; ComfyProtocolError if it is malformed."""
        definitions = parse_object_info(raw)
        declared = {folder: frozenset(names) for folder, names in (model_files or {}).items()}
        return cls(object_info=dict(raw), definitions=definitions, declared_model_files=declared)

    def definition(self, class_type: object) -> NodeDefinition | None:
        """The class's definition; None when unknown (or not even a string)."""
        return self.definitions.get(class_type) if isinstance(class_type, str) else None

    def with_classes(self, raw: Any) -> NodeCatalogue:
        """A copy where the classes of a ``/object_info/{class}`` answer replace ours."""
        fresh = parse_object_info(raw)
        return replace(
            self,
            object_info={**self.object_info, **raw},
            definitions={**self.definitions, **fresh},
        )

    def with_model_files(self, folder: str, names: Iterable[str]) -> NodeCatalogue:
        """A copy that also knows ``names`` are installed in model folder ``folder``."""
        merged = self.declared_model_files.get(folder, frozenset()) | frozenset(names)
        return replace(self, declared_model_files={**self.declared_model_files, folder: merged})

    def choices(self, class_type: str, spec: InputSpec) -> tuple[Any, ...] | None:
        """The values a combo accepts: the backend's list plus declared model files."""
        if spec.choices is None:
            return None
        folder = model_folder(class_type, spec.name)
        declared = self.declared_model_files.get(folder, frozenset()) if folder else frozenset()
        extra = sorted(name for name in declared if name not in spec.choices)
        return (*spec.choices, *extra)

    def installed_model_files(self, folder: str) -> frozenset[str]:
        """Files of ``folder`` this backend lists in any loader, or that were declared."""
        listed = {
            str(choice)
            for class_type, definition in self.definitions.items()
            for spec in definition.inputs.values()
            if spec.choices is not None and model_folder(class_type, spec.name) == folder
            for choice in spec.choices
        }
        return frozenset(listed) | self.declared_model_files.get(folder, frozenset())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "object_info": dict(self.object_info),
            "model_files": {k: sorted(v) for k, v in sorted(self.declared_model_files.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> NodeCatalogue:
        """Read what :meth:`to_json` wrote, or a bare ``/object_info`` answer."""
        if isinstance(data, dict) and data.get("format") == FORMAT_VERSION:
            return cls.from_object_info(data["object_info"], model_files=data.get("model_files"))
        if isinstance(data, dict):
            return cls.from_object_info(data)
        raise ComfyProtocolError("a catalogue file must hold a JSON object")
