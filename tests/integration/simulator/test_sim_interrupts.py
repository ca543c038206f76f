"""Interrupts (plain, targeted, mid-progress), reconnects and queue manipulation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from support.simulator_process import SimulatorProcess

from .sim_client import (
    add_fault,
    collect_until_end,
    configure,
    new_client_id,
    open_socket,
    post_prompt,
    recv_json,
    three_node_graph,
    types_of,
    wait_for,
    ws_url,
)

SLOW_SECONDS = 30.0  # far longer than any test: only an interrupt can end it early


def slow_scale_graph(color: int = 1) -> dict[str, Any]:
    """Scenario (d): EmptyImage → ImageScale (slow, no progress) → ImageInvert → Preview."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 16, "batch_size": 1, "color": color},
        },
        "2": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["1", 0],
                "upscale_method": "lanczos",
                "width": 32,
                "height": 32,
                "crop": "disabled",
            },
        },
        "3": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
        "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
    }


def assert_interrupted_at_next_node(messages: list[dict[str, Any]], prompt_id: str) -> None:
    """The running node finishes; the next one starts and is named as interrupted (d, d2)."""
    assert types_of(messages) == [
        "progress_state",
        "progress_state",
        "executing",
        "execution_interrupted",
        "status",
        "executing",
    ]
    assert messages[0]["data"]["nodes"]["2"]["state"] == "finished"
    assert messages[2]["data"]["node"] == "3"
    interrupted = messages[3]["data"]
    assert interrupted["node_id"] == "3"
    assert interrupted["node_type"] == "ImageInvert"
    assert interrupted["executed"] == ["1", "2"]
    assert interrupted["prompt_id"] == prompt_id


async def test_plain_interrupt_names_the_next_node(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await configure(http, node_seconds_by_class={"ImageScale": SLOW_SECONDS})
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, slow_scale_graph(), client_id=client_id))["prompt_id"]
        await wait_for(socket, "executing", node="2")
        assert (await http.get("/prompt")).json() == {"exec_info": {"queue_remaining": 1}}
        response = await http.post("/interrupt")
        assert (response.status_code, response.content) == (200, b"")
        messages = await collect_until_end(socket, prompt_id)
    assert_interrupted_at_next_node(messages, prompt_id)
    entry = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["completed"] is False
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"


async def test_targeted_interrupt_ignores_other_prompt_ids(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await configure(http, node_seconds_by_class={"ImageScale": SLOW_SECONDS})
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, slow_scale_graph(2), client_id=client_id))["prompt_id"]
        await wait_for(socket, "executing", node="2")
        assert (await http.post("/interrupt", json={"prompt_id": "not-running"})).status_code == 200
        with pytest.raises(TimeoutError):
            await recv_json(socket, timeout=0.5)  # the slow node keeps running
        assert (await http.post("/api/interrupt", json={"prompt_id": prompt_id})).status_code == 200
        messages = await collect_until_end(socket, prompt_id)
    assert_interrupted_at_next_node(messages, prompt_id)


async def test_interrupt_while_idle_does_not_touch_the_next_prompt(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    assert (await http.post("/interrupt")).status_code == 200
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, three_node_graph("idle"), client_id=client_id))[
            "prompt_id"
        ]
        messages = await collect_until_end(socket, prompt_id)
    assert "execution_success" in types_of(messages)


async def test_interrupt_inside_a_progress_node(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await configure(http, step_seconds=0.05)
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 512, "height": 512, "batch_size": 1, "color": 9},
        },
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}},
        "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
        "4": {
            "class_type": "VAEDecodeTiled",
            "inputs": {
                "samples": ["3", 0],
                "vae": ["2", 0],
                "tile_size": 64,
                "overlap": 0,
                "temporal_size": 64,
                "temporal_overlap": 8,
            },
        },
        "5": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}},
    }
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
        progress = await wait_for(socket, "progress", node="4", value=2)
        await http.post("/interrupt")
        messages = await collect_until_end(socket, prompt_id)
    assert progress["data"]["max"] > 2
    interrupted = next(m for m in messages if m["type"] == "execution_interrupted")["data"]
    assert interrupted["node_id"] == "4"
    assert interrupted["node_type"] == "VAEDecodeTiled"
    assert sorted(interrupted["executed"]) == ["1", "2", "3"]


async def test_reconnect_with_same_client_id_takes_over(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await configure(http, node_seconds_by_class={"ImageScale": SLOW_SECONDS})
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as first:
        prompt_id = (await post_prompt(http, slow_scale_graph(4), client_id=client_id))["prompt_id"]
        await wait_for(first, "executing", node="2")
        async with connect(ws_url(sim.url, client_id)) as second:
            status = await recv_json(second)
            assert status["data"] == {
                "status": {"exec_info": {"queue_remaining": 1}},
                "sid": client_id,
            }
            assert await recv_json(second) == {"type": "executing", "data": {"node": "2"}}
            await http.post("/interrupt")
            messages = await collect_until_end(second, prompt_id)
        with pytest.raises(TimeoutError):
            await recv_json(first, timeout=0.3)  # the replaced socket hears nothing more
    assert_interrupted_at_next_node(messages, prompt_id)


async def test_queue_delete_and_clear_leave_the_running_prompt(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="hang", class_type="EmptyImage", node_id="1")
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        running = (await post_prompt(http, three_node_graph("run"), client_id=client_id))[
            "prompt_id"
        ]
        await wait_for(socket, "executing", node="1", prompt_id=running)
        pending = [
            (await post_prompt(http, three_node_graph(f"p{i}", color=i), client_id=client_id))[
                "prompt_id"
            ]
            for i in range(3)
        ]
        assert (await http.post("/queue", json={"delete": [pending[0]]})).content == b""
        assert (await http.post("/queue", json={"delete": [running]})).status_code == 200
        queue = (await http.get("/queue")).json()
        assert [item[1] for item in queue["queue_running"]] == [running]
        assert sorted(item[1] for item in queue["queue_pending"]) == sorted(pending[1:])
        assert (await http.post("/queue", json={"clear": True})).status_code == 200
        assert (await http.get("/queue")).json()["queue_pending"] == []
        assert (await http.get("/prompt")).json()["exec_info"]["queue_remaining"] == 1
        await http.post("/interrupt")
        await collect_until_end(socket, running)
    for prompt_id in pending:
        assert (await http.get(f"/history/{prompt_id}")).json() == {}
    executions = (await http.get("/_sim/executions")).json()["executions"]
    assert [e["prompt_id"] for e in executions] == [running]
    assert executions[0]["outcome"] == "interrupted"


async def test_queue_changes_broadcast_status(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="hang", class_type="EmptyImage")
    async with await open_socket(sim.url, new_client_id()) as observer:
        await post_prompt(http, three_node_graph("s0"))
        second = (await post_prompt(http, three_node_graph("s1", color=1)))["prompt_id"]
        # without a client id, progress_state is broadcast too: look at statuses only
        remaining = [
            (await wait_for(observer, "status"))["data"]["status"]["exec_info"]["queue_remaining"]
            for _ in range(3)
        ]
        await http.post("/queue", json={"delete": [second]})
        after_delete = await wait_for(observer, "status")
        await http.post("/interrupt")
        await asyncio.wait_for(_until_idle(observer), 10)
    assert remaining == [1, 1, 2]
    assert after_delete["data"]["status"]["exec_info"]["queue_remaining"] == 1


async def _until_idle(observer: Any) -> None:
    while True:
        message = await recv_json(observer)
        status = message["data"].get("status")
        if message["type"] == "status" and status["exec_info"]["queue_remaining"] == 0:
            return
