"""A template's parameters as JSON Schema, for ``GET /v1/templates/{name}`` and OpenAPI.

The schema describes the JSON body; multipart parts for media parameters are described
in the media parameters' text, since JSON Schema has no word for them.
"""

from __future__ import annotations

from typing import Any

from comfy_gateway.templates.model import Parameter, ParameterType, Template

_JSON_TYPES = {
    ParameterType.STRING: "string",
    ParameterType.INT: "integer",
    ParameterType.FLOAT: "number",
    ParameterType.BOOL: "boolean",
}
_MEDIA_NOTE = (
    "base64 text, a data: URI or an http(s) URL (or a multipart file part of this name); "
    "also accepted as {name}_base64 or {name}_url"
)


def parameters_json_schema(template: Template) -> dict[str, Any]:
    """An object schema: one property per parameter, required ones listed."""
    return {
        "type": "object",
        "title": template.name,
        "description": template.description,
        "properties": {param.name: parameter_schema(param) for param in template.parameters},
        "required": [param.name for param in template.parameters if param.required],
        "additionalProperties": False,
    }


def parameter_schema(param: Parameter) -> dict[str, Any]:
    """The schema of one parameter's value."""
    schema = _type_schema(param)
    if param.description:
        schema["description"] = param.description
    if param.default is not None:
        schema["default"] = param.default
    return schema


def _type_schema(param: Parameter) -> dict[str, Any]:
    if param.type is ParameterType.ENUM:
        return {"enum": list(param.choices)}
    if param.type.is_media:
        return {
            "type": "string",
            "x-media-kind": param.type.value,
            "$comment": _MEDIA_NOTE.format(name=param.name),
        }
    schema: dict[str, Any] = {"type": _JSON_TYPES[param.type]}
    schema.update(_limits(param))
    return schema


def _limits(param: Parameter) -> dict[str, Any]:
    if param.type is ParameterType.STRING:
        words = ("minLength", "maxLength")
    else:
        words = ("minimum", "maximum")
    limits: dict[str, Any] = {}
    cast = int if param.type is ParameterType.STRING else _same
    if param.minimum is not None:
        # -1 asks for a random seed, so it must stay valid under the schema too.
        limits[words[0]] = -1 if param.random_seed else cast(param.minimum)
    if param.maximum is not None:
        limits[words[1]] = cast(param.maximum)
    if param.step and param.type is ParameterType.INT:
        limits["x-step-from-minimum"] = param.step
    return limits


def _same(value: float) -> float:
    return value


def describe_template(template: Template) -> dict[str, Any]:
    """One entry of ``GET /v1/templates`` (and the body of ``GET /v1/templates/{name}``)."""
    return {
        "name": template.name,
        "description": template.description,
        "version": template.version,
        "parameters": parameters_json_schema(template),
    }
