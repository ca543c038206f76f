"""Turning one template request into what the submit use-case takes.

A template request (``POST /v1/templates/{name}/jobs``, or the action form on
``POST /v1/jobs``) is a flat set of parameters plus the reserved submit options. It is
rendered into an ordinary API-format graph and then travels the very path a raw workflow
does: the rendered graph becomes the ``workflow`` of a plain submit body, each media
parameter a media item named as the graph names it (so the usual media wiring puts the
stored reference in), and the reserved options the body's own options. Only two things
differ from a raw submit: the job records the values the template chose
(``resolved_params``, a drawn seed included), and the Idempotency-Key hash covers the
request as the client sent it, since a drawn seed makes every rendering different.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.intake.multipart import FilePart
from comfy_gateway.api.submit_models import ANSWER_ONLY_FIELDS
from comfy_gateway.templates import (
    MediaInput,
    RenderedJob,
    TemplateRegistry,
    UploadedPart,
    render,
    split_reserved,
)

#: Reserved options the submit body has no field for yet; accepted and not acted upon.
_IGNORED_OPTIONS = frozenset({"outputs"})


@dataclass(frozen=True, kw_only=True)
class TemplateRequest:
    """A rendered template request, ready to become a `Submission`.

    ``body`` is a raw ``POST /v1/jobs`` body (still to be validated as a `SubmitRequest`);
    ``files`` are the multipart parts of media parameters, renamed to their media names.
    """

    template: str
    body: dict[str, Any]
    resolved_params: Mapping[str, Any]
    files: tuple[FilePart, ...] = ()
    hash_basis: dict[str, Any]


@functools.cache
def _builtin_only_registry() -> TemplateRegistry:
    return TemplateRegistry(())


def template_registry(context: ApiContext) -> TemplateRegistry:
    """The context's registry; without one configured, the built-ins alone."""
    return context.templates if context.templates is not None else _builtin_only_registry()


def prepare_template_request(
    registry: TemplateRegistry,
    name: str,
    flat_body: Mapping[str, Any],
    *,
    uploads: Mapping[str, FilePart] | None = None,
    rng: random.Random | None = None,
) -> TemplateRequest:
    """Render ``name`` with the parameters of ``flat_body``; raises the template errors.

    ``uploads`` holds multipart file parts by parameter name; they join the parameters as
    `UploadedPart` values, so a part and a JSON value for one parameter clash as usual.
    """
    template = registry.get(name)
    params, options = split_reserved(flat_body)
    params = {**params, **_uploaded_params(uploads or {})}
    rendered = render(template, params, rng=rng)
    return TemplateRequest(
        template=template.name,
        body=_submit_body(rendered, options),
        resolved_params=rendered.resolved_params,
        files=_media_files(rendered.media_params, uploads or {}),
        hash_basis=_hash_basis(template.name, flat_body),
    )


def _uploaded_params(uploads: Mapping[str, FilePart]) -> dict[str, UploadedPart]:
    return {
        name: UploadedPart(part_name=name, filename=part.name, content_type=part.content_type)
        for name, part in uploads.items()
    }


def _submit_body(rendered: RenderedJob, options: Mapping[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in options.items() if key not in _IGNORED_OPTIONS}
    media = [_media_item(item) for item in rendered.media_params if item.source != "multipart"]
    return {**kept, "workflow": rendered.workflow, "media": media}


def _media_item(item: MediaInput) -> dict[str, str]:
    # base64 and data: URIs both decode as "data"; the intake strips a data: prefix.
    if item.source == "url":
        return {"name": item.media_name, "url": item.value}
    return {"name": item.media_name, "data": item.value}


def _media_files(
    media: Sequence[MediaInput], uploads: Mapping[str, FilePart]
) -> tuple[FilePart, ...]:
    return tuple(
        FilePart(
            name=item.media_name,
            content_type=uploads[item.value].content_type,
            upload=uploads[item.value].upload,
        )
        for item in media
        if item.source == "multipart"
    )


def _hash_basis(template: str, flat_body: Mapping[str, Any]) -> dict[str, Any]:
    # What the client sent, not what was rendered: a seed of -1 renders differently each
    # time, and a retry must still be "the same request".
    sent = {key: value for key, value in flat_body.items() if key not in ANSWER_ONLY_FIELDS}
    return {"template": template, "request": sent}
