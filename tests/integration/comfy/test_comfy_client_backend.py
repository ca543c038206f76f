"""The client against a ComfyUI backend (the simulator, or a real one at $COMFYUI_URL)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.comfy import (
    BackendConnection,
    ComfyHttpClient,
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionError,
    ExecutionStart,
    ExecutionSuccess,
    FeatureFlags,
    Progress,
    ProgressState,
    PromptFailed,
    PromptSucceeded,
    Status,
    run_prompt,
)
from comfy_gateway.errors import ComfyUnavailable, PromptValidationError

Graph = dict[str, Any]
GraphFactory = Callable[..., Graph]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def test_backend_description_and_node_definitions(http: ComfyHttpClient) -> None:
    stats = await http.system_stats()
    assert "comfyui_version" in stats["system"]
    features = await http.features()
    assert features["max_upload_size"] > 0
    definitions = await http.object_info()
    load_image = definitions["LoadImage"].inputs["image"]
    assert load_image.is_combo
    assert load_image.upload_kind == "image"
    create_video = definitions["CreateVideo"]
    assert create_video.inputs["audio"].section == "optional"
    assert await http.object_info("DoesNotExist") == {}
    (only,) = (await http.object_info("EmptyImage")).values()
    assert only.inputs["width"].max == 16384


async def test_a_run_yields_every_message_in_order_and_its_outputs(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory
) -> None:
    seen: list[Event] = []
    connection.add_listener(seen.append)
    run = run_prompt(http, connection, invert_graph(prefix=unique("run")), timeout=30)
    events = [event async for event in run]

    kinds = [type(event) for event in events]
    assert kinds[0] is ExecutionStart
    assert kinds[1] is ExecutionCached
    assert kinds.index(ExecutionSuccess) < len(kinds) - 1
    assert events[-1] == Executing(node=None, prompt_id=run.prompt_id)
    started = [event.node for event in events if isinstance(event, Executing) and event.node]
    assert started == ["1", "2", "3"]
    assert any(isinstance(event, ProgressState) for event in events)
    assert run.queued is not None
    assert run.queued.prompt_id == run.prompt_id
    assert any(isinstance(event, Status) for event in seen)

    result = run.result
    assert isinstance(result, PromptSucceeded)
    image = result.outputs["3"]["images"][0]
    assert image["type"] == "output"
    data = await http.read_file(image["filename"], image["subfolder"], image["type"])
    assert data.startswith(PNG_SIGNATURE)


async def test_a_cached_rerun_reports_the_same_files(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory
) -> None:
    graph = invert_graph(prefix=unique("cache"))
    first = await run_prompt(http, connection, graph, timeout=30).wait()
    run = run_prompt(http, connection, graph, timeout=30)
    events = [event async for event in run]
    cached = next(event for event in events if isinstance(event, ExecutionCached))
    assert set(cached.nodes) == {"1", "2", "3"}
    assert any(isinstance(event, Executed) for event in events)
    assert isinstance(first, PromptSucceeded)
    assert isinstance(run.result, PromptSucceeded)
    assert run.result.outputs == first.outputs


def _graph_with(invert_graph: GraphFactory, node: str, change: dict[str, Any]) -> Graph:
    graph = invert_graph(prefix=unique("bad"))
    graph[node] = {**graph[node], **change}
    return graph


BAD_GRAPHS: dict[str, tuple[Callable[[GraphFactory], Graph], str, str | None]] = {
    "unknown class": (
        lambda g: _graph_with(g, "2", {"class_type": "NoSuchNode"}),
        "invalid_prompt",
        None,
    ),
    "missing input": (
        lambda g: _graph_with(g, "2", {"inputs": {}}),
        "prompt_outputs_failed_validation",
        "required_input_missing",
    ),
    "value above max": (
        lambda g: _graph_with(
            g, "1", {"inputs": {"width": 99999, "height": 8, "batch_size": 1, "color": 0}}
        ),
        "prompt_outputs_failed_validation",
        "value_bigger_than_max",
    ),
    "bad link": (
        lambda g: _graph_with(g, "2", {"inputs": {"image": ["99", 0]}}),
        "prompt_outputs_failed_validation",
        "exception_during_inner_validation",
    ),
    "slot out of range": (
        lambda g: _graph_with(g, "2", {"inputs": {"image": ["1", 5]}}),
        "prompt_outputs_failed_validation",
        "exception_during_inner_validation",
    ),
    "link of length 1": (
        lambda g: _graph_with(g, "2", {"inputs": {"image": ["1"]}}),
        "prompt_outputs_failed_validation",
        "bad_linked_input",
    ),
    "link type mismatch": (
        lambda g: _graph_with(
            g,
            "1",
            {
                "class_type": "EmptyLatentImage",
                "inputs": {"width": 64, "height": 64, "batch_size": 1},
            },
        ),
        "prompt_outputs_failed_validation",
        "return_type_mismatch",
    ),
    "value below min": (
        lambda g: _graph_with(
            g, "1", {"inputs": {"width": 0, "height": 8, "batch_size": 1, "color": 0}}
        ),
        "prompt_outputs_failed_validation",
        "value_smaller_than_min",
    ),
    "non-numeric int": (
        lambda g: _graph_with(
            g, "1", {"inputs": {"width": "wide", "height": 8, "batch_size": 1, "color": 0}}
        ),
        "prompt_outputs_failed_validation",
        "invalid_input_type",
    ),
    "image not uploaded": (
        lambda g: _graph_with(
            g, "1", {"class_type": "LoadImage", "inputs": {"image": "never-uploaded.png"}}
        ),
        "prompt_outputs_failed_validation",
        "custom_validation_failed",
    ),
    "no output": (
        lambda g: {key: value for key, value in g().items() if key != "3"},
        "prompt_no_outputs",
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
async def test_validation_errors_surface_with_node_errors(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory, case: str
) -> None:
    build, error_type, node_error_type = BAD_GRAPHS[case]
    with pytest.raises(PromptValidationError) as caught:
        await run_prompt(http, connection, build(invert_graph), timeout=30).wait()
    assert caught.value.error_type == error_type
    if node_error_type is None:
        assert caught.value.node_errors == {}
    else:
        kinds = {
            error["type"]
            for entry in caught.value.node_errors.values()
            for error in entry["errors"]
        }
        assert node_error_type in kinds
    assert connection._feeds == {}


async def test_combo_value_not_in_list(
    http: ComfyHttpClient, connection: BackendConnection
) -> None:
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
        },
        "2": {
            "class_type": "ImageScale",
            "inputs": {
                "image": ["1", 0],
                "upscale_method": "bogus",
                "width": 8,
                "height": 8,
                "crop": "disabled",
            },
        },
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
    }
    with pytest.raises(PromptValidationError) as caught:
        await http.queue_prompt(graph, client_id=connection.client_id)
    (entry,) = caught.value.node_errors.values()
    assert entry["errors"][0]["type"] == "value_not_in_list"
    assert entry["class_type"] == "ImageScale"


async def test_upload_renames_a_different_file_with_the_same_name(
    http: ComfyHttpClient, tmp_path: Path
) -> None:
    name = unique("up") + ".png"
    first_file = tmp_path / "first.png"
    first_file.write_bytes(PNG_SIGNATURE + b"first")

    async def other_bytes() -> Any:
        yield PNG_SIGNATURE
        yield b"second"

    first = await http.upload(first_file, filename=name)
    again = await http.upload(first_file, filename=name)
    renamed = await http.upload(other_bytes(), filename=name)
    stem = name.removesuffix(".png")
    assert (first.name, again.name, renamed.name) == (name, name, f"{stem} (1).png")
    assert await http.read_file(renamed.name, "", "input") == PNG_SIGNATURE + b"second"
    choices = (await http.object_info("LoadImage"))["LoadImage"].inputs["image"].choices
    assert choices is not None
    assert name in choices
    assert renamed.name in choices


async def test_an_execution_error_from_a_corrupt_upload(
    http: ComfyHttpClient, connection: BackendConnection
) -> None:
    async def garbage() -> Any:
        yield b"this is not an image"

    stored = await http.upload(garbage(), filename=unique("corrupt") + ".png")
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": stored.reference}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "err"}},
    }
    run = run_prompt(http, connection, graph, timeout=30)
    events = [event async for event in run]
    assert any(isinstance(event, ExecutionError) for event in events)
    assert isinstance(run.result, PromptFailed)
    assert (run.result.node_id, run.result.node_type) == ("1", "LoadImage")
    assert run.result.exception_type
    entry = await http.history(run.prompt_id)
    assert entry is not None
    assert entry.status_str == "error"


async def test_progress_from_a_tiled_vae_decode(
    http: ComfyHttpClient, connection: BackendConnection
) -> None:
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 256, "height": 256, "batch_size": 1, "color": 0},
        },
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}},
        "3": {"class_type": "VAEEncode", "inputs": {"pixels": ["1", 0], "vae": ["2", 0]}},
        "4": {
            "class_type": "VAEDecodeTiled",
            "inputs": {
                "samples": ["3", 0],
                "vae": ["2", 0],
                "tile_size": 128,
                "overlap": 0,
                "temporal_size": 64,
                "temporal_overlap": 8,
            },
        },
        "5": {
            "class_type": "SaveImage",
            "inputs": {"images": ["4", 0], "filename_prefix": unique("vae")},
        },
    }
    run = run_prompt(http, connection, graph, timeout=60)
    events = [event async for event in run]
    progress = [event for event in events if isinstance(event, Progress)]
    assert progress
    assert {event.node for event in progress} == {"4"}
    assert [event.value for event in progress] == sorted(event.value for event in progress)
    assert isinstance(run.result, PromptSucceeded)


async def test_history_and_queue_routes(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory
) -> None:
    result = await run_prompt(
        http, connection, invert_graph(prefix=unique("hist")), timeout=30
    ).wait()
    entry = await http.history(result.prompt_id)
    assert entry is not None
    assert entry.status_str == "success"
    assert entry.outputs == result.outputs
    newest = await http.history_all(max_items=1)
    assert list(newest) == [result.prompt_id]
    await http.delete_history([result.prompt_id])
    assert await http.history(result.prompt_id) is None
    snapshot = await http.queue()
    assert snapshot.state_of(result.prompt_id) is None
    await http.clear_queue()
    await http.free(unload_models=True, free_memory=True)


async def test_following_a_finished_prompt_replays_it_from_history(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory
) -> None:
    first = await run_prompt(
        http, connection, invert_graph(prefix=unique("late")), timeout=30
    ).wait()
    events = [event async for event in connection.follow(first.prompt_id, timeout=10)]
    assert events[-1] == Executing(node=None, prompt_id=first.prompt_id)
    assert any(isinstance(event, ExecutionSuccess) for event in events)
    outputs = {event.node: event.output for event in events if isinstance(event, Executed)}
    assert isinstance(first, PromptSucceeded)
    assert outputs == first.outputs


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_backend_that_is_down_is_unavailable_quickly() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    async with ComfyHttpClient(url) as client:
        with pytest.raises(ComfyUnavailable, match="refused the connection"):
            await client.system_stats()
        with pytest.raises(ComfyUnavailable):
            await BackendConnection(client).start()
    assert time.monotonic() - started < 5


async def test_two_prompts_in_flight_are_kept_apart(
    http: ComfyHttpClient, connection: BackendConnection, invert_graph: GraphFactory
) -> None:
    runs = [
        run_prompt(http, connection, invert_graph(prefix=unique(f"pair{index}"), color=index))
        for index in range(2)
    ]
    results = await asyncio.wait_for(asyncio.gather(*(run.wait() for run in runs)), 60)
    for run, result in zip(runs, results, strict=True):
        assert isinstance(result, PromptSucceeded)
        assert result.prompt_id == run.prompt_id
    names = [result.outputs["3"]["images"][0]["filename"] for result in results]
    assert names[0] != names[1]


async def test_the_socket_announces_preview_metadata_and_gets_feature_flags(
    http: ComfyHttpClient,
) -> None:
    arrived = asyncio.Event()
    seen: list[Event] = []

    def listen(event: Event) -> None:
        seen.append(event)
        if isinstance(event, FeatureFlags):
            arrived.set()

    connection = BackendConnection(http)
    connection.add_listener(listen)
    async with connection:
        await asyncio.wait_for(arrived.wait(), 10)
    first_status = next(event for event in seen if isinstance(event, Status))
    assert first_status.sid == connection.client_id
    flags = next(event for event in seen if isinstance(event, FeatureFlags))
    assert flags.flags["supports_preview_metadata"] is True


async def test_a_second_socket_for_the_same_backend_is_refused(
    http: ComfyHttpClient, connection: BackendConnection
) -> None:
    with pytest.raises(RuntimeError, match="already open"):
        await BackendConnection(http).start()
    assert connection.connected
