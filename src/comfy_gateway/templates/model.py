"""The data of templates: parameters, their targets in the graph, rendered jobs.

All frozen and keyword-only: a loaded template is shared by every request that renders
it, so nothing a request does can change it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from comfy_gateway.jobs.graph import Graph

#: Template and parameter names: lower case, safe in URLs, paths and form fields.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

#: Body fields of ``POST /v1/templates/{name}/jobs`` that are not parameters.
RESERVED_NAMES = frozenset(
    {"wait", "wait_timeout_s", "priority", "webhook_url", "outputs", "timeout_s"}
)

#: Seeds are drawn below 2**53 so that every JSON reader keeps them exact.
SEED_LIMIT = 2**53


class ParameterType(enum.StrEnum):
    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    ENUM = "enum"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"

    @property
    def is_media(self) -> bool:
        return self in _MEDIA_TYPES


_MEDIA_TYPES = frozenset({ParameterType.IMAGE, ParameterType.AUDIO, ParameterType.VIDEO})


@dataclass(frozen=True, kw_only=True)
class NodeFieldTarget:
    """Put the value into one input of one node: ``"12.text"``."""

    node: str
    field: str


@dataclass(frozen=True, kw_only=True)
class PlaceholderTarget:
    """Fill ``__NAME__`` wherever it appears in the graph's input values."""

    placeholder: str  # the upper-case NAME, without underscores around it


Target: TypeAlias = NodeFieldTarget | PlaceholderTarget
Scalar: TypeAlias = str | int | float | bool


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One typed parameter of a template.

    ``required`` is true when the template gives no default. A parameter that is not
    required and has ``default=None`` is simply left out when not given (a builder then
    picks a value itself, such as steps that depend on ``use_lora``). ``step`` makes an
    int valid only at ``min + k * step`` (frames = 4k+1: ``min=1, step=4``).
    ``random_seed`` makes ``-1`` mean "draw a random seed".
    """

    name: str
    type: ParameterType
    description: str = ""
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: int | None = None
    choices: tuple[Scalar, ...] = ()
    random_seed: bool = False
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True, kw_only=True)
class BuiltWorkflow:
    """What a built-in builder returns: the graph and the values it chose or derived."""

    workflow: Graph
    resolved: Mapping[str, Any]


#: A builder turns validated parameter values into a graph (pure, no I/O).
WorkflowBuilder: TypeAlias = Callable[[Mapping[str, Any]], BuiltWorkflow]


@dataclass(frozen=True, kw_only=True)
class Template:
    """A named workflow with typed parameters.

    JSON templates carry a fixed ``workflow`` their parameters are bound into; built-in
    templates carry a ``builder`` as well, and their ``workflow`` is the graph built from
    the defaults (what ``GET`` shows).
    """

    name: str
    description: str = ""
    version: str = "1"
    parameters: tuple[Parameter, ...] = ()
    workflow: Graph = field(default_factory=dict)
    builder: WorkflowBuilder | None = None
    source: str = "builtin"

    def parameter(self, name: str) -> Parameter | None:
        return next((param for param in self.parameters if param.name == name), None)


@dataclass(frozen=True, kw_only=True)
class UploadedPart:
    """A multipart file part the API received for a media parameter (bytes stay with it)."""

    part_name: str
    filename: str | None = None
    content_type: str | None = None


MediaSourceKind: TypeAlias = Literal["base64", "data_uri", "url", "multipart"]


@dataclass(frozen=True, kw_only=True)
class MediaInput:
    """A media parameter's value, to be turned into a media item by the submit path.

    ``media_name`` is the string the rendered graph holds where the media goes; the submit
    path creates a media item of exactly that name from ``value`` (base64 text, a ``data:``
    URI, a URL, or the name of the multipart part), and media wiring replaces the name
    with the stored reference.
    """

    parameter: str
    kind: ParameterType
    media_name: str
    source: MediaSourceKind
    value: str
    content_type: str | None = None


@dataclass(frozen=True, kw_only=True)
class RenderedJob:
    """A template rendered with one request's parameters."""

    template: str
    workflow: Graph
    resolved_params: Mapping[str, Any]
    media_params: tuple[MediaInput, ...] = ()
