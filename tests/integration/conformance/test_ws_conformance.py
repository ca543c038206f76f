"""Replay the captured WebSocket scenarios against the simulator; frames must match.

Each scenario's POST bodies, NOTE actions and expected frames come from the
fixtures extracted from ws_transcript.md. Durations are configured so that
interrupts land where they landed in the capture; only order and shape are
compared, never timing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from support.simulator_process import SimulatorProcess

from .captured import client_id_of, connect_cases, load_scenario, socket_of
from .replay import ScenarioDriver, SocketRecorder, describe, landmark, open_socket
from .transcript_matching import compare_documents, compare_frames, expected_items

# Scenarios with one socket whose NOTE lines the generic driver understands.
SINGLE_SOCKET_SCENARIOS = [
    "a",
    "a2",
    "a3",
    "a4",
    "b",
    "b2",
    "c",
    "c2",
    "d",
    "d2",
    "d3",
    "f1",
    "f2",
    "g",
    "h",
]
# Caching spans prompts: these ran right after the listed ones in the capture.
# (ComfyUI keeps only the previous prompt's outputs: h reused g's VAELoader.)
PRECEDED_BY = {"b": ("a",), "b2": ("a", "b"), "f2": ("f1",), "h": ("g",)}
# ImageScale has no progress hook: it must outlast the interrupt request, as the
# 6144² lanczos resize did on the real server.
SLOW_RESIZE = {"node_seconds_by_class": {"ImageScale": 1.5}}
SCENARIO_CONFIG: dict[str, dict[str, Any]] = {
    "d": SLOW_RESIZE,
    "d2": SLOW_RESIZE,
    "d4": SLOW_RESIZE,
    "e": SLOW_RESIZE,
    "d3": {"step_seconds": 0.002},
}
BASE_CONFIG = {"node_seconds": 0.0, "step_seconds": 0.0, "node_seconds_by_class": {}}
# The capture does not record the corrupt file's bytes, only its name and size.
CORRUPT_FILLER = b"this is not an image file; "


def path_roots(sim: SimulatorProcess) -> list[str]:
    return sorted({str(sim.data_dir), str(sim.data_dir.resolve())}, key=len, reverse=True)


async def configure(http: httpx.AsyncClient, key: str) -> None:
    config = {**BASE_CONFIG, **SCENARIO_CONFIG.get(key, {})}
    response = await http.put("/_sim/config", json=config)
    assert response.status_code == 200, response.text


async def upload_captured_file(http: httpx.AsyncClient, upload: Mapping[str, Any]) -> None:
    content = (CORRUPT_FILLER * (upload["size"] // len(CORRUPT_FILLER) + 1))[: upload["size"]]
    files = {upload["part"]: (upload["filename"], content, "image/png")}
    response = await http.post("/upload/image", files=files, data=upload["fields"])
    assert response.status_code == 200, response.text
    assert response.json() == upload["response"]


async def replay_single_socket(
    sim: SimulatorProcess, http: httpx.AsyncClient, scenario: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], ScenarioDriver]:
    if "upload" in scenario:
        await upload_captured_file(http, scenario["upload"])
    socket = socket_of(scenario)
    driver = ScenarioDriver(http=http, bodies=scenario["prompt_bodies"])
    async with open_socket(f"{sim.ws_url}?clientId={client_id_of(socket)}") as recorder:
        await driver.play(recorder, socket["entries"])
        return list(recorder.items), driver


def assert_frames_match(
    sim: SimulatorProcess, key: str, socket: Mapping[str, Any], frames: list[dict[str, Any]]
) -> None:
    mismatch = compare_frames(expected_items(socket["entries"]), frames, path_roots=path_roots(sim))
    assert mismatch is None, f"scenario {key} ({socket['label']} socket): {mismatch}"


def assert_responses_match(key: str, expected: list[Any], driver: ScenarioDriver) -> None:
    assert len(driver.prompt_responses) == len(expected)
    for want, got in zip(expected, driver.prompt_responses, strict=True):
        assert got.status_code == want["status"], got.text
        mismatch = compare_documents(want["body"], got.json())
        assert mismatch is None, f"scenario {key} POST /prompt response: {mismatch}"


@pytest.mark.parametrize("key", SINGLE_SOCKET_SCENARIOS)
async def test_scenario_frames_match_the_capture(
    key: str, clean_simulator: SimulatorProcess, sim_http: httpx.AsyncClient
) -> None:
    await configure(sim_http, key)
    for earlier in PRECEDED_BY.get(key, ()):
        await replay_single_socket(clean_simulator, sim_http, load_scenario(earlier))
    scenario = load_scenario(key)
    frames, driver = await replay_single_socket(clean_simulator, sim_http, scenario)
    assert_responses_match(key, scenario["prompt_responses"], driver)
    assert_frames_match(clean_simulator, key, socket_of(scenario), frames)


def d4_prompt_body(d4: Mapping[str, Any]) -> dict[str, Any]:
    """d4 posted "long graph (as in d, color N)" with the first socket's client id."""
    description = d4["prompt_body_descriptions"][0]
    color = re.search(r"color (\d+)", description)
    assert color is not None, description
    body: dict[str, Any] = copy.deepcopy(load_scenario("d")["prompt_bodies"][0])
    body["prompt"]["1"]["inputs"]["color"] = int(color.group(1))
    body["client_id"] = client_id_of(socket_of(d4, "first"))
    return body


async def test_d4_reconnect_replaces_the_socket(
    clean_simulator: SimulatorProcess, sim_http: httpx.AsyncClient
) -> None:
    await configure(sim_http, "d4")
    scenario = load_scenario("d4")
    first, second = socket_of(scenario, "first"), socket_of(scenario, "second")
    url = f"{clean_simulator.ws_url}?clientId={client_id_of(first)}"
    driver = ScenarioDriver(http=sim_http, bodies=[d4_prompt_body(scenario)])
    async with AsyncExitStack() as stack:
        reconnected: list[SocketRecorder] = []

        async def connect_second() -> None:
            reconnected.append(await stack.enter_async_context(open_socket(url)))

        driver.extra_actions["second socket connected with the same clientId"] = connect_second
        first_recorder = await stack.enter_async_context(open_socket(url))
        await driver.play(first_recorder, first["entries"])
        await driver.play(reconnected[0], second["entries"])
        first_frames, second_frames = list(first_recorder.items), list(reconnected[0].items)
    assert_responses_match("d4", scenario["prompt_responses"], driver)
    assert_frames_match(clean_simulator, "d4", first, first_frames)
    assert_frames_match(clean_simulator, "d4", second, second_frames)


async def test_i_other_clients_see_only_status(
    clean_simulator: SimulatorProcess, sim_http: httpx.AsyncClient
) -> None:
    scenario = load_scenario("i")
    submitter, observer = socket_of(scenario, "submitter"), socket_of(scenario, "observer")
    driver = ScenarioDriver(http=sim_http, bodies=scenario["prompt_bodies"])
    base = clean_simulator.ws_url
    async with (
        open_socket(f"{base}?clientId={client_id_of(observer)}") as watching,
        open_socket(f"{base}?clientId={client_id_of(submitter)}") as submitting,
    ):
        await watching.wait_for(lambda _: True, start=0, what="observer's first status")
        await driver.play(submitting, submitter["entries"])
        last = [e["frame"] for e in observer["entries"] if e["kind"] == "frame"][-1]
        await watching.wait_for(landmark(last), start=1, what=describe(last))
        observed, submitted = list(watching.items), list(submitting.items)
    assert_frames_match(clean_simulator, "i", submitter, submitted)
    assert_frames_match(clean_simulator, "i", observer, observed)


@pytest.mark.parametrize("case_id", sorted(connect_cases()))
async def test_connect_frames_match_the_capture(
    case_id: str, clean_simulator: SimulatorProcess
) -> None:
    case = connect_cases()[case_id]
    expected = [e["frame"] for e in case["entries"] if e["kind"] == "frame"]
    url = f"{clean_simulator.ws_url}?clientId={expected[0]['data']['sid']}"
    if "without clientid" in case["title"].lower():
        url = clean_simulator.ws_url
    elif "/api/ws" in case["title"]:
        url = url.replace("/ws?", "/api/ws?")
    async with open_socket(url) as recorder:
        for entry in case["entries"]:
            if entry["kind"] == "sent":
                await recorder.send_json(entry["frame"])
        await recorder.wait_for(
            lambda _: len(recorder.items) >= len(expected), start=0, what=f"{len(expected)} frames"
        )
        frames = list(recorder.items)
    mismatch = compare_frames(expected_items(case["entries"]), frames)
    assert mismatch is None, f"connect case {case_id!r}: {mismatch}"


def queued_bodies(scenario: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Scenario (e)'s POST bodies, rebuilt from the GET /queue snapshot taken during it."""
    snapshot = scenario["queue_snapshot"]
    items = {item[1]: item for item in snapshot["queue_running"] + snapshot["queue_pending"]}
    bodies = {}
    for name, prompt_id in scenario["named_prompt_ids"].items():
        number, _, prompt, extra_data, _ = items[prompt_id]
        body = {"prompt": prompt, "client_id": extra_data["client_id"]}
        if number < 0:  # only `front: true` gives a negative number
            body["front"] = True
        bodies[name] = body
    return bodies


async def test_e_queue_delete_clear_and_interrupt(
    clean_simulator: SimulatorProcess, sim_http: httpx.AsyncClient
) -> None:
    await configure(sim_http, "e")
    scenario = load_scenario("e")
    bodies = queued_bodies(scenario)
    driver = ScenarioDriver(http=sim_http, bodies=[])
    posted: dict[str, str] = {}

    async def post(*names: str) -> None:
        for name in names:
            response = await sim_http.post("/prompt", json=bodies[name])
            assert response.status_code == 200, response.text
            posted[name] = response.json()["prompt_id"]

    async def change_queue(change: dict[str, Any]) -> None:
        response = await sim_http.post("/queue", json=change)
        assert response.status_code == 200, response.text

    driver.extra_actions.update(
        {
            "POST /prompt long L1": lambda: post("L1"),
            "POST /prompt P2, P3, P4 (pending)": lambda: post("P2", "P3", "P4"),
            "POST /queue {delete:[P2]}": lambda: change_queue({"delete": [posted["P2"]]}),
            "POST /queue {delete:[running L1 id]} (not pending -> no effect)": lambda: change_queue(
                {"delete": [posted["L1"]]}
            ),
            "POST /queue {clear:true}": lambda: change_queue({"clear": True}),
        }
    )
    socket = socket_of(scenario)
    async with open_socket(f"{clean_simulator.ws_url}?clientId={client_id_of(socket)}") as rec:
        await driver.play(rec, socket["entries"])
        frames = list(rec.items)
    assert_frames_match(clean_simulator, "e", socket, frames)
    executions = (await sim_http.get("/_sim/executions")).json()["executions"]
    assert [e["prompt_id"] for e in executions] == [posted["L1"]]
