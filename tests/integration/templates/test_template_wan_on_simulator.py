"""Both WAN 2.2 built-ins validate on the simulator and run to a saved video.

The simulator validates ``POST /prompt`` exactly as ComfyUI 0.3.64 does against the
captured node definitions, with the builders' model files installed through
``PUT /_sim/config``; its WAN nodes are simulated, so sizes stay tiny for the CPU.
Media travel as the submit path sends them: uploaded to ``comfy-gateway/`` and wired by
name with the job domain's own ``wire_media``.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import wave
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import av
import httpx
import pytest
import websockets
from PIL import Image

from comfy_gateway.jobs.graph import wire_media
from comfy_gateway.templates import RenderedJob, TemplateRegistry, render
from comfy_gateway.templates.builtin import wan22_i2v, wan22_s2v
from support.simulator_process import SimulatorProcess

RUN_TIMEOUT_S = 60.0
SMALL = {"width": 32, "height": 32, "frames": 5, "fps": 8, "seed": 7, "prompt": "a cat"}


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def wav_bytes(seconds: float = 1.0, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = bytes(
            (i * 37 % 256) if j else 0 for i in range(int(seconds * rate)) for j in (0, 1)
        )
        out.writeframes(samples)
    return buffer.getvalue()


@pytest.fixture
async def http(simulator: SimulatorProcess) -> AsyncIterator[httpx.AsyncClient]:
    simulator.reset()
    async with httpx.AsyncClient(base_url=simulator.url, timeout=30.0) as client:
        yield client


async def install_models(http: httpx.AsyncClient, models: Mapping[str, list[str]]) -> None:
    answer = await http.put("/_sim/config", json={"models": dict(models)})
    answer.raise_for_status()


async def upload(http: httpx.AsyncClient, file_name: str, data: bytes) -> str:
    fields = {"subfolder": "comfy-gateway", "overwrite": "true"}
    answer = await http.post("/upload/image", files={"image": (file_name, data)}, data=fields)
    answer.raise_for_status()
    stored = answer.json()
    return f"{stored['subfolder']}/{stored['name']}"


async def wired_graph(
    http: httpx.AsyncClient, job: RenderedJob, files: Mapping[str, tuple[str, bytes]]
) -> dict[str, Any]:
    refs = {}
    for media in job.media_params:
        file_name, data = files[media.parameter]
        refs[media.media_name] = await upload(http, file_name, data)
    graph, _ = wire_media(job.workflow, refs)
    return graph


async def run_to_end(sim: SimulatorProcess, http: httpx.AsyncClient, graph: dict[str, Any]) -> str:
    client_id = uuid.uuid4().hex
    async with websockets.connect(f"{sim.ws_url}?clientId={client_id}") as socket:
        answer = await http.post("/prompt", json={"prompt": graph, "client_id": client_id})
        assert answer.status_code == 200, answer.text
        assert answer.json()["node_errors"] == {}
        prompt_id = str(answer.json()["prompt_id"])
        await asyncio.wait_for(_until_prompt_ends(socket, prompt_id), RUN_TIMEOUT_S)
    return prompt_id


async def _until_prompt_ends(socket: Any, prompt_id: str) -> None:
    async for raw in socket:
        if not isinstance(raw, str):
            continue  # binary preview frames
        message = json.loads(raw)
        data = message.get("data", {})
        if message["type"] == "execution_error" and data.get("prompt_id") == prompt_id:
            pytest.fail(f"execution failed: {data}")
        ours = data.get("prompt_id") == prompt_id
        if message["type"] == "executing" and ours and data.get("node") is None:
            return


async def saved_video(http: httpx.AsyncClient, prompt_id: str, node: str) -> Any:
    history = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]
    assert history["status"]["status_str"] == "success"
    output = history["outputs"][node]
    assert output["animated"] == [True]
    (entry,) = output["images"]
    assert entry["filename"].endswith(".mp4")
    params = {"filename": entry["filename"], "subfolder": entry["subfolder"], "type": "output"}
    answer = await http.get("/view", params=params)
    assert answer.status_code == 200
    return av.open(io.BytesIO(answer.content))


TemplateCase = tuple[str, Callable[[Mapping[str, Any]], dict[str, list[str]]], str]
CASES: list[TemplateCase] = [
    ("wan22-i2v", wan22_i2v.required_models, "61"),
    ("wan22-s2v", wan22_s2v.required_models, "113"),
]
FILES = {"image": ("start.png", png_bytes()), "audio": ("voice.wav", wav_bytes())}


def rendered(name: str, **params: Any) -> RenderedJob:
    template = TemplateRegistry().get(name)
    raw = {**SMALL, **params, **{p.name: "UE5H" for p in template.parameters if p.type.is_media}}
    return render(template, raw)


@pytest.mark.parametrize("use_lora", [True, False])
@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
async def test_wan_builtin_runs_to_a_video_on_the_simulator(
    simulator: SimulatorProcess, http: httpx.AsyncClient, case: TemplateCase, use_lora: bool
) -> None:
    name, required_models, save_node = case
    job = rendered(name, use_lora=use_lora)
    await install_models(http, required_models(job.resolved_params))
    graph = await wired_graph(http, job, FILES)
    prompt_id = await run_to_end(simulator, http, graph)
    with await saved_video(http, prompt_id, save_node) as container:
        assert len(container.streams.video) == 1
        assert container.streams.video[0].codec_context.width == SMALL["width"]
        assert len(container.streams.audio) == (1 if name == "wan22-s2v" else 0)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
async def test_without_the_model_files_the_simulator_refuses_the_graph(
    http: httpx.AsyncClient, case: TemplateCase
) -> None:
    name, required_models, _ = case
    job = rendered(name)
    models = required_models(job.resolved_params)
    models.pop("diffusion_models")
    await install_models(http, models)
    graph = await wired_graph(http, job, FILES)
    answer = await http.post("/prompt", json={"prompt": graph})
    assert answer.status_code == 400
    errors = answer.json()["node_errors"]
    assert {error["type"] for node in errors.values() for error in node["errors"]} == {
        "value_not_in_list"
    }
    assert "37" in errors
