"""Reading a template document ``{name, description, version, parameters, workflow}``.

Everything that can be wrong with a template is found here, at load time, so that a
request never discovers a broken template: bad names, reserved names, a default that
fails its own type, a target naming a missing node, a placeholder in the workflow that
no parameter fills.

A parameter is ``{"name", "type", "description"?, "default"?, "min"?, "max"?, "step"?,
"choices"?, "random_seed"?, "targets"?}``. Each target is ``"node.field"`` or
``"__NAME__"``; with no targets a parameter fills the placeholder of its own name in
upper case (``neg-prompt`` → ``__NEG_PROMPT__``). Without ``default`` it is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from comfy_gateway.jobs.domain_errors import GraphEditError
from comfy_gateway.jobs.graph import Graph, check_workflow_shape, find_unfilled_placeholders
from comfy_gateway.jobs.graph.placeholders import PLACEHOLDER
from comfy_gateway.templates.coercion import coerce_value
from comfy_gateway.templates.errors import ParameterError, TemplateInvalid
from comfy_gateway.templates.model import (
    NAME_PATTERN,
    RESERVED_NAMES,
    NodeFieldTarget,
    Parameter,
    ParameterType,
    PlaceholderTarget,
    Target,
    Template,
)

_PARAMETER_KEYS = frozenset(
    {"name", "type", "description", "default", "min", "max", "step", "choices"}
    | {"random_seed", "targets"}
)


def parse_template(document: Any, *, source: str = "template") -> Template:
    """A checked :class:`Template` from a decoded JSON document, or :class:`TemplateInvalid`."""
    if not isinstance(document, dict):
        raise TemplateInvalid("a template must be a JSON object", source=source)
    name = check_name(document.get("name"), "template name", source)
    workflow = _workflow(document.get("workflow"), source)
    parameters = _parameters(document.get("parameters", []), source)
    check_parameters(parameters, workflow, source=source)
    return Template(
        name=name,
        description=_text(document.get("description", ""), "description", source),
        version=_text(str(document.get("version", "1")), "version", source),
        parameters=parameters,
        workflow=workflow,
        source=source,
    )


def check_name(value: Any, what: str, source: str) -> str:
    """``value`` if it is a valid template or parameter name."""
    if not isinstance(value, str) or NAME_PATTERN.fullmatch(value) is None:
        raise TemplateInvalid(
            f"{what} {str(value)[:80]!r} must match [a-z0-9][a-z0-9_-]{{0,63}}", source=source
        )
    return value


def check_parameters(parameters: tuple[Parameter, ...], workflow: Graph, *, source: str) -> None:
    """Rules over all parameters: unique, not reserved, defaults valid, targets bound."""
    seen: set[str] = set()
    for param in parameters:
        if param.name in RESERVED_NAMES:
            raise TemplateInvalid(f"parameter name {param.name!r} is reserved", source=source)
        if param.name in seen:
            raise TemplateInvalid(f"parameter {param.name!r} is declared twice", source=source)
        seen.add(param.name)
        _check_default(param, source)
        _check_node_targets(param, workflow, source)
    _check_placeholders_bound(parameters, workflow, source)


def _workflow(value: Any, source: str) -> Graph:
    try:
        return check_workflow_shape(value)
    except GraphEditError as exc:
        raise TemplateInvalid(f"workflow: {exc}", source=source) from exc


def _parameters(value: Any, source: str) -> tuple[Parameter, ...]:
    if isinstance(value, dict):  # {name: spec} is accepted as well as [spec, ...]
        value = [{"name": name, **_object(spec, name, source)} for name, spec in value.items()]
    if not isinstance(value, list):
        raise TemplateInvalid("parameters must be a list of objects", source=source)
    return tuple(parse_parameter(spec, source=source) for spec in value)


def parse_parameter(spec: Any, *, source: str = "template") -> Parameter:
    """One parameter declaration (its cross-checks are in :func:`check_parameters`)."""
    spec = _object(spec, "parameter", source)
    name = check_name(spec.get("name"), "parameter name", source)
    unknown = sorted(set(spec) - _PARAMETER_KEYS)
    if unknown:
        raise TemplateInvalid(f"parameter {name!r} has unknown keys {unknown}", source=source)
    kind = _type(spec.get("type"), name, source)
    return Parameter(
        name=name,
        type=kind,
        description=_text(spec.get("description", ""), f"{name}.description", source),
        required="default" not in spec,
        default=spec.get("default"),
        minimum=_optional_number(spec.get("min"), f"{name}.min", source),
        maximum=_optional_number(spec.get("max"), f"{name}.max", source),
        step=_step(spec.get("step"), name, source),
        choices=_choices(spec.get("choices"), kind, name, source),
        random_seed=_random_seed(spec.get("random_seed", False), kind, name, source),
        targets=_targets(spec.get("targets"), name, source),
    )


def _object(value: Any, what: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TemplateInvalid(f"{what} must be a JSON object", source=source)
    return value


def _text(value: Any, what: str, source: str) -> str:
    if not isinstance(value, str):
        raise TemplateInvalid(f"{what} must be a string", source=source)
    return value


def _type(value: Any, name: str, source: str) -> ParameterType:
    try:
        return ParameterType(value)
    except ValueError:
        allowed = ", ".join(kind.value for kind in ParameterType)
        raise TemplateInvalid(
            f"parameter {name!r} has type {str(value)[:40]!r}; use one of {allowed}", source=source
        ) from None


def _optional_number(value: Any, what: str, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateInvalid(f"{what} must be a number", source=source)
    return value


def _step(value: Any, name: str, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TemplateInvalid(f"{name}.step must be a positive integer", source=source)
    return value


def _choices(value: Any, kind: ParameterType, name: str, source: str) -> tuple[Any, ...]:
    if kind is not ParameterType.ENUM:
        if value is not None:
            raise TemplateInvalid(f"{name}.choices is only for enum parameters", source=source)
        return ()
    if not isinstance(value, list) or not value:
        raise TemplateInvalid(f"enum parameter {name!r} needs a list of choices", source=source)
    if not all(isinstance(choice, str | int | float) for choice in value):
        raise TemplateInvalid(f"{name}.choices must hold strings or numbers", source=source)
    return tuple(value)


def _random_seed(value: Any, kind: ParameterType, name: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise TemplateInvalid(f"{name}.random_seed must be true or false", source=source)
    if value and kind is not ParameterType.INT:
        raise TemplateInvalid(f"{name}.random_seed needs an int parameter", source=source)
    return value


def _targets(value: Any, name: str, source: str) -> tuple[Target, ...]:
    if value is None:
        return (PlaceholderTarget(placeholder=name.upper().replace("-", "_")),)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise TemplateInvalid(f"{name}.targets must be a non-empty list", source=source)
    return tuple(parse_target(target, name, source) for target in value)


def parse_target(value: Any, name: str, source: str) -> Target:
    """``"__NAME__"`` → a placeholder target; ``"node.field"`` → a node field target."""
    if not isinstance(value, str):
        raise TemplateInvalid(f"{name}.targets holds a non-string", source=source)
    whole = PLACEHOLDER.fullmatch(value)
    if whole:
        return PlaceholderTarget(placeholder=whole.group(1))
    node, dot, field = value.rpartition(".")
    if not dot or not node or not field:
        raise TemplateInvalid(
            f"{name}.targets: {value[:80]!r} is neither 'node.field' nor '__NAME__'", source=source
        )
    return NodeFieldTarget(node=node, field=field)


def _check_default(param: Parameter, source: str) -> None:
    # A media default names a file already in ComfyUI's input folder: nothing to check.
    if param.required or param.default is None or param.type.is_media:
        return
    try:
        coerce_value(param, param.default)
    except ParameterError as exc:
        raise TemplateInvalid(f"default of {exc}", source=source) from exc


def _check_node_targets(param: Parameter, workflow: Graph, source: str) -> None:
    for target in param.targets:
        if isinstance(target, NodeFieldTarget) and target.node not in workflow:
            raise TemplateInvalid(
                f"parameter {param.name!r} targets node {target.node!r}, which the workflow "
                "does not have",
                source=source,
            )


def _check_placeholders_bound(
    parameters: tuple[Parameter, ...], workflow: Mapping[str, Mapping[str, Any]], source: str
) -> None:
    bound: dict[str, bool] = {}
    for param in parameters:
        for target in param.targets:
            if not isinstance(target, PlaceholderTarget):
                continue
            key = f"__{target.placeholder}__"
            if key in bound:
                raise TemplateInvalid(f"two parameters fill {key}", source=source)
            bound[key] = True
    unbound = find_unfilled_placeholders(workflow, bound)
    if unbound:
        names = ", ".join(f"__{name}__" for name in sorted(unbound))
        raise TemplateInvalid(f"no parameter fills the placeholders {names}", source=source)
