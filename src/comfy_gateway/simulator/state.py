"""One simulated ComfyUI server: every part, assembled in one place from the settings."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from comfy_gateway.simulator import messages
from comfy_gateway.simulator.catalogue import NodeCatalogue, load_captured_object_info
from comfy_gateway.simulator.config import ConfigUpdate, SimulatorSettings, TunableConfig
from comfy_gateway.simulator.executor import EngineParts
from comfy_gateway.simulator.faults import FaultBook
from comfy_gateway.simulator.history import ExecutionLog, HistoryStore
from comfy_gateway.simulator.node_cache import NodeCache
from comfy_gateway.simulator.node_runtime import RunControl
from comfy_gateway.simulator.nodes import simulator_only_definitions
from comfy_gateway.simulator.prompt_queue import PromptQueue
from comfy_gateway.simulator.sockets import SocketHub
from comfy_gateway.simulator.worker import ActivePrompt, PromptWorker

RESET_WAIT_SECONDS = 10.0


class Simulator:
    """The state behind the routes: queue, worker, history, sockets, caches, faults."""

    def __init__(self, settings: SimulatorSettings) -> None:
        for folder in (settings.input_dir, settings.output_dir, settings.temp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.hub = SocketHub()
        self.catalogue = NodeCatalogue(
            load_captured_object_info(simulator_only_definitions()),
            model_files=settings.models,
            input_dir=settings.input_dir,
        )
        self.config = TunableConfig(settings)
        self.queue = PromptQueue(on_change=self.broadcast_status)
        self.history = HistoryStore(settings.history_max)
        self.executions = ExecutionLog()
        self.faults = FaultBook()
        self.active = ActivePrompt()
        self.parts = EngineParts(
            hub=self.hub,
            catalogue=self.catalogue,
            cache=NodeCache(),
            faults=self.faults,
            control=RunControl(),
            config=self.config,
            folders=(settings.input_dir, settings.output_dir, settings.temp_dir),
        )
        self.worker = PromptWorker(
            parts=self.parts,
            queue=self.queue,
            history=self.history,
            executions=self.executions,
            active=self.active,
        )
        self._number = 0
        self._number_lock = threading.Lock()

    def broadcast_status(self) -> None:
        self.hub.send("status", messages.status_data(self.queue.remaining()), None)

    def take_number(self) -> int:
        """ComfyUI's prompt counter: every counted POST /prompt moves it on, valid or not."""
        with self._number_lock:
            number = self._number
            self._number += 1
            return number

    def interrupt(self, prompt_id: str | None) -> None:
        """No id: interrupt whatever runs; an id: only if that prompt is the running one."""
        if prompt_id is None or prompt_id == self.active.prompt_id:
            self.parts.control.request_interrupt()

    def knows_prompt(self, prompt_id: str) -> bool:
        return self.queue.contains(prompt_id) or self.history.contains(prompt_id)

    def update_config(self, update: ConfigUpdate) -> None:
        self.config.apply(update)
        if update.models is not None:
            self.install_models(update.models)

    def install_models(self, models: Mapping[str, Sequence[str]]) -> None:
        for folder, names in models.items():
            self.catalogue.set_model_files(folder, names)

    def reset(self) -> None:
        """Back to a fresh server: nothing queued, running, remembered, cached or armed."""
        self.worker.forget_running()
        self.queue.clear()
        self.parts.control.request_interrupt()
        self.queue.wait_idle(RESET_WAIT_SECONDS)
        self.history.clear()
        self.parts.cache.clear()
        self.executions.clear()
        self.faults.clear()
        self.config.restore(self.settings)
        installed: dict[str, list[str]] = {folder: [] for folder in self.catalogue.model_files()}
        self.install_models({**installed, **self.settings.models})
