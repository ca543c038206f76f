"""Execution over real sockets: message order, caching, routing, errors, queue order."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
from PIL import Image

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
)

NODE_LIFECYCLE = ["progress_state", "executing", "progress_state"]


async def test_normal_run_sends_the_captured_sequence(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    socket = await open_socket(sim.url, client_id)
    async with socket:
        accepted = await post_prompt(http, three_node_graph("seq"), client_id=client_id)
        prompt_id = accepted["prompt_id"]
        got = await collect_until_end(socket, prompt_id)
    expected = [
        "status",
        "status",
        "execution_start",
        "execution_cached",
        *NODE_LIFECYCLE,
        *NODE_LIFECYCLE,
        "progress_state",
        "executing",
        "executed",
        "progress_state",
        "execution_success",
        "status",
        "executing",
    ]
    assert types_of(got) == expected
    assert [m["data"]["status"]["exec_info"]["queue_remaining"] for m in got[:2]] == [1, 1]
    executing = [m["data"]["node"] for m in got if m["type"] == "executing"]
    assert executing == ["1", "2", "3", None]
    executed = got[types_of(got).index("executed")]["data"]
    assert executed["output"] == {
        "images": [{"filename": "seq_00001_.png", "subfolder": "", "type": "output"}]
    }
    final_state = got[types_of(got).index("execution_success") - 1]["data"]["nodes"]
    assert {node: state["state"] for node, state in final_state.items()} == {
        "1": "finished",
        "2": "finished",
        "3": "finished",
    }
    history = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert history["status"]["status_str"] == "success"
    assert [event for event, _ in history["status"]["messages"]] == [
        "execution_start",
        "execution_cached",
        "execution_success",
    ]
    assert history["outputs"] == {"3": executed["output"]}
    assert history["prompt"][4] == ["3"]


async def test_identical_rerun_is_fully_cached_and_replays_outputs(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        first = await post_prompt(http, three_node_graph("cache"), client_id=client_id)
        first_messages = await collect_until_end(socket, first["prompt_id"])
        second = await post_prompt(http, three_node_graph("cache"), client_id=client_id)
        got = await collect_until_end(socket, second["prompt_id"])
    assert types_of(got) == [
        "status",
        "status",
        "execution_start",
        "execution_cached",
        "executed",
        "progress_state",
        "execution_success",
        "status",
        "executing",
    ]
    assert got[3]["data"]["nodes"] == ["1", "2", "3"]
    first_output = next(m for m in first_messages if m["type"] == "executed")["data"]["output"]
    assert got[4]["data"]["output"] == first_output
    assert got[5]["data"]["nodes"]["3"]["value"] == 1
    history = (await http.get(f"/history/{second['prompt_id']}")).json()[second["prompt_id"]]
    assert history["outputs"] == {"3": first_output}


async def test_changed_output_node_reruns_only_that_node(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        first = await post_prompt(http, three_node_graph("b2a"), client_id=client_id)
        await collect_until_end(socket, first["prompt_id"])
        second = await post_prompt(http, three_node_graph("b2b"), client_id=client_id)
        got = await collect_until_end(socket, second["prompt_id"])
    assert got[3]["data"]["nodes"] == ["1", "2"]
    assert [m["data"]["node"] for m in got if m["type"] == "executing"] == ["3", None]
    executed = next(m for m in got if m["type"] == "executed")["data"]["output"]
    assert executed["images"][0]["filename"] == "b2b_00001_.png"


async def test_vae_loader_runs_first_as_comfyui_orders_it(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 5},
        },
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}},
        "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
        "4": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["2", 0]}},
        "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "v"}},
    }
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        accepted = await post_prompt(http, graph, client_id=client_id)
        got = await collect_until_end(socket, accepted["prompt_id"])
    order = [m["data"]["node"] for m in got if m["type"] == "executing"]
    assert order == ["2", "1", "3", "4", "5", None]


async def test_messages_reach_only_the_prompts_client(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    submitter_id, observer_id = new_client_id(), new_client_id()
    async with (
        await open_socket(sim.url, submitter_id) as submitter,
        await open_socket(sim.url, observer_id) as observer,
    ):
        accepted = await post_prompt(http, three_node_graph("route"), client_id=submitter_id)
        await collect_until_end(submitter, accepted["prompt_id"])
        # the observer's socket then carries nothing but the three broadcast statuses
        seen = [await recv_json(observer) for _ in range(3)]
        assert types_of(seen) == ["status", "status", "status"]
        assert seen[-1]["data"]["status"]["exec_info"]["queue_remaining"] == 0
        follow_up = await post_prompt(http, three_node_graph("route2"), client_id=observer_id)
        next_message = await recv_json(observer)
    assert next_message["type"] == "status"  # not an execution message of the first prompt
    assert follow_up["prompt_id"] != accepted["prompt_id"]


async def test_progress_is_broadcast_when_prompt_has_no_client(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    async with await open_socket(sim.url, new_client_id()) as observer:
        await post_prompt(http, three_node_graph("anon"))
        seen = []
        while True:
            message = await recv_json(observer)
            seen.append(message)
            if (
                message["type"] == "status"
                and message["data"]["status"]["exec_info"]["queue_remaining"] == 0
            ):
                break
    assert set(types_of(seen)) == {"status", "progress_state"}
    assert types_of(seen).count("progress_state") == 6


async def test_node_failure_reports_execution_error(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    (await add_fault(http, kind="fail", class_type="ImageInvert", exception_type="RuntimeError",
              message="boom"))  # fmt: skip
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        accepted = await post_prompt(http, three_node_graph("err"), client_id=client_id)
        got = await collect_until_end(socket, accepted["prompt_id"])
    assert types_of(got)[-3:] == ["execution_error", "status", "executing"]
    error = got[-3]["data"]
    assert error["node_id"] == "2"
    assert error["node_type"] == "ImageInvert"
    assert error["executed"] == ["1"]
    assert error["exception_type"] == "RuntimeError"
    assert error["exception_message"] == "boom\n"
    assert isinstance(error["traceback"], list)
    assert list(error["current_inputs"]) == ["image"]
    assert error["current_outputs"] == ["1", "2", "3"]
    history = (await http.get(f"/history/{accepted['prompt_id']}")).json()[accepted["prompt_id"]]
    assert history["status"]["status_str"] == "error"
    assert history["status"]["completed"] is False
    assert history["outputs"] == {}


async def test_front_prompt_runs_before_earlier_pending_ones(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    await add_fault(http, kind="hang", class_type="EmptyImage")
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        blocker = await post_prompt(http, three_node_graph("block"), client_id=client_id)
        await wait_for(socket, "executing", node="1", prompt_id=blocker["prompt_id"])
        later = await post_prompt(http, three_node_graph("later", color=1), client_id=client_id)
        front = (await post_prompt(http, three_node_graph("front", color=2), client_id=client_id,
                            front=True))  # fmt: skip
        assert front["number"] < 0
        queue = (await http.get("/queue")).json()
        assert [item[1] for item in queue["queue_running"]] == [blocker["prompt_id"]]
        assert [item[1] for item in queue["queue_pending"]] == [
            front["prompt_id"],
            later["prompt_id"],
        ]
        await http.post("/interrupt")
        starts = [blocker["prompt_id"]]  # its execution_start preceded `executing 1`
        while len(starts) < 3:
            message = await recv_json(socket)
            if message["type"] == "execution_start":
                starts.append(message["data"]["prompt_id"])
    assert starts == [blocker["prompt_id"], front["prompt_id"], later["prompt_id"]]


async def test_wan_image_to_video_example_runs_with_its_models_installed(
    sim: SimulatorProcess, http: httpx.AsyncClient, shared_comfyui_dir: Path
) -> None:
    graph = json.loads((shared_comfyui_dir / "wan22_i2v_api_example.json").read_text())
    wanted: dict[str, list[str]] = {
        "unet_name": [],
        "lora_name": [],
        "clip_name": [],
        "vae_name": [],
    }
    for node in graph.values():
        for name, names in wanted.items():
            if name in node["inputs"]:
                names.append(node["inputs"][name])
    await configure(
        http,
        step_seconds=0.001,
        models={
            "diffusion_models": wanted["unet_name"],
            "loras": wanted["lora_name"],
            "text_encoders": wanted["clip_name"],
            "vae": wanted["vae_name"],
        },
    )
    image = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(image, format="PNG")
    await http.post("/upload/image", files={"image": ("input.png", image.getvalue())})
    client_id = new_client_id()
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
        got = await collect_until_end(socket, prompt_id)
    sampler_progress = {m["data"]["node"] for m in got if m["type"] == "progress"}
    assert sampler_progress == {"57", "58"}  # the two KSamplerAdvanced experts
    executed = next(m for m in got if m["type"] == "executed")["data"]
    assert executed["node"] == "61"
    assert executed["output"]["animated"] == [True]
    video = executed["output"]["images"][0]
    assert video["subfolder"] == "video"
    response = await http.get("/view", params=video)
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"
