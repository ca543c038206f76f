"""Simulator settings: fixed start-up settings and the tunable part `PUT /_sim/config` edits.

The tunable part lives in :class:`TunableConfig`, shared by the HTTP thread and the executor
thread, so every read and write goes through a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_HISTORY_MAX = 10000
DEFAULT_MAX_UPLOAD_SIZE = 104857600


@dataclass(frozen=True, kw_only=True)
class Durations:
    """How long simulated work takes: per node, per sampler step, per node class."""

    node_seconds: float = 0.0
    step_seconds: float = 0.0
    node_seconds_by_class: Mapping[str, float] = field(default_factory=dict)

    def seconds_for(self, class_type: str) -> float:
        return self.node_seconds_by_class.get(class_type, self.node_seconds)


@dataclass(frozen=True, kw_only=True)
class SimulatorSettings:
    """Everything fixed at start-up (CLI flags / environment variables)."""

    host: str = "127.0.0.1"
    port: int = 8188
    data_dir: Path
    durations: Durations = field(default_factory=Durations)
    models: Mapping[str, Sequence[str]] = field(default_factory=dict)
    reject_duplicate_prompt_ids: bool = False
    history_max: int = DEFAULT_HISTORY_MAX
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE

    @property
    def input_dir(self) -> Path:
        return self.data_dir / "input"

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "output"

    @property
    def temp_dir(self) -> Path:
        return self.data_dir / "temp"


class ConfigUpdateError(ValueError):
    """A `PUT /_sim/config` body that cannot be applied."""


@dataclass(frozen=True, kw_only=True)
class ConfigUpdate:
    """A validated partial update; None means "leave as is"."""

    durations: Durations
    reject_duplicate_prompt_ids: bool | None = None
    models: dict[str, list[str]] | None = None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigUpdateError(f"{name} must be a number >= 0")
    return float(value)


def _class_seconds(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ConfigUpdateError("node_seconds_by_class must be an object {class: seconds}")
    return {
        str(key): _number(seconds, f"node_seconds_by_class.{key}") for key, seconds in value.items()
    }


def _models(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise ConfigUpdateError("models must be an object {folder: [file names]}")
    models: dict[str, list[str]] = {}
    for folder, names in value.items():
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise ConfigUpdateError(f"models.{folder} must be a list of file names")
        models[str(folder)] = list(names)
    return models


KNOWN_KEYS = frozenset(
    {
        "node_seconds",
        "step_seconds",
        "node_seconds_by_class",
        "reject_duplicate_prompt_ids",
        "models",
    }
)


def parse_config_update(body: Any, current: Durations) -> ConfigUpdate:
    """Check a `PUT /_sim/config` body and merge its durations into `current`."""
    if not isinstance(body, dict):
        raise ConfigUpdateError("the body must be a JSON object")
    unknown = sorted(set(body) - KNOWN_KEYS)
    if unknown:
        raise ConfigUpdateError(f"unknown config keys: {', '.join(unknown)}")
    durations = current
    if "node_seconds" in body:
        durations = replace(durations, node_seconds=_number(body["node_seconds"], "node_seconds"))
    if "step_seconds" in body:
        durations = replace(durations, step_seconds=_number(body["step_seconds"], "step_seconds"))
    if "node_seconds_by_class" in body:
        by_class = _class_seconds(body["node_seconds_by_class"])
        durations = replace(durations, node_seconds_by_class=by_class)
    reject = body.get("reject_duplicate_prompt_ids")
    if reject is not None and not isinstance(reject, bool):
        raise ConfigUpdateError("reject_duplicate_prompt_ids must be true or false")
    models = _models(body["models"]) if "models" in body else None
    return ConfigUpdate(durations=durations, reject_duplicate_prompt_ids=reject, models=models)


def parse_class_seconds(pairs: Sequence[str]) -> dict[str, float]:
    """`--node-seconds-for CLASS=SECONDS` values."""
    seconds: dict[str, float] = {}
    for pair in pairs:
        class_type, separator, value = pair.partition("=")
        if not separator or not class_type:
            raise ConfigUpdateError(f"expected CLASS=SECONDS, got {pair!r}")
        try:
            seconds[class_type] = float(value)
        except ValueError as exc:
            raise ConfigUpdateError(f"{value!r} is not a number of seconds") from exc
    return seconds


def parse_model_entries(entries: Sequence[str]) -> dict[str, list[str]]:
    """`--model FOLDER/NAME` values (NAME may itself hold slashes: a subfolder)."""
    models: dict[str, list[str]] = {}
    for entry in entries:
        folder, separator, name = entry.partition("/")
        if not separator or not folder or not name:
            raise ConfigUpdateError(f"expected FOLDER/NAME, got {entry!r}")
        models.setdefault(folder, []).append(name)
    return models


class TunableConfig:
    """The settings tests may change at run time, readable from any thread."""

    def __init__(self, settings: SimulatorSettings) -> None:
        self._lock = threading.Lock()
        self._durations = settings.durations
        self._reject_duplicates = settings.reject_duplicate_prompt_ids

    @property
    def durations(self) -> Durations:
        with self._lock:
            return self._durations

    @property
    def reject_duplicate_prompt_ids(self) -> bool:
        with self._lock:
            return self._reject_duplicates

    def apply(self, update: ConfigUpdate) -> None:
        with self._lock:
            self._durations = update.durations
            if update.reject_duplicate_prompt_ids is not None:
                self._reject_duplicates = update.reject_duplicate_prompt_ids

    def restore(self, settings: SimulatorSettings) -> None:
        with self._lock:
            self._durations = settings.durations
            self._reject_duplicates = settings.reject_duplicate_prompt_ids

    def as_json(self) -> dict[str, Any]:
        durations = self.durations
        return {
            "node_seconds": durations.node_seconds,
            "step_seconds": durations.step_seconds,
            "node_seconds_by_class": dict(durations.node_seconds_by_class),
            "reject_duplicate_prompt_ids": self.reject_duplicate_prompt_ids,
        }
