"""How a prompt ended: folded from its events, or read back from ``/history``.

Pure logic. :class:`PromptTracker` consumes the events of one prompt in arrival order
and knows its result once the end marker (``executing`` with ``node: null``) arrives.
:func:`replay_from_history` turns a stored history entry back into the events a socket
would have carried, so a follower that lost its socket sees the same stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.comfy.events import (
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionSuccess,
    parse_event,
)
from comfy_gateway.comfy.http_protocol import HistoryEntry


@dataclass(frozen=True, kw_only=True)
class PromptSucceeded:
    """Outputs keyed by node id, in the order the output nodes reported them."""

    prompt_id: str
    outputs: dict[str, dict[str, Any]]
    cached_nodes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PromptFailed:
    prompt_id: str
    node_id: str
    node_type: str
    exception_type: str
    exception_message: str
    traceback: tuple[str, ...] = ()
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PromptInterrupted:
    prompt_id: str
    node_id: str
    node_type: str
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)


PromptResult = PromptSucceeded | PromptFailed | PromptInterrupted
TerminalEvent = ExecutionSuccess | ExecutionError | ExecutionInterrupted


class PromptTracker:
    """Folds one prompt's events; ``result`` is set once the end marker is seen."""

    def __init__(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id
        self.outputs: dict[str, dict[str, Any]] = {}
        self.cached_nodes: tuple[str, ...] = ()
        self.terminal: TerminalEvent | None = None
        self.ended = False

    def apply(self, event: Event) -> None:
        if isinstance(event, Executed) and event.prompt_id == self.prompt_id:
            self.outputs[event.node] = event.output
        elif isinstance(event, ExecutionCached) and event.prompt_id == self.prompt_id:
            self.cached_nodes = event.nodes
        elif isinstance(event, TerminalEvent) and event.prompt_id == self.prompt_id:
            self.terminal = event
        elif isinstance(event, Executing) and event.is_end_marker:
            self.ended = self.ended or event.prompt_id == self.prompt_id

    @property
    def result(self) -> PromptResult | None:
        """The result, or None until both the end marker and the verdict were seen."""
        if not self.ended or self.terminal is None:
            return None
        return result_from_terminal(self.terminal, self.outputs, self.cached_nodes)


def result_from_terminal(
    terminal: TerminalEvent, outputs: dict[str, dict[str, Any]], cached: tuple[str, ...] = ()
) -> PromptResult:
    if isinstance(terminal, ExecutionSuccess):
        return PromptSucceeded(
            prompt_id=terminal.prompt_id, outputs=dict(outputs), cached_nodes=cached
        )
    if isinstance(terminal, ExecutionError):
        return PromptFailed(
            prompt_id=terminal.prompt_id,
            node_id=terminal.node_id,
            node_type=terminal.node_type,
            exception_type=terminal.exception_type,
            exception_message=terminal.exception_message,
            traceback=terminal.traceback,
            outputs=dict(outputs),
        )
    return PromptInterrupted(
        prompt_id=terminal.prompt_id,
        node_id=terminal.node_id,
        node_type=terminal.node_type,
        outputs=dict(outputs),
    )


def replay_from_history(entry: HistoryEntry) -> list[Event]:
    """The events of a finished prompt, rebuilt from its history entry.

    ``executed`` for each output node, then the stored execution messages (the same data
    the socket sent, ``execution_success|error|interrupted`` among them), then the end
    marker. An ``error`` status without a stored verdict (ComfyUI never does that, but
    a store might) becomes an ExecutionError naming no node.
    """
    events: list[Event] = [
        Executed(prompt_id=entry.prompt_id, node=node, output=ui, display_node=node)
        for node, ui in entry.outputs.items()
    ]
    stored = [parse_event(name, data) for name, data in entry.messages]
    events.extend(event for event in stored if not isinstance(event, Executed))
    if not any(isinstance(event, TerminalEvent) for event in stored):
        events.append(_verdict_without_message(entry))
    events.append(Executing(node=None, prompt_id=entry.prompt_id))
    return events


def _verdict_without_message(entry: HistoryEntry) -> TerminalEvent:
    if entry.status_str == "success":
        return ExecutionSuccess(prompt_id=entry.prompt_id)
    return ExecutionError(
        prompt_id=entry.prompt_id,
        node_id="",
        node_type="",
        exception_type="",
        exception_message=f"ComfyUI recorded status {entry.status_str!r} without details",
    )


def result_from_history(entry: HistoryEntry) -> PromptResult:
    tracker = PromptTracker(entry.prompt_id)
    for event in replay_from_history(entry):
        tracker.apply(event)
    result = tracker.result
    assert result is not None  # replay always ends with a verdict and the end marker
    return result
