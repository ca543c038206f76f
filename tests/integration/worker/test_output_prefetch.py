"""Outputs fetched when their node reports them: the same bytes as a fetch after the end;
a file over the limit, a preview or a failed fetch is left to the collector."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from comfy_gateway.comfy import BackendConnection, ComfyHttpClient, Executed, run_prompt
from comfy_gateway.jobs.outputs import collect_output_entries
from comfy_gateway.worker.output_prefetch import OutputPrefetch
from integration.worker.graphs import invert_graph
from support.simulator_process import SimulatorProcess


@pytest.fixture
async def http(sim: SimulatorProcess) -> AsyncIterator[ComfyHttpClient]:
    async with ComfyHttpClient(sim.url) as client:
        yield client


async def executed_events(http: ComfyHttpClient, graph: dict[str, object]) -> list[Executed]:
    async with BackendConnection(http) as connection:
        run = run_prompt(http, connection, graph, timeout=30)  # type: ignore[arg-type]
        return [event async for event in run if isinstance(event, Executed)]


async def test_an_early_fetch_gives_the_bytes_a_late_one_would(http: ComfyHttpClient) -> None:
    [executed] = await executed_events(http, invert_graph(color=21, size=24, prefix="pre"))
    prefetch = OutputPrefetch(http)
    prefetch.executed(executed)
    [entry] = collect_output_entries([(executed.node, executed.output)])

    early = await prefetch.take(entry)

    assert early is not None
    assert early == await http.read_file(entry.filename, entry.subfolder, entry.type)
    assert await prefetch.take(entry) is None  # taken once
    await prefetch.close()


async def test_a_file_over_the_limit_is_left_to_the_collector(http: ComfyHttpClient) -> None:
    [executed] = await executed_events(http, invert_graph(color=22, size=64, prefix="big"))
    prefetch = OutputPrefetch(http, limit=100)  # a 64×64 PNG is larger
    prefetch.executed(executed)
    [entry] = collect_output_entries([(executed.node, executed.output)])

    assert await prefetch.take(entry) is None
    await prefetch.close()


async def test_a_fetch_that_fails_and_a_preview_are_left_to_the_collector(
    http: ComfyHttpClient,
) -> None:
    missing = {"images": [{"filename": "gone_00001_.png", "subfolder": "", "type": "output"}]}
    preview = {"images": [{"filename": "p_00001_.png", "subfolder": "", "type": "temp"}]}
    prefetch = OutputPrefetch(http)
    prefetch.executed(Executed(prompt_id="p", node="9", output=missing))
    prefetch.executed(Executed(prompt_id="p", node="8", output=preview))
    [gone] = collect_output_entries([("9", missing)])
    [temp] = collect_output_entries([("8", preview)])

    assert await prefetch.take(gone) is None  # 404: the collector reports it
    assert await prefetch.take(temp) is None  # never fetched early
    await prefetch.close()


async def test_closing_stops_fetches_nobody_took(http: ComfyHttpClient) -> None:
    [executed] = await executed_events(http, invert_graph(color=23, prefix="left"))
    prefetch = OutputPrefetch(http)
    prefetch.executed(executed)
    await prefetch.close()
    [entry] = collect_output_entries([(executed.node, executed.output)])
    assert await prefetch.take(entry) is None
