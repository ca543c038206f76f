"""Injected faults (POST /_sim/faults): what goes wrong when a matching node starts."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any


class FaultKind(Enum):
    FAIL = "fail"
    HANG = "hang"
    DROP_WEBSOCKETS = "drop_websockets"
    EXIT = "exit"


class FaultSpecError(ValueError):
    """A fault body that cannot be understood."""


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One armed fault; `times` is how many more node starts it fires on."""

    id: str
    kind: FaultKind
    class_type: str | None = None
    node_id: str | None = None
    exception_type: str = "Exception"
    message: str = "Simulated failure injected by /_sim/faults"
    times: int = 1
    exit_code: int = 1

    def matches(self, class_type: str, node_id: str) -> bool:
        return (self.class_type is None or self.class_type == class_type) and (
            self.node_id is None or self.node_id == node_id
        )


class InjectedFailure(Exception):
    """Raised inside a node by a `fail` fault; reported under the fault's exception_type."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.message)
        self.reported_type = fault.exception_type


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise FaultSpecError(f"{key} must be a string")
    return value


def _positive_int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultSpecError(f"{key} must be an integer")
    return value


def parse_fault(body: Any) -> Fault:
    """Check a POST /_sim/faults body and give the fault a fresh id."""
    if not isinstance(body, dict):
        raise FaultSpecError("the body must be a JSON object")
    try:
        kind = FaultKind(body.get("kind"))
    except ValueError as exc:
        choices = ", ".join(kind.value for kind in FaultKind)
        raise FaultSpecError(f"kind must be one of {choices}") from exc
    fault = Fault(
        id=uuid.uuid4().hex,
        kind=kind,
        class_type=_optional_str(body, "class_type"),
        node_id=_optional_str(body, "node_id"),
        times=_positive_int(body, "times", 1),
        exit_code=_positive_int(body, "exit_code", 1),
    )
    if fault.times < 1:
        raise FaultSpecError("times must be at least 1")
    exception_type = _optional_str(body, "exception_type")
    message = _optional_str(body, "message")
    if exception_type is not None:
        fault = replace(fault, exception_type=exception_type)
    if message is not None:
        fault = replace(fault, message=message)
    return fault


class FaultBook:
    """The armed faults, consumed as matching nodes start (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, class_type: str, node_id: str) -> Fault | None:
        """The first fault matching this node start, with one use consumed."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(class_type, node_id):
                    if fault.times <= 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = replace(fault, times=fault.times - 1)
                    return fault
        return None
