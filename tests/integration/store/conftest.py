"""Fixtures of the JobStore contract suite: each test gets a fresh store per factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_gateway.store import JobStore, ManualClock
from integration.store.store_factories import STORE_FACTORIES, StoreFactory


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    return STORE_FACTORIES[request.param]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store_location(store_factory: StoreFactory, tmp_path: Path) -> str:
    return store_factory.new_location(tmp_path)


@pytest.fixture
async def store(
    store_factory: StoreFactory, store_location: str, clock: ManualClock
) -> AsyncIterator[JobStore]:
    opened = await store_factory.open(store_location, clock)
    try:
        yield opened
    finally:
        await opened.close()
