"""Which jobs a worker claims, places, or fails, from its backends' catalogues."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from comfy_gateway.validation import CatalogueCache, NodeCatalogue
from comfy_gateway.worker.backend_pool import Backend
from comfy_gateway.worker.capabilities import BackendCatalogues

OBJECT_INFO = Path("/work/shared/comfyui/object_info.json")
LATE_MODEL = "wan_high.safetensors"


@dataclass
class FakeBackend:
    url: str
    ready: bool = True
    connection: object = None
    http: object = None


def as_backends(*fakes: FakeBackend) -> list[Backend]:
    return [cast(Backend, fake) for fake in fakes]


@pytest.fixture
def raw_object_info() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(OBJECT_INFO.read_text())
    return loaded


@pytest.fixture
def up() -> FakeBackend:
    return FakeBackend("http://up:8188")


@pytest.fixture
def down() -> FakeBackend:
    return FakeBackend("http://down:8188", ready=False)


@pytest.fixture
def catalogues(
    tmp_path: Path, raw_object_info: dict[str, Any], up: FakeBackend, down: FakeBackend
) -> BackendCatalogues:
    """``up`` has no models; ``down`` (seen in an earlier run) has ``LATE_MODEL``."""
    cache = CatalogueCache(tmp_path)
    plain = NodeCatalogue.from_object_info(raw_object_info)
    cache.put(up.url, plain)
    cache.put(down.url, plain.with_model_files("diffusion_models", [LATE_MODEL]))
    return BackendCatalogues(CatalogueCache(tmp_path))  # reads what was saved


def needs(*classes: str, **files: list[str]) -> dict[str, Any]:
    return {"node_classes": list(classes), "model_files": files}


def test_a_job_a_free_backend_can_run_is_claimed(
    catalogues: BackendCatalogues, up: FakeBackend, down: FakeBackend
) -> None:
    can_run = catalogues.claim_filter(as_backends(up, down), as_backends(up))
    assert can_run(needs("SaveImage", "LoadImage"))
    assert can_run(None)  # unknown requirements: ComfyUI itself will validate


def test_a_job_only_a_down_backend_can_run_waits(
    catalogues: BackendCatalogues, up: FakeBackend, down: FakeBackend
) -> None:
    can_run = catalogues.claim_filter(as_backends(up, down), as_backends(up))
    assert not can_run(needs("UNETLoader", diffusion_models=[LATE_MODEL]))


def test_a_job_no_backend_can_run_is_claimed_to_be_failed(
    catalogues: BackendCatalogues, up: FakeBackend, down: FakeBackend
) -> None:
    can_run = catalogues.claim_filter(as_backends(up, down), as_backends(up))
    assert can_run(needs("NoSuchNode"))


def test_a_backend_never_seen_counts_as_capable(
    catalogues: BackendCatalogues, up: FakeBackend
) -> None:
    stranger = FakeBackend("http://never-seen:8188", ready=False)
    can_run = catalogues.claim_filter(as_backends(up, stranger), as_backends(up))
    assert not can_run(needs("NoSuchNode"))  # the stranger might have it: wait


async def test_placement_fails_naming_what_each_backend_lacks(
    catalogues: BackendCatalogues, up: FakeBackend, down: FakeBackend
) -> None:
    placement = await catalogues.place(
        needs("NoSuchNode", checkpoints=["gone.safetensors"]), as_backends(up, down), []
    )
    assert placement.backend is None
    assert placement.error is not None
    assert placement.error.code == "unsupported_backend"
    for word in ("NoSuchNode", "gone.safetensors", "models/checkpoints", up.url, down.url):
        assert word in placement.error.message
