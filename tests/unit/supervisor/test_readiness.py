"""Readiness probing against a fake transport: 200, process exit, timeout."""

from __future__ import annotations

import asyncio

import httpx

from comfy_gateway.supervisor.readiness import Readiness, probe_system_stats, wait_until_ready

URL = "http://127.0.0.1:8188"


def answering(statuses: list[int]) -> tuple[httpx.AsyncClient, list[str]]:
    paths: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if not statuses:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(statuses.pop(0), json={})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle)), paths


async def test_ready_once_system_stats_answers_200() -> None:
    client, paths = answering([503, 500, 200])
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with client:
        result = await wait_until_ready(client, URL, exited=never, timeout_s=5, poll_interval_s=0)
    assert result is Readiness.READY
    assert paths == ["/system_stats"] * 3


async def test_an_exited_process_is_not_waited_for() -> None:
    client, paths = answering([])
    exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    exited.set_result(1)
    async with client:
        result = await wait_until_ready(client, URL, exited=exited, timeout_s=5)
    assert result is Readiness.EXITED
    assert paths == []


async def test_no_answer_within_the_timeout() -> None:
    client, _ = answering([])
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    async with client:
        result = await wait_until_ready(
            client, URL, exited=never, timeout_s=0.05, poll_interval_s=0.01
        )
    assert result is Readiness.TIMED_OUT


async def test_a_refused_connection_is_just_not_ready() -> None:
    client, _ = answering([])
    async with client:
        assert not await probe_system_stats(client, URL)
