"""Compare what the simulator says with what the real ComfyUI said (the fixtures).

Two things legitimately differ between a captured run and a replay: values that
are fresh per run (generated ids, timestamps, queue numbers, tracebacks, the
server's absolute folders, the random part of temp file names) and parts the
transcript writer trimmed. The first are replaced by placeholders on both sides
(ids by order of first appearance, so "the same id twice" is still checked); the
second are wildcards:

* a list whose last item is ``…(+N more items trimmed)`` matches a list of
  ``shown + N`` items whose first items match;
* a string ending in ``…(+N chars trimmed)`` matches any string with that prefix;
* an ``omitted`` entry (``… N frames omitted …``) matches a run of frames of the
  omitted types, each shaped like the shown frames of its type (``value`` free).

Everything else must be equal, including ``int`` versus ``float`` (ComfyUI sends
``1.0`` for a finished node but ``1`` for a cached one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COMFYUI_ROOT = "<ComfyUI>"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_TRIMMED_ITEMS = re.compile(r"^…\(\+(?P<count>\d+) more items trimmed\)$")
_TRIMMED_CHARS = re.compile(r"^(?P<prefix>.*)…\(\+(?P<count>\d+) chars trimmed\)$", re.DOTALL)
# PreviewImage names its temp files with 5 random letters (ComfyUI_temp_byazs_00001_.png).
_TEMP_FILE_SUFFIX = re.compile(r"_temp_[a-z]{5}_")
BINARY_KEY = "<binary>"
# ComfyUI fills these from a set(): their order is string-hash order, random per process.
UNORDERED_ID_LISTS = frozenset({"executed", "current_outputs"})


@dataclass(frozen=True, kw_only=True)
class Mismatch:
    """The first place where the replay differs from the capture."""

    where: str
    reason: str
    expected: Any = None
    actual: Any = None

    def __str__(self) -> str:
        return (
            f"{self.where}: {self.reason}\n  expected: {_short(self.expected)}"
            f"\n  actual:   {_short(self.actual)}"
        )


def _short(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Normaliser:
    """Replaces per-run values by placeholders; one instance per side of a comparison."""

    path_roots: Sequence[str] = ()
    _ids: dict[str, str] = field(default_factory=dict)

    def normalise(self, value: Any, key: str | None = None) -> Any:
        if key is not None and (special := self._by_key(key, value)) is not None:
            return special
        if isinstance(value, dict):
            # Sorted keys: placeholder numbering must not depend on key order.
            return {self._string(k): self.normalise(value[k], k) for k in sorted(value, key=str)}
        if isinstance(value, list):
            return self._by_key_list(key, value)
        if isinstance(value, str):
            return self._string(value)
        return value

    def _by_key(self, key: str, value: Any) -> str | None:
        if key == "timestamp" and _is_int(value):
            return "<timestamp>"
        if key == "number" and _is_int(value):
            return "<negative number>" if value < 0 else "<number>"
        if key == "traceback" and isinstance(value, list) and all(map(_is_str, value)):
            return "<traceback>"
        return None

    def _by_key_list(self, key: str | None, value: list[Any]) -> list[Any]:
        items = [self.normalise(item) for item in value]
        if key in UNORDERED_ID_LISTS and all(map(_is_str, items)):
            return sorted(items)
        return items

    def _string(self, text: str) -> str:
        for pattern, kind in ((_UUID, "uuid"), (_HEX32, "hex32")):
            if pattern.match(text):
                return self._ids.setdefault(text, f"<{kind}#{len(self._ids) + 1}>")
        for root in self.path_roots:
            text = text.replace(root, COMFYUI_ROOT)
        return _TEMP_FILE_SUFFIX.sub("_temp_<random>_", text)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- value matching ---------------------------------------------------------------------


def match_value(expected: Any, actual: Any, where: str = "$") -> Mismatch | None:
    """First difference between two normalised JSON values, trimming markers as wildcards."""
    if isinstance(expected, str) and (trimmed := _TRIMMED_CHARS.match(expected)):
        return _match_trimmed_string(trimmed["prefix"], actual, where)
    if isinstance(expected, list):
        return _match_list(expected, actual, where)
    if isinstance(expected, dict):
        return _match_dict(expected, actual, where)
    if type(expected) is not type(actual) or expected != actual:
        return Mismatch(where=where, reason="values differ", expected=expected, actual=actual)
    return None


def _match_trimmed_string(prefix: str, actual: Any, where: str) -> Mismatch | None:
    if isinstance(actual, str) and actual.startswith(prefix):
        return None
    return Mismatch(
        where=where, reason="trimmed string: prefix differs", expected=prefix, actual=actual
    )


def _match_list(expected: list[Any], actual: Any, where: str) -> Mismatch | None:
    if not isinstance(actual, list):
        return Mismatch(where=where, reason="expected a list", expected=expected, actual=actual)
    shown, total = _trimmed_list_shape(expected)
    if len(actual) != total:
        reason = f"list length {len(actual)} != {total}"
        return Mismatch(where=where, reason=reason, expected=expected, actual=actual)
    for index, item in enumerate(shown):
        if (found := match_value(item, actual[index], f"{where}[{index}]")) is not None:
            return found
    return None


def _trimmed_list_shape(expected: list[Any]) -> tuple[list[Any], int]:
    """(items shown, total length the real list had)."""
    if expected and isinstance(expected[-1], str):
        marker = _TRIMMED_ITEMS.match(expected[-1])
        if marker is not None:
            shown = expected[:-1]
            return shown, len(shown) + int(marker["count"])
    return expected, len(expected)


def _match_dict(expected: dict[str, Any], actual: Any, where: str) -> Mismatch | None:
    if not isinstance(actual, dict):
        return Mismatch(where=where, reason="expected an object", expected=expected, actual=actual)
    if set(expected) != set(actual):
        missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
        reason = f"keys differ: missing {missing}, unexpected {extra}"
        return Mismatch(where=where, reason=reason, expected=expected, actual=actual)
    for key, value in expected.items():
        if (found := match_value(value, actual[key], f"{where}.{key}")) is not None:
            return found
    return None


def compare_documents(
    expected: Any, actual: Any, *, path_roots: Sequence[str] = ()
) -> Mismatch | None:
    """Normalise both sides (each with its own id numbering) and match them."""
    return match_value(Normaliser().normalise(expected), Normaliser(path_roots).normalise(actual))


# --- frame sequences --------------------------------------------------------------------


def describe_binary_frame(payload: bytes) -> dict[str, Any]:
    """A binary WS frame as the transcript describes it (length left out: encoder-specific)."""
    event_type = int.from_bytes(payload[0:4], "big")
    described: dict[str, Any] = {"first8": payload[:8].hex(), "event_type": event_type}
    image = payload[8:]
    if event_type == 4:
        size = int.from_bytes(payload[4:8], "big")
        described["metadata_length"] = size
        described["metadata"] = json.loads(payload[8 : 8 + size])
        image = payload[8 + size :]
    else:
        described["image_format"] = int.from_bytes(payload[4:8], "big")
    described["image_prefix"] = image[:8].hex()
    return {BINARY_KEY: described}


def received_item(message: str | bytes) -> dict[str, Any]:
    """A message as received from the socket, in the form expected items take."""
    if isinstance(message, bytes):
        return describe_binary_frame(message)
    decoded: dict[str, Any] = json.loads(message)
    return decoded


@dataclass(frozen=True, kw_only=True)
class FrameRun:
    """Wildcard for frames the transcript writer omitted (plus shown ones of those types)."""

    types: frozenset[str]
    templates: Mapping[str, Any]


ExpectedItem = dict[str, Any] | FrameRun


def expected_items(entries: Iterable[Mapping[str, Any]]) -> list[ExpectedItem]:
    """Server→client items of a fixture socket: frames, binary frames and omission runs."""
    items: list[ExpectedItem] = []
    for entry in entries:
        if entry["kind"] == "frame":
            items.append(entry["frame"])
        elif entry["kind"] == "binary":
            binary = {k: v for k, v in entry.items() if k not in {"kind", "length"}}
            items.append({BINARY_KEY: binary})
        elif entry["kind"] == "omitted":
            items.append(FrameRun(types=frozenset(entry["types"]), templates={}))
    return _absorb_around_runs(items)


def _absorb_around_runs(items: list[ExpectedItem]) -> list[ExpectedItem]:
    """Shown frames next to an omission are part of the same timing-dependent run."""
    result: list[ExpectedItem] = []
    for item in items:
        if isinstance(item, FrameRun):
            absorbed: list[dict[str, Any]] = []
            while result and _in_run(result[-1], item):
                absorbed.insert(0, result.pop())  # type: ignore[arg-type]
            run = item
            if result and isinstance(result[-1], FrameRun):
                run = _merge_runs(result.pop(), item)  # type: ignore[arg-type]
            result.append(_with_templates(run, absorbed))
        elif result and isinstance(result[-1], FrameRun) and _type(item) in result[-1].types:
            result[-1] = _with_templates(result[-1], [item])
        else:
            result.append(item)
    return result


def _in_run(item: ExpectedItem, run: FrameRun) -> bool:
    return isinstance(item, dict) and _type(item) in run.types


def _merge_runs(first: FrameRun, second: FrameRun) -> FrameRun:
    templates = {**second.templates, **first.templates}
    return FrameRun(types=first.types | second.types, templates=templates)


def _with_templates(run: FrameRun, frames: list[dict[str, Any]]) -> FrameRun:
    templates = dict(run.templates)
    for frame in frames:
        templates.setdefault(_type(frame), frame)
    return FrameRun(types=run.types, templates=templates)


def _type(item: Mapping[str, Any]) -> str:
    return "BINARY" if BINARY_KEY in item else str(item.get("type"))


def compare_frames(
    expected: Sequence[ExpectedItem],
    actual: Sequence[dict[str, Any]],
    *,
    path_roots: Sequence[str] = (),
) -> Mismatch | None:
    """First difference between a fixture's frame sequence and the received one."""
    return _FrameCursor(actual=actual, right=Normaliser(path_roots)).compare(expected)


@dataclass
class _FrameCursor:
    """Walks the received frames while the expected items are matched one by one."""

    actual: Sequence[dict[str, Any]]
    right: Normaliser
    left: Normaliser = field(default_factory=Normaliser)
    position: int = 0

    def compare(self, expected: Sequence[ExpectedItem]) -> Mismatch | None:
        for index, item in enumerate(expected):
            if isinstance(item, FrameRun):
                found = self._consume_run(item)
            else:
                found = self._compare_one(index, item)
            if found is not None:
                return found
        if self.position < len(self.actual):
            extra = [_type(frame) for frame in self.actual[self.position :]]
            return Mismatch(where=f"frame {self.position}", reason=f"unexpected frames {extra}")
        return None

    def _compare_one(self, index: int, item: dict[str, Any]) -> Mismatch | None:
        want = self.left.normalise(item)
        position = self.position
        self.position += 1
        if position >= len(self.actual):
            return Mismatch(where=f"frame {position}", reason="missing frame", expected=want)
        got = self.right.normalise(self.actual[position])
        kinds = f"expected #{index} {_type(item)}, got {_type(self.actual[position])}"
        return match_value(want, got, f"frame {position} ({kinds})")

    def _consume_run(self, run: FrameRun) -> Mismatch | None:
        last_progress = -1
        while self.position < len(self.actual) and _type(self.actual[self.position]) in run.types:
            frame = self.right.normalise(self.actual[self.position])
            if (found := self._check_run_frame(run, frame)) is not None:
                return found
            if frame.get("type") == "progress":
                value = frame["data"]["value"]
                if value <= last_progress:
                    reason = f"progress went from {last_progress} to {value}"
                    return Mismatch(where=f"frame {self.position}", reason=reason)
                last_progress = value
            self.position += 1
        return None

    def _check_run_frame(self, run: FrameRun, frame: dict[str, Any]) -> Mismatch | None:
        template = run.templates.get(_type(frame))
        if template is None:
            return None
        where = f"frame {self.position} (inside an omitted run, {_type(frame)})"
        return match_value(_free_values(self.left.normalise(template)), _free_values(frame), where)


def _free_values(value: Any, key: str | None = None) -> Any:
    """Progress counters inside an omitted run differ from run to run by design."""
    if key == "value" and isinstance(value, int | float):
        return "<value>"
    if isinstance(value, dict):
        return {k: _free_values(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_free_values(v) for v in value]
    return value
