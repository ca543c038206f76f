"""Rendering a template with one request's raw parameters into a graph.

Media contract with the submit path: a media parameter (image, audio, video) never puts
bytes into the graph. Its value (base64 text, a ``data:`` URI, an http(s) URL, or an
:class:`UploadedPart` the API made from a multipart part) becomes a
:class:`MediaInput` in ``RenderedJob.media_params``, and the graph holds its
``media_name`` (``template-<parameter>``) wherever the parameter is bound. The submit path
turns each ``MediaInput`` into a media item of exactly that name (decoding, fetching and
size limits are its job), so the ordinary media wiring replaces the name with the stored
``comfy-gateway/<sha256>.<ext>`` reference. A media parameter's default is instead a file
already in ComfyUI's input folder, put into the graph as it is.

``resolved_params`` holds every value used, a drawn seed included, with media parameters
recorded by their media name (never their bytes), so it can go back to the client.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from comfy_gateway.jobs.graph import Graph, apply_placeholders
from comfy_gateway.jobs.graph.values import copy_graph, copy_json_value
from comfy_gateway.templates.coercion import classify_media, coerce_value
from comfy_gateway.templates.errors import (
    InvalidParameterValue,
    MissingParameter,
    UnknownParameter,
)
from comfy_gateway.templates.model import (
    SEED_LIMIT,
    MediaInput,
    NodeFieldTarget,
    Parameter,
    PlaceholderTarget,
    RenderedJob,
    Template,
    UploadedPart,
)

#: Clients of RunPod/Modal-style APIs send ``image_base64`` / ``image_url`` for ``image``.
MEDIA_ALIAS_SUFFIXES = ("_base64", "_url")


def media_name_for(parameter: str) -> str:
    """The media item name a media parameter's value travels under."""
    return f"template-{parameter}"


def render(
    template: Template, raw_params: Mapping[str, Any], *, rng: random.Random | None = None
) -> RenderedJob:
    """The graph, chosen values and media of ``template`` rendered with ``raw_params``.

    Raises :class:`UnknownParameter`, :class:`MissingParameter` or
    :class:`InvalidParameterValue`, each naming the parameter (the API answers 422).
    """
    given = _resolve_aliases(template, raw_params)
    values, media = _typed_values(template, given, rng or random.SystemRandom())
    if template.builder is not None:
        built = template.builder(values)
        workflow, resolved = built.workflow, {**values, **built.resolved}
    else:
        workflow, resolved = copy_graph(template.workflow), dict(values)
    bound = bind_values(workflow, template.parameters, values)
    return RenderedJob(
        template=template.name,
        workflow=bound,
        resolved_params=resolved,
        media_params=tuple(media),
    )


def bind_values(
    workflow: Graph, parameters: tuple[Parameter, ...], values: Mapping[str, Any]
) -> Graph:
    """A copy of ``workflow`` with each value put at its parameter's targets."""
    placeholders: dict[str, Any] = {}
    edited = copy_graph(workflow)
    for param in parameters:
        if param.name not in values:
            continue
        for target in param.targets:
            if isinstance(target, NodeFieldTarget):
                edited[target.node].setdefault("inputs", {})[target.field] = copy_json_value(
                    values[param.name], where=f"parameter {param.name!r}"
                )
            elif isinstance(target, PlaceholderTarget):
                placeholders[f"__{target.placeholder}__"] = values[param.name]
    filled, _ = apply_placeholders(edited, placeholders, require_all=False)
    return filled


def _resolve_aliases(template: Template, raw_params: Mapping[str, Any]) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for key, value in raw_params.items():
        name = _canonical_name(template, str(key))
        if name in given:
            raise InvalidParameterValue(name, f"given twice (as {name!r} and as {key!r})")
        given[name] = value
    return given


def _canonical_name(template: Template, key: str) -> str:
    if template.parameter(key) is not None:
        return key
    for suffix in MEDIA_ALIAS_SUFFIXES:
        stem = key.removesuffix(suffix)
        param = template.parameter(stem) if stem != key else None
        if param is not None and param.type.is_media:
            return stem
    raise UnknownParameter(key)


def _typed_values(
    template: Template, given: Mapping[str, Any], rng: random.Random
) -> tuple[dict[str, Any], list[MediaInput]]:
    values: dict[str, Any] = {}
    media: list[MediaInput] = []
    for param in template.parameters:
        if param.name in given:
            value = coerce_value(param, given[param.name])
            if param.type.is_media:
                media.append(_media_input(param, value))
                value = media_name_for(param.name)
            values[param.name] = _draw_seed(param, value, rng)
        elif param.required:
            raise MissingParameter(param.name)
        elif param.default is not None:
            values[param.name] = _draw_seed(param, param.default, rng)
    return values, media


def _draw_seed(param: Parameter, value: Any, rng: random.Random) -> Any:
    if param.random_seed and value == -1:
        return rng.randrange(SEED_LIMIT)
    return value


def _media_input(param: Parameter, value: Any) -> MediaInput:
    source, text = classify_media(param, value)
    content_type = value.content_type if isinstance(value, UploadedPart) else None
    return MediaInput(
        parameter=param.name,
        kind=param.type,
        media_name=media_name_for(param.name),
        source=source,
        value=text,
        content_type=content_type,
    )
