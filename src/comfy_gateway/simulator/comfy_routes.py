"""ComfyUI 0.3.64's HTTP routes (protocol.md), each also mounted under /api by app.py."""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfy_gateway.simulator import http_files
from comfy_gateway.simulator.prompt_queue import QueueItem
from comfy_gateway.simulator.responses import (
    empty_response,
    internal_error,
    json_response,
    text_response,
)
from comfy_gateway.simulator.state import Simulator
from comfy_gateway.simulator.validation import (
    PromptAccepted,
    PromptBodyUnparseable,
    PromptRejected,
    check_prompt_request,
)

COMFYUI_VERSION = "0.3.64"
FRONTEND_VERSION = "1.27.10"
TEMPLATES_VERSION = "0.1.95"
MODEL_FOLDERS = (
    "checkpoints", "configs", "loras", "vae", "text_encoders", "diffusion_models",
    "clip_vision", "style_models", "embeddings", "diffusers", "vae_approx", "controlnet",
    "gligen", "upscale_models", "latent_upscale_models", "hypernetworks", "photomaker",
    "classifiers", "model_patches", "audio_encoders",
)  # fmt: skip


def simulator_of(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


async def json_body(request: Request) -> Any:
    """The parsed body; raises ValueError like aiohttp's `request.json()` does."""
    return json.loads(await request.body())


# -- server info --------------------------------------------------------------------


def _memory_bytes() -> tuple[int, int]:
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page
    except (ValueError, OSError, AttributeError):
        return 0, 0


async def system_stats(request: Request) -> Response:
    total, free = _memory_bytes()
    host, port = request.url.hostname or "127.0.0.1", request.url.port or 8188
    system = {
        "os": os.name,
        "ram_total": total,
        "ram_free": free,
        "comfyui_version": COMFYUI_VERSION,
        "required_frontend_version": FRONTEND_VERSION,
        "installed_templates_version": TEMPLATES_VERSION,
        "required_templates_version": TEMPLATES_VERSION,
        "python_version": sys.version,
        "pytorch_version": "simulated",
        "embedded_python": False,
        # what the real server echoes: its own command line, here the equivalent one
        "argv": ["main.py", "--cpu", "--listen", host, "--port", str(port)],
    }
    device = {
        "name": "cpu",
        "type": "cpu",
        "index": None,
        "vram_total": total,
        "vram_free": free,
        "torch_vram_total": total,
        "torch_vram_free": free,
    }
    return json_response({"system": system, "devices": [device]})


async def features(request: Request) -> Response:
    max_size = simulator_of(request).settings.max_upload_size
    return json_response({"supports_preview_metadata": True, "max_upload_size": max_size})


async def embeddings(request: Request) -> Response:
    return json_response([])


async def model_folders(request: Request) -> Response:
    installed = simulator_of(request).catalogue.model_files()
    return json_response(list(dict.fromkeys([*MODEL_FOLDERS, *installed])))


async def models_in_folder(request: Request) -> Response:
    folder = request.path_params["folder"]
    installed = simulator_of(request).catalogue.model_files()
    if folder not in installed and folder not in MODEL_FOLDERS:
        return empty_response(404)
    return json_response(installed.get(folder, []))


async def object_info(request: Request) -> Response:
    return json_response(simulator_of(request).catalogue.object_info())


async def object_info_of(request: Request) -> Response:
    class_type = request.path_params["node_class"]
    info = simulator_of(request).catalogue.node_info(class_type)
    return json_response({} if info is None else {class_type: info})


# -- queue and prompts --------------------------------------------------------------


async def get_prompt(request: Request) -> Response:
    remaining = simulator_of(request).queue.remaining()
    return json_response({"exec_info": {"queue_remaining": remaining}})


async def get_queue(request: Request) -> Response:
    running, pending = simulator_of(request).queue.snapshot()
    return json_response(
        {
            "queue_running": [item.as_list() for item in running],
            "queue_pending": [item.as_list() for item in pending],
        }
    )


def duplicate_prompt_body(prompt_id: str) -> dict[str, Any]:
    error = {
        "type": "duplicate_prompt_id",
        "message": f"Prompt ID {prompt_id} already exists",
        "details": prompt_id,
        "extra_info": {"prompt_id": prompt_id},
    }
    return {"error": error, "node_errors": {}}


def queue_number(accepted: PromptAccepted, counter: int) -> float:
    """An explicit `number` wins; else the counter, negated for `front` (runs first)."""
    if accepted.number_hint is not None:
        return accepted.number_hint
    return -counter if accepted.front else counter


async def post_prompt(request: Request) -> Response:
    simulator = simulator_of(request)
    result = check_prompt_request(await request.body(), simulator.catalogue)
    if isinstance(result, PromptBodyUnparseable | PromptRejected):
        if result.advances_counter:
            simulator.take_number()
        if isinstance(result, PromptRejected):
            return json_response(result.body, 400)
        return text_response(result.text, 500)
    counter = simulator.take_number() if result.number_hint is None else 0
    prompt_id = result.prompt_id if result.prompt_id is not None else str(uuid.uuid4())
    if simulator.config.reject_duplicate_prompt_ids and simulator.knows_prompt(prompt_id):
        return json_response(duplicate_prompt_body(prompt_id), 409)
    extra_data = dict(result.extra_data)
    if result.client_id is not None:
        extra_data["client_id"] = result.client_id
    item = QueueItem(
        number=queue_number(result, counter),
        prompt_id=prompt_id,
        prompt=result.prompt,
        extra_data=extra_data,
        outputs_to_execute=list(result.outputs_to_execute),
    )
    simulator.queue.put(item)
    body = {"prompt_id": prompt_id, "number": item.number, "node_errors": result.node_errors}
    return json_response(body)


async def post_queue(request: Request) -> Response:
    simulator = simulator_of(request)
    try:
        body = await json_body(request)
    except ValueError:
        return internal_error()
    if isinstance(body, dict):
        if body.get("clear"):
            simulator.queue.clear()
        for prompt_id in body.get("delete", []) or []:
            simulator.queue.delete(str(prompt_id))
    return empty_response()


async def post_interrupt(request: Request) -> Response:
    try:
        body = await json_body(request)
    except ValueError:
        body = {}
    prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
    simulator_of(request).interrupt(str(prompt_id) if prompt_id else None)
    return empty_response()


async def post_free(request: Request) -> Response:
    """Nothing to unload in a simulator; the body must still be JSON, as in ComfyUI."""
    try:
        await json_body(request)
    except ValueError:
        return internal_error()
    return empty_response()


# -- history ------------------------------------------------------------------------


async def get_history(request: Request) -> Response:
    query = request.query_params
    try:
        max_items = int(query["max_items"]) if "max_items" in query else None
        offset = int(query.get("offset", -1))
    except ValueError:
        return internal_error()
    return json_response(simulator_of(request).history.page(max_items, offset))


async def get_history_of(request: Request) -> Response:
    prompt_id = request.path_params["prompt_id"]
    return json_response(simulator_of(request).history.one(prompt_id))


async def post_history(request: Request) -> Response:
    history = simulator_of(request).history
    try:
        body = await json_body(request)
    except ValueError:
        return internal_error()
    if isinstance(body, dict):
        if body.get("clear"):
            history.clear()
        for prompt_id in body.get("delete", []) or []:
            history.delete(str(prompt_id))
    return empty_response()


# -- files --------------------------------------------------------------------------


async def view(request: Request) -> Response:
    return await http_files.view(request, simulator_of(request).settings)


async def upload_image(request: Request) -> Response:
    return await http_files.upload_image(request, simulator_of(request).settings)


async def websocket_without_upgrade(request: Request) -> Response:
    text = 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".'
    return text_response(text, 400)


def comfy_routes() -> list[Route]:
    """Every ComfyUI route (without the /api copies)."""
    return [
        Route("/ws", websocket_without_upgrade, methods=["GET"]),
        Route("/system_stats", system_stats, methods=["GET"]),
        Route("/features", features, methods=["GET"]),
        Route("/embeddings", embeddings, methods=["GET"]),
        Route("/models", model_folders, methods=["GET"]),
        Route("/models/{folder}", models_in_folder, methods=["GET"]),
        Route("/object_info", object_info, methods=["GET"]),
        Route("/object_info/{node_class}", object_info_of, methods=["GET"]),
        Route("/prompt", get_prompt, methods=["GET"]),
        Route("/prompt", post_prompt, methods=["POST"]),
        Route("/queue", get_queue, methods=["GET"]),
        Route("/queue", post_queue, methods=["POST"]),
        Route("/interrupt", post_interrupt, methods=["POST"]),
        Route("/free", post_free, methods=["POST"]),
        Route("/history", get_history, methods=["GET"]),
        Route("/history", post_history, methods=["POST"]),
        Route("/history/{prompt_id}", get_history_of, methods=["GET"]),
        Route("/view", view, methods=["GET"]),
        Route("/upload/image", upload_image, methods=["POST"]),
    ]
