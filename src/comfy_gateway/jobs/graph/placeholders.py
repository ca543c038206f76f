"""``__NAME__`` placeholders in input values, filled from ``params``.

A placeholder is two underscores, an upper-case name made of letters and digits in
underscore-separated words, and two underscores: ``__PROMPT__``, ``__NEG_PROMPT__``,
``__SEED__``. Upper case only, so ordinary text such as ``__init__`` is never mistaken for
one. A param named ``prompt``, ``PROMPT`` or ``__PROMPT__`` fills ``__PROMPT__``.

Only input values are searched (lists and objects inside them too); node ids, keys,
``class_type`` and ``_meta`` are left alone. Substitution is one pass: text that a param
brings in is never searched again, so a user's prompt may contain ``__ANYTHING__``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from comfy_gateway.jobs.domain_errors import InvalidParams, UnfilledPlaceholder
from comfy_gateway.jobs.graph.values import (
    Graph,
    StringTransform,
    copy_json_value,
    input_where,
    map_input_values,
    map_json_strings,
)

PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)__")


def placeholder_name(param: str) -> str:
    """The placeholder name a param fills: ``seed`` → ``SEED``, ``__SEED__`` → ``SEED``."""
    whole = PLACEHOLDER.fullmatch(param)
    return whole.group(1) if whole else param.upper()


def find_unfilled_placeholders(
    graph: Mapping[str, Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
    *,
    ignore: Collection[tuple[str, str]] = (),
) -> frozenset[str]:
    """Names of placeholders in ``graph``'s inputs that ``params`` do not fill.

    ``ignore`` holds ``(node_id, input_name)`` pairs whose value will be replaced anyway
    (an input override), so a placeholder there needs no param.
    """
    filled = set(_by_placeholder(params or {}))
    found: set[str] = set()

    def collect(node_id: str, name: str, value: Any) -> Any:
        if (node_id, name) in ignore:
            return None

        def note(text: str) -> str:
            found.update(match.group(1) for match in PLACEHOLDER.finditer(text))
            return text

        return map_json_strings(value, note, where=input_where(node_id, name))

    map_input_values(graph, collect)
    return frozenset(found - filled)


def apply_placeholders(
    graph: Mapping[str, Mapping[str, Any]],
    params: Mapping[str, Any],
    *,
    require_all: bool = True,
) -> tuple[Graph, frozenset[str]]:
    """A copy of ``graph`` with placeholders filled, and the param keys that were used.

    A string that is exactly one placeholder becomes the param's value with its JSON type
    (``"__SEED__"`` → ``42``); a placeholder inside longer text becomes text (strings as
    they are, other values as JSON). With ``require_all`` an unfilled placeholder raises
    :class:`UnfilledPlaceholder` before anything is substituted.
    """
    by_name = _by_placeholder(params)
    if require_all and (missing := find_unfilled_placeholders(graph, params)):
        raise UnfilledPlaceholder(missing)
    used: set[str] = set()

    def fill(text: str) -> Any:
        return _fill_string(text, by_name, used)

    edited = _map_input_strings(graph, fill)
    return edited, frozenset(by_name[name][0] for name in used)


def _map_input_strings(graph: Mapping[str, Mapping[str, Any]], transform: StringTransform) -> Graph:
    return map_input_values(
        graph,
        lambda node_id, name, value: map_json_strings(
            value, transform, where=input_where(node_id, name)
        ),
    )


def _fill_string(text: str, by_name: Mapping[str, tuple[str, Any]], used: set[str]) -> Any:
    whole = PLACEHOLDER.fullmatch(text)
    if whole and whole.group(1) in by_name:
        used.add(whole.group(1))
        key, value = by_name[whole.group(1)]
        return copy_json_value(value, where=f"param {key!r}")

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in by_name:
            return match.group(0)
        used.add(match.group(1))
        key, value = by_name[match.group(1)]
        return _as_text(copy_json_value(value, where=f"param {key!r}"))

    return PLACEHOLDER.sub(replace, text)


def _by_placeholder(params: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """Params keyed by the placeholder name they fill, refusing two keys for one name."""
    by_name: dict[str, tuple[str, Any]] = {}
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise InvalidParams(f"param name {key!r:.80} is not a non-empty string")
        name = placeholder_name(key)
        if name in by_name:
            raise InvalidParams(
                f"params {by_name[name][0]!r:.80} and {key!r:.80} both fill __{name}__"
            )
        by_name[name] = (key, value)
    return by_name


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    # The value was validated as JSON already, so dumping it cannot fail.
    return json.dumps(value, ensure_ascii=False)
