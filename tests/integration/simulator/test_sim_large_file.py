"""The simulator-only `SimulatorOnlyLargeFile` node: listed, validated, and its file served."""

from __future__ import annotations

import hashlib

import httpx

from support.simulator_process import SimulatorProcess

from .sim_client import collect_until_end, new_client_id, open_socket, post_prompt

CLASS_TYPE = "SimulatorOnlyLargeFile"
MIB = 1 << 20


def large_file_graph(size_mb: int, seed: int, prefix: str = "big/test") -> dict[str, object]:
    inputs = {"size_mb": size_mb, "filename_prefix": prefix, "seed": seed}
    return {"1": {"class_type": CLASS_TYPE, "inputs": inputs}}


async def run_to_end(
    sim: SimulatorProcess, http: httpx.AsyncClient, graph: dict[str, object]
) -> str:
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id: str = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
        messages = await collect_until_end(socket, prompt_id)
    assert "execution_success" in [message["type"] for message in messages]
    return prompt_id


async def test_listed_in_object_info_as_an_output_node(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    everything = (await http.get("/object_info")).json()
    assert CLASS_TYPE in everything
    info = (await http.get(f"/object_info/{CLASS_TYPE}")).json()[CLASS_TYPE]
    assert info["output_node"] is True
    required = info["input"]["required"]
    assert required["size_mb"] == ["INT", {"default": 1, "min": 1, "max": 4096, "step": 1}]
    assert required["filename_prefix"][0] == "STRING"
    assert required["seed"][0] == "INT"


async def test_writes_a_file_of_exactly_size_mb_mib(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    prompt_id = await run_to_end(sim, http, large_file_graph(3, seed=7))
    history = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    files = history["outputs"]["1"]["files"]
    assert files == [{"filename": "test_00001_.bin", "subfolder": "big", "type": "output"}]
    view = await http.get("/view", params=files[0])
    assert view.status_code == 200
    assert len(view.content) == 3 * MIB
    on_disk = sim.data_dir / "output" / "big" / "test_00001_.bin"
    assert hashlib.sha256(on_disk.read_bytes()).digest() == hashlib.sha256(view.content).digest()
    first, second = view.content[:MIB], view.content[MIB : 2 * MIB]
    assert first != second


async def test_seeds_make_different_files(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    one = await run_to_end(sim, http, large_file_graph(1, seed=1, prefix="s"))
    two = await run_to_end(sim, http, large_file_graph(1, seed=2, prefix="s"))
    bodies = []
    for prompt_id in (one, two):
        entry = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]["outputs"]["1"]
        bodies.append((await http.get("/view", params=entry["files"][0])).content)
    assert len(bodies[0]) == len(bodies[1]) == MIB
    assert bodies[0] != bodies[1]


async def test_size_above_the_maximum_is_refused(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    answer = await http.post("/prompt", json={"prompt": large_file_graph(4097, seed=0)})
    assert answer.status_code == 400
    errors = answer.json()["node_errors"]["1"]["errors"]
    assert errors[0]["type"] == "value_bigger_than_max"
