"""Typed workflow templates: a registry, rendering with typed parameters, WAN builders.

Use::

    registry = TemplateRegistry([Path("templates")])      # built-ins + folder files
    template = registry.get("wan22-i2v")                   # TemplateNotFound → 404
    job = render(template, {"prompt": "a cat", "image": b64}, rng=random.Random(7))
    job.workflow, job.resolved_params, job.media_params    # see render's docstring
    parameters_json_schema(template)                       # for GET and OpenAPI
    action = parse_action_form({"input": {"action": "wan22_i2v", ...}})
"""

from comfy_gateway.templates.action_form import (
    ActionRequest,
    is_action_form,
    parse_action_form,
    split_reserved,
)
from comfy_gateway.templates.builtin import builtin_templates
from comfy_gateway.templates.errors import (
    InvalidActionForm,
    InvalidParameterValue,
    MissingParameter,
    ParameterError,
    TemplateError,
    TemplateInvalid,
    TemplateNotFound,
    TemplatePathRefused,
    UnknownParameter,
)
from comfy_gateway.templates.json_schema import describe_template, parameters_json_schema
from comfy_gateway.templates.model import (
    RESERVED_NAMES,
    MediaInput,
    NodeFieldTarget,
    Parameter,
    ParameterType,
    PlaceholderTarget,
    RenderedJob,
    Template,
    UploadedPart,
)
from comfy_gateway.templates.parsing import parse_template
from comfy_gateway.templates.registry import LoadProblem, TemplateRegistry
from comfy_gateway.templates.render import media_name_for, render

__all__ = [
    "RESERVED_NAMES",
    "ActionRequest",
    "InvalidActionForm",
    "InvalidParameterValue",
    "LoadProblem",
    "MediaInput",
    "MissingParameter",
    "NodeFieldTarget",
    "Parameter",
    "ParameterError",
    "ParameterType",
    "PlaceholderTarget",
    "RenderedJob",
    "Template",
    "TemplateError",
    "TemplateInvalid",
    "TemplateNotFound",
    "TemplatePathRefused",
    "TemplateRegistry",
    "UnknownParameter",
    "UploadedPart",
    "builtin_templates",
    "describe_template",
    "is_action_form",
    "media_name_for",
    "parameters_json_schema",
    "parse_action_form",
    "parse_template",
    "render",
    "split_reserved",
]
