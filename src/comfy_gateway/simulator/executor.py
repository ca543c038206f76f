"""Execution of one prompt, message for message as ComfyUI 0.3.64 does it.

`PromptRun.execute` sends execution_start, execution_cached, then per node
progress_state(running) + executing [+ progress] [+ executed] + progress_state(finished),
and ends with execution_success, execution_error or execution_interrupted. The worker
(worker.py) stores the history entry and sends the final `status` / `executing null`.
"""

from __future__ import annotations

import os
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from comfy_gateway.simulator import messages, nodes
from comfy_gateway.simulator.config import TunableConfig
from comfy_gateway.simulator.faults import Fault, FaultBook, FaultKind, InjectedFailure
from comfy_gateway.simulator.graph import CycleError, ExecutionPlan, is_link, node_signatures
from comfy_gateway.simulator.node_cache import CachedNode, NodeCache
from comfy_gateway.simulator.node_runtime import EngineNodeContext, RunChannel, RunControl
from comfy_gateway.simulator.progress import ProgressRegistry
from comfy_gateway.simulator.prompt_queue import QueueItem
from comfy_gateway.simulator.sockets import SocketHub


class NodeInfoSource(Protocol):
    def node_info(self, class_type: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True, kw_only=True)
class EngineParts:
    """Everything a prompt run uses, assembled once by the app."""

    hub: SocketHub
    catalogue: NodeInfoSource
    cache: NodeCache
    faults: FaultBook
    control: RunControl
    config: TunableConfig
    folders: tuple[Path, Path, Path]


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a prompt ended, and what its history entry records."""

    outcome: str  # "success" | "error" | "interrupted"
    messages: list[list[Any]]
    outputs: dict[str, Any]
    meta: dict[str, Any]

    @property
    def status_str(self) -> str:
        return "success" if self.outcome == "success" else "error"


class NodeFailed(Exception):
    """Internal: a node ended the prompt (error or interrupt already reported)."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _exception_type_name(exc: BaseException) -> str:
    if isinstance(exc, InjectedFailure):
        return exc.reported_type
    return messages.full_type_name(exc)


class PromptRun:
    """One prompt on the executor thread."""

    def __init__(
        self,
        item: QueueItem,
        parts: EngineParts,
        on_node_start: Callable[[str], None] | None = None,
    ) -> None:
        self._item = item
        self._parts = parts
        self._prompt = item.prompt
        self._channel = RunChannel(
            hub=parts.hub, prompt_id=item.prompt_id, client_id=item.client_id
        )
        self._progress = ProgressRegistry(item.prompt_id)
        self._messages: list[list[Any]] = []
        self._values: dict[str, tuple[Any, ...]] = {}
        self._executed: list[str] = []
        self._signatures: dict[str, str] = {}
        self._on_node_start = on_node_start
        self._node_infos: dict[str, dict[str, Any]] = {}

    def execute(self) -> RunOutcome:
        self._add_message("execution_start", {"prompt_id": self._item.prompt_id})
        self._signatures = node_signatures(self._prompt, self._fingerprint)
        cached = [node_id for node_id in self._prompt if self._cached(node_id) is not None]
        self._add_message("execution_cached", {"nodes": cached, "prompt_id": self._item.prompt_id})
        outcome = self._run_plan(self._plan(set(cached)))
        self._parts.cache.retain_only(self._signatures.values())
        outputs, meta = self._ui_outputs()
        return RunOutcome(outcome=outcome, messages=self._messages, outputs=outputs, meta=meta)

    def _plan(self, cached: set[str]) -> ExecutionPlan:
        plan = ExecutionPlan(self._prompt, is_output=self._is_output, is_cached=cached.__contains__)
        for node_id in self._item.outputs_to_execute:
            if node_id in self._prompt:
                plan.add_output(node_id)
        return plan

    def _run_plan(self, plan: ExecutionPlan) -> str:
        try:
            while not plan.is_empty():
                node_id = plan.next_node()
                self._run_node(node_id)
                plan.complete(node_id)
        except NodeFailed as failed:
            return failed.outcome
        except CycleError as exc:
            self._report_error(next(iter(self._prompt)), exc, {})
            return "error"
        self._add_message("execution_success", {"prompt_id": self._item.prompt_id})
        return "success"

    # -- one node -------------------------------------------------------------------

    def _run_node(self, node_id: str) -> None:
        cached = self._cached(node_id)
        if cached is not None:
            self._replay_cached(node_id, cached)
            return
        # ComfyUI checks the flag just after `executing`; reading it before the message leaves
        # keeps an interrupt sent in reaction to `executing N` for node N+1, as captured.
        interrupted_before_start = self._parts.control.interrupt_requested
        self._progress.start(node_id)
        self._channel.to_client_or_all("progress_state", self._progress.state_data())
        if self._on_node_start is not None:
            self._on_node_start(node_id)
        self._channel.to_client("executing", messages.executing_data(node_id, self._item.prompt_id))
        inputs = self._resolved_inputs(node_id)
        result = self._call_node(node_id, inputs, interrupted_before_start)
        self._values[node_id] = result.outputs
        self._parts.cache.put(
            self._signatures[node_id], CachedNode(outputs=result.outputs, ui=result.ui)
        )
        if result.ui:
            data = messages.executed_data(node_id, result.ui, self._item.prompt_id)
            self._channel.to_client("executed", data)
        self._progress.finish(node_id)
        self._channel.to_client_or_all("progress_state", self._progress.state_data())
        self._executed.append(node_id)

    def _replay_cached(self, node_id: str, cached: CachedNode) -> None:
        data = messages.executed_data(node_id, cached.ui or None, self._item.prompt_id)
        self._channel.to_client("executed", data)
        self._progress.finish(node_id)
        self._channel.to_client_or_all("progress_state", self._progress.state_data())
        self._values[node_id] = cached.outputs

    def _call_node(
        self, node_id: str, inputs: dict[str, Any], interrupted_before_start: bool
    ) -> nodes.NodeResult:
        class_type = self._class_type(node_id)
        context = self._context(node_id)
        try:
            if interrupted_before_start:
                raise nodes.Interrupted("Processing interrupted")
            self._apply_fault(self._parts.faults.take(class_type, node_id))
            self._parts.control.sleep(self._parts.config.durations.seconds_for(class_type))
            result = nodes.execute_node(class_type, dict(inputs), context, self._node_info(node_id))
            context.flush_preview()
        except nodes.Interrupted:
            self._report_interrupt(node_id)
            raise NodeFailed("interrupted") from None
        except Exception as exc:
            self._report_error(node_id, exc, inputs)
            raise NodeFailed("error") from None
        return result

    def _apply_fault(self, fault: Fault | None) -> None:
        if fault is None:
            return
        if fault.kind is FaultKind.FAIL:
            raise InjectedFailure(fault)
        if fault.kind is FaultKind.HANG:
            self._parts.control.block_until_interrupted()
        if fault.kind is FaultKind.DROP_WEBSOCKETS:
            self._parts.hub.drop_all()
        if fault.kind is FaultKind.EXIT:
            os._exit(fault.exit_code)

    def _context(self, node_id: str) -> EngineNodeContext:
        return EngineNodeContext(
            node_id=node_id,
            channel=self._channel,
            progress=self._progress,
            control=self._parts.control,
            folders=self._parts.folders,
            step_seconds=self._parts.config.durations.step_seconds,
        )

    # -- reports --------------------------------------------------------------------

    def _report_interrupt(self, node_id: str) -> None:
        data = {
            "prompt_id": self._item.prompt_id,
            "node_id": node_id,
            "node_type": self._class_type(node_id),
            "executed": list(self._executed),
        }
        self._add_message("execution_interrupted", data, broadcast=True)

    def _report_error(self, node_id: str, exc: BaseException, inputs: dict[str, Any]) -> None:
        data = {
            "prompt_id": self._item.prompt_id,
            "node_id": node_id,
            "node_type": self._class_type(node_id),
            "executed": list(self._executed),
            "exception_message": f"{exc}\n",  # ComfyUI formats it as "{}\n"
            "exception_type": _exception_type_name(exc),
            "traceback": traceback.format_tb(exc.__traceback__),
            "current_inputs": self._formatted_inputs(node_id, inputs),
            "current_outputs": list(self._prompt),
        }
        self._add_message("execution_error", data)

    def _add_message(self, event: str, data: dict[str, Any], *, broadcast: bool = False) -> None:
        data = {**data, "timestamp": int(time.time() * 1000)}
        self._messages.append([event, data])
        if broadcast:
            self._channel.to_client_or_all(event, data)
        else:
            self._channel.to_client(event, data)

    # -- inputs, cache, catalogue ---------------------------------------------------

    def _resolved_inputs(self, node_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = {}
        for name, value in self._prompt[node_id].get("inputs", {}).items():
            if is_link(value):
                upstream = self._outputs_of(value[0])
                index = int(value[1])
                resolved[name] = upstream[index] if index < len(upstream) else None
            else:
                resolved[name] = value
        return resolved

    def _outputs_of(self, node_id: str) -> tuple[Any, ...]:
        """What an upstream node produced now, or in an earlier prompt (cached)."""
        if node_id not in self._values:
            cached = self._cached(node_id)
            self._values[node_id] = () if cached is None else cached.outputs
        return self._values[node_id]

    def _formatted_inputs(self, node_id: str, inputs: dict[str, Any]) -> dict[str, list[Any]]:
        spec = self._node_info(node_id).get("input", {})
        declared = set(spec.get("required", {})) | set(spec.get("optional", {}))
        raw = self._prompt[node_id].get("inputs", {})
        formatted = {
            name: [messages.format_value(value)]
            for name, value in inputs.items()
            if is_link(raw.get(name)) or name in declared
        }
        for name, kind in spec.get("hidden", {}).items():
            hidden = self._hidden_value(node_id, kind)
            if hidden is not _NO_VALUE:
                formatted[name] = [messages.format_value(hidden)]
        return formatted

    def _hidden_value(self, node_id: str, kind: Any) -> Any:
        if kind == "PROMPT":
            return self._prompt
        if kind == "EXTRA_PNGINFO":
            return self._item.extra_data.get("extra_pnginfo")
        if kind == "UNIQUE_ID":
            return node_id
        return _NO_VALUE

    def _fingerprint(self, node_id: str) -> str | None:
        node = self._prompt[node_id]
        try:
            return nodes.cache_fingerprint(
                str(node.get("class_type")), dict(node.get("inputs", {})), self._parts.folders[0]
            )
        except Exception:
            return uuid.uuid4().hex  # like a failing IS_CHANGED: never reuse

    def _cached(self, node_id: str) -> CachedNode | None:
        signature = self._signatures.get(node_id)
        return None if signature is None else self._parts.cache.get(signature)

    def _ui_outputs(self) -> tuple[dict[str, Any], dict[str, Any]]:
        outputs: dict[str, Any] = {}
        meta: dict[str, Any] = {}
        for node_id in self._prompt:
            cached = self._cached(node_id)
            if cached is not None and cached.ui:
                outputs[node_id] = cached.ui
                meta[node_id] = messages.node_meta(node_id)
        return outputs, meta

    def _class_type(self, node_id: str) -> str:
        return str(self._prompt[node_id].get("class_type"))

    def _node_info(self, node_id: str) -> dict[str, Any]:
        class_type = self._class_type(node_id)
        if class_type not in self._node_infos:
            self._node_infos[class_type] = self._parts.catalogue.node_info(class_type) or {}
        return self._node_infos[class_type]

    def _is_output(self, node_id: str) -> bool:
        return self._node_info(node_id).get("output_node") is True


_NO_VALUE = object()
