"""Routing of socket events to followers, and resynchronisation, without a socket."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from comfy_gateway.comfy.connection import BackendConnection
from comfy_gateway.comfy.events import (
    Event,
    Executed,
    Executing,
    ExecutionStart,
    ExecutionSuccess,
    PreviewImage,
    Progress,
    Status,
)
from comfy_gateway.comfy.http_client import ComfyHttpClient
from comfy_gateway.comfy.prompt_feed import PromptFeed
from comfy_gateway.errors import ComfySocketClosed, ComfyTimeout, PromptNotFound

PID = "p-1"


def backend(queue: dict[str, Any], history: dict[str, Any]) -> BackendConnection:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/queue":
            return httpx.Response(200, json=queue)
        prompt_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(
            200, json={prompt_id: history[prompt_id]} if prompt_id in history else {}
        )

    http = ComfyHttpClient("http://comfy.test", transport=httpx.MockTransport(handler))
    return BackendConnection(http, client_id="cgw-test")


def queue_item(prompt_id: str) -> list[Any]:
    return [3, prompt_id, {}, {"client_id": "cgw-test"}, ["9"]]


def history_entry(status: str, messages: list[Any], outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt": [],
        "outputs": outputs,
        "status": {"status_str": status, "completed": True, "messages": messages},
        "meta": {},
    }


async def collect(feed: PromptFeed) -> list[Event]:
    return [event async for event in feed]


IMAGES = {"images": [{"filename": "x.png", "subfolder": "", "type": "output"}]}
SUCCESS_HISTORY = history_entry(
    "success",
    [["execution_start", {"prompt_id": PID}], ["execution_success", {"prompt_id": PID}]],
    {"9": IMAGES},
)


async def test_events_go_to_the_follower_of_their_prompt_only() -> None:
    connection = backend({}, {})
    mine = connection.follow(PID, check_backend=False)
    theirs = connection.follow("other", check_backend=False)
    sent: list[Event] = [
        Status(queue_remaining=1),
        Executing(node="1", prompt_id="other", display_node="1"),
        Executing(node="1", prompt_id=PID, display_node="1"),
        Progress(prompt_id=PID, node="1", value=1, max=2),
        ExecutionSuccess(prompt_id=PID),
        Executing(node=None, prompt_id=PID),
    ]
    for event in sent:
        connection.dispatch(event)
    events = await collect(mine)
    assert [type(event) for event in events] == [Executing, Progress, ExecutionSuccess, Executing]
    assert theirs.prompt_id == "other"
    theirs.close()
    assert connection._feeds == {}


async def test_reconnect_executing_and_legacy_previews_get_the_running_prompt() -> None:
    connection = backend({"queue_running": [queue_item(PID)], "queue_pending": []}, {})
    feed = connection.follow(PID, check_backend=False)
    await connection._resync_all()
    connection.dispatch(Executing(node="2"))
    connection.dispatch(PreviewImage(image_format="PNG", image=b"png"))
    connection.dispatch(Executing(node=None, prompt_id=PID))
    events = await collect(feed)
    assert events[0] == Executing(node="2", prompt_id=PID, display_node="2")
    assert isinstance(events[1], PreviewImage)
    assert events[1].prompt_id == PID


async def test_resync_of_a_finished_prompt_replays_its_history() -> None:
    connection = backend({"queue_running": [], "queue_pending": []}, {PID: SUCCESS_HISTORY})
    feed = connection.follow(PID)
    events = await collect(feed)
    assert Executed(prompt_id=PID, node="9", output=IMAGES, display_node="9") in events
    assert ExecutionSuccess(prompt_id=PID) in events
    assert events[-1] == Executing(node=None, prompt_id=PID)


async def test_resync_of_a_vanished_prompt_fails_the_follower() -> None:
    connection = backend({"queue_running": [], "queue_pending": []}, {})
    with pytest.raises(PromptNotFound) as caught:
        await collect(connection.follow(PID))
    assert caught.value.prompt_id == PID


async def test_a_queued_prompt_keeps_being_followed() -> None:
    connection = backend({"queue_running": [], "queue_pending": [queue_item(PID)]}, {})
    feed = connection.follow(PID)
    task = asyncio.create_task(collect(feed))
    connection.dispatch(ExecutionSuccess(prompt_id=PID))
    connection.dispatch(Executing(node=None, prompt_id=PID))
    events = await asyncio.wait_for(task, 5)
    assert events == [ExecutionSuccess(prompt_id=PID), Executing(node=None, prompt_id=PID)]


async def test_after_a_gap_the_end_marker_brings_missed_outputs_from_history() -> None:
    connection = backend({}, {PID: SUCCESS_HISTORY})
    feed = connection.follow(PID, check_backend=False)
    feed.had_gap = True
    connection.dispatch(ExecutionSuccess(prompt_id=PID))
    connection.dispatch(Executing(node=None, prompt_id=PID))
    events = await collect(feed)
    assert events == [
        ExecutionSuccess(prompt_id=PID),
        Executed(prompt_id=PID, node="9", output=IMAGES, display_node="9"),
        Executing(node=None, prompt_id=PID),
    ]


async def test_a_follow_timeout_raises_comfy_timeout() -> None:
    connection = backend({}, {})
    feed = connection.follow(PID, check_backend=False, timeout=0.05)
    with pytest.raises(ComfyTimeout, match=PID):
        await collect(feed)
    assert connection._feeds == {}


async def test_closing_the_connection_fails_followers() -> None:
    connection = backend({}, {})
    feed = connection.follow(PID, check_backend=False)
    await connection.aclose()
    with pytest.raises(ComfySocketClosed):
        await collect(feed)


async def test_a_waiting_prompt_deleted_from_the_queue_fails_on_the_next_status() -> None:
    connection = backend({"queue_running": [], "queue_pending": []}, {})
    waiting = connection.follow(PID, check_backend=False)
    running = connection.follow("running", check_backend=False)
    waiting.submitted = running.submitted = True  # as run_prompt does once POST /prompt answered
    connection.dispatch(ExecutionStart(prompt_id="running"))
    connection.dispatch(Status(queue_remaining=1))
    with pytest.raises(PromptNotFound):
        await asyncio.wait_for(collect(waiting), 5)
    connection.dispatch(Executing(node=None, prompt_id="running"))
    assert await asyncio.wait_for(collect(running), 5) == [
        ExecutionStart(prompt_id="running"),
        Executing(node=None, prompt_id="running"),
    ]


async def test_a_prompt_not_yet_submitted_is_not_looked_for() -> None:
    connection = backend({"queue_running": [], "queue_pending": []}, {})
    feed = connection.follow(PID, check_backend=False)
    feed.submitted = False
    connection.dispatch(Status(queue_remaining=1))
    await connection.aclose()  # waits for any check it started
    with pytest.raises(ComfySocketClosed):
        await collect(feed)


async def test_listeners_see_everything_and_cannot_break_routing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connection = backend({}, {})
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise ValueError("listener bug")

    connection.add_listener(broken)
    connection.add_listener(seen.append)
    feed = connection.follow(PID, check_backend=False)
    sent: list[Event] = [Status(queue_remaining=0), Executing(node=None, prompt_id=PID)]
    for event in sent:
        connection.dispatch(event)
    assert await collect(feed) == [Executing(node=None, prompt_id=PID)]
    assert seen == sent
    assert "listener failed" in caplog.text
