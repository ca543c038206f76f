"""The /_sim control routes, every fault kind, the history cap and the CLI ready line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from support.simulator_process import SimulatorProcess, run_simulator

from .sim_client import (
    add_fault,
    collect_until_end,
    configure,
    new_client_id,
    open_socket,
    post_prompt,
    recv_any,
    recv_json,
    three_node_graph,
    wait_for,
    ws_url,
)


async def test_config_update_returns_full_config_and_reset_restores_it(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    updated = await configure(
        http,
        node_seconds=0.5,
        node_seconds_by_class={"KSampler": 2.0},
        reject_duplicate_prompt_ids=True,
        models={"checkpoints": ["model.safetensors"]},
    )
    assert updated["node_seconds"] == 0.5
    assert updated["step_seconds"] == 0.0
    assert updated["node_seconds_by_class"] == {"KSampler": 2.0}
    assert updated["reject_duplicate_prompt_ids"] is True
    assert updated["models"]["checkpoints"] == ["model.safetensors"]
    loader = (await http.get("/object_info/CheckpointLoaderSimple")).json()[
        "CheckpointLoaderSimple"
    ]
    assert "model.safetensors" in str(loader["input"]["required"]["ckpt_name"])
    assert (await http.post("/_sim/reset")).json() == {}
    restored = (await http.get("/_sim/config")).json()
    assert restored["node_seconds"] == 0.0
    assert restored["reject_duplicate_prompt_ids"] is False
    assert restored["models"].get("checkpoints", []) == []


async def test_bad_config_and_fault_bodies_are_refused(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    assert (await http.put("/_sim/config", json={"node_seconds": -1})).status_code == 400
    assert (await http.put("/_sim/config", json={"bogus": 1})).status_code == 400
    assert (await http.post("/_sim/faults", json={"kind": "explode"})).status_code == 400
    assert (await http.post("/_sim/faults", json={"kind": "fail", "times": 0})).status_code == 400


async def test_duplicate_prompt_ids_run_twice_unless_rejected(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        for _ in range(2):
            accepted = (await post_prompt(http, three_node_graph("dup"), client_id=client_id,
                                   prompt_id="same-id"))  # fmt: skip
            assert accepted["prompt_id"] == "same-id"
            await collect_until_end(socket, "same-id")
    executions = (await http.get("/_sim/executions")).json()["executions"]
    assert [e["prompt_id"] for e in executions] == ["same-id", "same-id"]
    await configure(http, reject_duplicate_prompt_ids=True)
    refused = await http.post(
        "/prompt", json={"prompt": three_node_graph("dup"), "prompt_id": "same-id"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "duplicate_prompt_id"


async def test_executions_record_outlives_history(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="fail", node_id="3")
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        failed = (await post_prompt(http, three_node_graph("x1"), client_id=client_id))["prompt_id"]
        await collect_until_end(socket, failed)
        done = (await post_prompt(http, three_node_graph("x2"), client_id=client_id))["prompt_id"]
        await collect_until_end(socket, done)
    await http.post("/history", json={"clear": True})
    assert (await http.get("/history")).json() == {}
    executions = (await http.get("/_sim/executions")).json()["executions"]
    assert [(e["prompt_id"], e["outcome"]) for e in executions] == [
        (failed, "error"),
        (done, "success"),
    ]
    assert all(e["client_id"] == client_id for e in executions)
    assert all(e["ended_at"] >= e["started_at"] for e in executions)
    assert executions[0]["number"] < executions[1]["number"]


async def test_fail_fault_fires_the_given_number_of_times(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    (await add_fault(http, kind="fail", class_type="SaveImage", exception_type="OSError",
              message="disk full", times=2))  # fmt: skip
    client_id = new_client_id()
    outcomes = []
    async with await open_socket(sim.url, client_id) as socket:
        for index in range(3):
            prompt_id = (
                await post_prompt(http, three_node_graph(f"f{index}"), client_id=client_id)
            )["prompt_id"]
            messages = await collect_until_end(socket, prompt_id)
            outcomes.append(messages[-3]["type"])
    assert outcomes == ["execution_error", "execution_error", "execution_success"]


async def test_cleared_faults_do_not_fire(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    await add_fault(http, kind="fail")
    assert (await http.delete("/_sim/faults")).status_code == 200
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, three_node_graph("nf"), client_id=client_id))[
            "prompt_id"
        ]
        messages = await collect_until_end(socket, prompt_id)
    assert messages[-3]["type"] == "execution_success"


async def test_hang_fault_is_released_by_reset(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="hang", class_type="ImageInvert")
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, three_node_graph("hang"), client_id=client_id))[
            "prompt_id"
        ]
        await wait_for(socket, "executing", node="2")
        queued = (await post_prompt(http, three_node_graph("behind", color=3)))["prompt_id"]
        assert (await http.post("/_sim/reset")).status_code == 200
        assert (await http.get("/queue")).json() == {"queue_running": [], "queue_pending": []}
        messages = await collect_until_end(socket, prompt_id)
    assert any(m["type"] == "execution_interrupted" for m in messages)
    assert (await http.get(f"/history/{prompt_id}")).json() == {}
    assert (await http.get(f"/history/{queued}")).json() == {}
    assert (await http.get("/_sim/executions")).json() == {"executions": []}


async def drain(socket: ClientConnection) -> None:
    """Read frames until the connection ends (raises ConnectionClosed then)."""
    while True:
        await recv_any(socket)


async def test_drop_websockets_fault_closes_sockets_but_prompt_finishes(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="drop_websockets", class_type="ImageInvert")
    client_id = new_client_id()
    socket = await open_socket(sim.url, client_id)
    prompt_id = (await post_prompt(http, three_node_graph("drop"), client_id=client_id))[
        "prompt_id"
    ]
    with pytest.raises(ConnectionClosed) as closed:
        await drain(socket)
    assert closed.value.rcvd is None  # no close frame: the TCP connection just went away
    async with connect(ws_url(sim.url, client_id)) as again:
        # history is stored before the final status, so once idle the entry must be there
        status = await recv_json(again)
        if status["data"]["status"]["exec_info"]["queue_remaining"]:
            await wait_for(again, "status", status={"exec_info": {"queue_remaining": 0}})
    entry = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert entry["status"]["status_str"] == "success"


async def test_drop_websockets_route_closes_every_socket(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    first = await open_socket(sim.url, new_client_id())
    second = await open_socket(sim.url)
    assert (await http.post("/_sim/drop-websockets")).status_code == 200
    for socket in (first, second):
        with pytest.raises(ConnectionClosed):
            await recv_any(socket)


async def test_exit_fault_ends_the_process_with_its_code(fresh_simulator: SimulatorProcess) -> None:
    async with httpx.AsyncClient(base_url=fresh_simulator.url, timeout=10.0) as http:
        await add_fault(http, kind="exit", exit_code=7)
        # the worker may kill the process before the HTTP answer leaves: both are fine
        with contextlib.suppress(httpx.TransportError):
            await http.post("/prompt", json={"prompt": three_node_graph("exit")})
    assert fresh_simulator.process.wait(10) == 7


async def test_history_is_capped_oldest_first(tmp_path: Path) -> None:
    ids = []
    with run_simulator(tmp_path / "capped", ["--history-max", "2"]) as capped:
        client_id = new_client_id()
        async with (
            httpx.AsyncClient(base_url=capped.url, timeout=10.0) as http,
            await open_socket(capped.url, client_id) as socket,
        ):
            for index in range(3):
                graph = three_node_graph(f"cap{index}", color=index)
                prompt_id = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
                await collect_until_end(socket, prompt_id)
                ids.append(prompt_id)
            history = (await http.get("/history")).json()
    assert list(history) == ids[1:]


def test_cli_prints_ready_line_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COMFY_GATEWAY_SIM_MAX_UPLOAD_SIZE": "1234"}
    command = [sys.executable, "-m", "comfy_gateway", "simulate", "--port", "0",
               "--data-dir", str(tmp_path), "--model", "vae/my.safetensors",
               "--node-seconds-for", "KSampler=1.5"]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as process:
        assert process.stdout is not None
        ready = next(line for line in process.stdout if line.startswith("SIMULATOR READY"))
        url = ready.split()[-1]
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, timeout=10.0) as http:
            assert http.get("/features").json()["max_upload_size"] == 1234
            config = http.get("/_sim/config").json()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    assert config["models"]["vae"] == ["my.safetensors"]
    assert config["node_seconds_by_class"] == {"KSampler": 1.5}
    assert {path.name for path in tmp_path.iterdir()} >= {"input", "output", "temp"}
