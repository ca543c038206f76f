"""Simulator-only: interrupts, failures, dropped sockets and a dying backend."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy_gateway.comfy import (
    BackendConnection,
    ComfyHttpClient,
    Event,
    Executing,
    ExecutionInterrupted,
    ExecutionSuccess,
    PreviewImage,
    PromptFailed,
    PromptInterrupted,
    PromptSucceeded,
    ReconnectPolicy,
    run_prompt,
)
from comfy_gateway.errors import ComfySocketClosed, ComfyUnavailable, PromptNotFound
from support.simulator_process import READY_PREFIX, SimulatorProcess

Graph = dict[str, Any]
GraphFactory = Callable[..., Graph]
FAST_POLICY = ReconnectPolicy(initial=0.05, maximum=0.5, budget=10.0)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def sim_post(sim: SimulatorProcess, path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as client:
        response = await client.request(
            "POST" if path != "/_sim/config" else "PUT", path, json=body
        )
        response.raise_for_status()
        return response.json() if response.content else None


async def executions_of(sim: SimulatorProcess, prompt_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10) as client:
        response = await client.get("/_sim/executions")
        response.raise_for_status()
    return [item for item in response.json()["executions"] if item["prompt_id"] == prompt_id]


async def consume(run: Any, sink: list[Event], node: str, started: asyncio.Event) -> None:
    """Collect a run's events, setting ``started`` once ``node`` begins executing."""
    async for event in run:
        sink.append(event)
        if isinstance(event, Executing) and event.node == node:
            started.set()


@pytest.fixture
async def sim_http(sim: SimulatorProcess) -> Any:
    async with ComfyHttpClient(sim.url, backend="sim") as client:
        yield client


@pytest.fixture
async def sim_connection(sim_http: ComfyHttpClient) -> Any:
    async with BackendConnection(sim_http, policy=FAST_POLICY) as connection:
        yield connection


async def test_targeted_interrupt_stops_only_the_running_prompt(
    sim: SimulatorProcess,
    sim_http: ComfyHttpClient,
    sim_connection: BackendConnection,
    invert_graph: GraphFactory,
) -> None:
    await sim_post(sim, "/_sim/faults", {"kind": "hang", "class_type": "ImageInvert"})
    run = run_prompt(sim_http, sim_connection, invert_graph(prefix=unique("hang")), timeout=30)
    events: list[Event] = []
    started = asyncio.Event()
    task = asyncio.create_task(consume(run, events, "2", started))
    await asyncio.wait_for(started.wait(), 10)
    await sim_http.interrupt("not-the-running-prompt")
    await sim_http.interrupt(run.prompt_id)
    await asyncio.wait_for(task, 10)
    assert any(isinstance(event, ExecutionInterrupted) for event in events)
    assert isinstance(run.result, PromptInterrupted)
    assert run.result.node_type == "ImageInvert"
    (execution,) = await executions_of(sim, run.prompt_id)
    assert execution["outcome"] == "interrupted"


async def test_a_failing_node_gives_its_exception(
    sim: SimulatorProcess,
    sim_http: ComfyHttpClient,
    sim_connection: BackendConnection,
    invert_graph: GraphFactory,
) -> None:
    fault = {"kind": "fail", "node_id": "2", "exception_type": "RuntimeError", "message": "boom"}
    await sim_post(sim, "/_sim/faults", fault)
    result = await run_prompt(sim_http, sim_connection, invert_graph(prefix=unique("f"))).wait()
    assert isinstance(result, PromptFailed)
    assert (result.node_id, result.node_type) == ("2", "ImageInvert")
    assert result.exception_type == "RuntimeError"
    assert "boom" in result.exception_message


async def test_a_socket_dropped_mid_run_is_reopened_without_resubmitting(
    sim: SimulatorProcess,
    sim_http: ComfyHttpClient,
    sim_connection: BackendConnection,
    invert_graph: GraphFactory,
) -> None:
    await sim_post(sim, "/_sim/config", {"node_seconds": 0.2})
    await sim_post(sim, "/_sim/faults", {"kind": "drop_websockets", "node_id": "2"})
    run = run_prompt(sim_http, sim_connection, invert_graph(prefix=unique("drop")), timeout=30)
    events = [event async for event in run]
    result = run.result
    assert isinstance(result, PromptSucceeded)
    assert result.outputs["3"]["images"]
    assert sim_connection.reconnects >= 1
    # ComfyUI's reconnect ``executing`` has no prompt id: it was attributed through /queue.
    started = [event.node for event in events if isinstance(event, Executing) and event.node]
    assert started.count("2") == 2
    assert started[-1] == "3"
    assert sum(isinstance(event, ExecutionSuccess) for event in events) == 1
    assert events[-1] == Executing(node=None, prompt_id=run.prompt_id)
    (execution,) = await executions_of(sim, run.prompt_id)
    assert execution["outcome"] == "success"


async def test_a_prompt_that_finished_while_the_socket_was_down_is_read_from_history(
    sim: SimulatorProcess,
    sim_http: ComfyHttpClient,
    sim_connection: BackendConnection,
    invert_graph: GraphFactory,
) -> None:
    # The last node drops the sockets; the prompt ends before we are back.
    await sim_post(sim, "/_sim/faults", {"kind": "drop_websockets", "node_id": "3"})
    run = run_prompt(sim_http, sim_connection, invert_graph(prefix=unique("gap")), timeout=30)
    result = await run.wait()
    assert isinstance(result, PromptSucceeded)
    assert result.outputs["3"]["images"]
    assert sim_connection.reconnects >= 1
    assert len(await executions_of(sim, run.prompt_id)) == 1


async def test_previews_name_their_prompt(
    sim_http: ComfyHttpClient, sim_connection: BackendConnection
) -> None:
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 3, "color": 255},
        },
        "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}},
    }
    run = run_prompt(sim_http, sim_connection, graph, timeout=30)
    previews = [event async for event in run if isinstance(event, PreviewImage)]
    assert len(previews) == 3
    assert all(preview.prompt_id == run.prompt_id for preview in previews)
    assert all(preview.image.startswith(b"\x89PNG") for preview in previews)


@contextmanager
def doomed_simulator(data_dir: Path) -> Iterator[SimulatorProcess]:
    """A simulator of this test's own, meant to be killed by an ``exit`` fault.

    Unlike ``run_simulator`` this closes the process's stdout pipe itself (through
    ``Popen``'s context manager), so the dead process leaves no unclosed file behind.
    """
    command = [sys.executable, "-m", "comfy_gateway", "simulate", "--host", "127.0.0.1"]
    command += ["--port", "0", "--data-dir", str(data_dir)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        url = next(
            (line.split()[-1] for line in process.stdout if line.startswith(READY_PREFIX)), None
        )
        assert url is not None, "the simulator ended before it was ready"
        try:
            yield SimulatorProcess(url=url, data_dir=data_dir, process=process)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            process.wait(10)


async def test_a_backend_that_dies_mid_run_ends_the_follow(
    tmp_path: Path, invert_graph: GraphFactory
) -> None:
    with doomed_simulator(tmp_path / "dying") as dying:
        async with ComfyHttpClient(dying.url) as http:
            policy = ReconnectPolicy(initial=0.05, maximum=0.2, budget=1.0)
            async with BackendConnection(http, policy=policy) as connection:
                # Node 1 is slowed so that POST /prompt is answered before node 2 kills it.
                await sim_post(
                    dying, "/_sim/config", {"node_seconds_by_class": {"EmptyImage": 0.3}}
                )
                await sim_post(dying, "/_sim/faults", {"kind": "exit", "node_id": "2"})
                run = run_prompt(http, connection, invert_graph(prefix="dies"), timeout=30)
                with pytest.raises(ComfySocketClosed, match="could not be reopened"):
                    await run.wait()
                with pytest.raises(ComfyUnavailable):
                    await http.queue()


async def test_a_followed_prompt_deleted_while_pending_ends_with_prompt_not_found(
    sim: SimulatorProcess,
    sim_http: ComfyHttpClient,
    sim_connection: BackendConnection,
    invert_graph: GraphFactory,
) -> None:
    await sim_post(sim, "/_sim/faults", {"kind": "hang", "class_type": "ImageInvert"})
    blocker = run_prompt(sim_http, sim_connection, invert_graph(prefix=unique("block")))
    started = asyncio.Event()
    blocker_task = asyncio.create_task(consume(blocker, [], "2", started))
    await asyncio.wait_for(started.wait(), 10)
    graph = invert_graph(prefix=unique("wait"), color=9)
    queued = await sim_http.queue_prompt(graph, client_id=sim_connection.client_id)
    feed = sim_connection.follow(queued.prompt_id, timeout=10)  # found pending: followed
    waiting_task = asyncio.create_task(anext(aiter(feed)))
    await sim_http.delete_from_queue([queued.prompt_id])
    with pytest.raises(PromptNotFound, match=queued.prompt_id):
        await waiting_task
    await sim_http.interrupt(blocker.prompt_id)
    await asyncio.wait_for(blocker_task, 10)
    assert isinstance(blocker.result, PromptInterrupted)
    assert await executions_of(sim, queued.prompt_id) == []
