"""Simulator-only `/_sim/...` routes tests use to steer the fake server (never in ComfyUI)."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from comfy_gateway.simulator.config import ConfigUpdateError, parse_config_update
from comfy_gateway.simulator.faults import FaultSpecError, parse_fault
from comfy_gateway.simulator.responses import json_response
from comfy_gateway.simulator.state import Simulator


def _simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


def _bad_request(message: str) -> Response:
    return json_response({"error": {"code": "bad_request", "message": message}}, 400)


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def config_json(simulator: Simulator) -> dict[str, Any]:
    return {
        **simulator.config.as_json(),
        "models": simulator.catalogue.model_files(),
        "history_max": simulator.settings.history_max,
        "max_upload_size": simulator.settings.max_upload_size,
    }


async def reset(request: Request) -> Response:
    # Waiting for the running prompt to stop blocks, so it must not run on the event loop.
    await run_in_threadpool(_simulator(request).reset)
    return json_response({})


async def executions(request: Request) -> Response:
    return json_response({"executions": _simulator(request).executions.as_json()})


async def get_config(request: Request) -> Response:
    return json_response(config_json(_simulator(request)))


async def put_config(request: Request) -> Response:
    simulator = _simulator(request)
    try:
        update = parse_config_update(await _json(request), simulator.config.durations)
    except (ValueError, ConfigUpdateError) as exc:
        return _bad_request(str(exc))
    simulator.update_config(update)
    return json_response(config_json(simulator))


async def add_fault(request: Request) -> Response:
    try:
        fault = parse_fault(await _json(request))
    except (ValueError, FaultSpecError) as exc:
        return _bad_request(str(exc))
    _simulator(request).faults.add(fault)
    return json_response({"id": fault.id}, 201)


async def clear_faults(request: Request) -> Response:
    _simulator(request).faults.clear()
    return json_response({})


async def drop_websockets(request: Request) -> Response:
    _simulator(request).hub.drop_all()
    return json_response({})


def control_routes() -> list[Route]:
    return [
        Route("/_sim/reset", reset, methods=["POST"]),
        Route("/_sim/executions", executions, methods=["GET"]),
        Route("/_sim/config", get_config, methods=["GET"]),
        Route("/_sim/config", put_config, methods=["PUT"]),
        Route("/_sim/faults", add_fault, methods=["POST"]),
        Route("/_sim/faults", clear_faults, methods=["DELETE"]),
        Route("/_sim/drop-websockets", drop_websockets, methods=["POST"]),
    ]
