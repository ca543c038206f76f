"""Catalogue files in the data folder, and the one refetch before refusing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.errors import ComfyUnavailable, ConfigError
from comfy_gateway.validation import CatalogueCache, NodeCatalogue, check_graph_with_refetch

BACKEND = "http://127.0.0.1:8188"


def vae_graph(name: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "VAELoader", "inputs": {"vae_name": name}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }


class FakeComfy:
    """Answers /object_info from a dict we edit, counting the requests it gets."""

    def __init__(self, object_info: dict[str, Any]) -> None:
        self.object_info = json.loads(json.dumps(object_info))
        self.paths: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == "/object_info":
            return httpx.Response(200, json=self.object_info)
        class_type = request.url.path.removeprefix("/object_info/")
        return httpx.Response(200, json={class_type: self.object_info[class_type]})

    def client(self) -> ComfyHttpClient:
        return ComfyHttpClient(BACKEND, transport=httpx.MockTransport(self.handle))

    def install_vae(self, name: str) -> None:
        self.object_info["VAELoader"]["input"]["required"]["vae_name"][0].append(name)


def test_a_catalogue_file_stands_in_and_is_reloaded_at_start(
    tmp_path: Path, shared_comfyui_dir: Path, catalogue: NodeCatalogue
) -> None:
    cache = CatalogueCache(tmp_path)
    cache.load_file(
        BACKEND, shared_comfyui_dir / "object_info.json", model_files={"vae": ["a.safetensors"]}
    )
    assert cache.path_for(BACKEND) == tmp_path / "catalogues" / "127-0-0-1-8188.json"
    reloaded = CatalogueCache(tmp_path).load_all()
    restored = reloaded["127-0-0-1-8188"]
    assert restored.definitions == catalogue.definitions
    assert restored.installed_model_files("vae") >= {"a.safetensors", "pixel_space"}


def test_declared_model_files_survive_a_restart(
    tmp_path: Path, object_info: dict[str, Any]
) -> None:
    cache = CatalogueCache(tmp_path)
    cache.put("gpu-1", NodeCatalogue.from_object_info(object_info))
    cache.declare_model_files("gpu-1", {"loras": ["x.safetensors"]})
    fresh = CatalogueCache(tmp_path)
    fresh.load_all()
    restored = fresh.get("gpu-1")
    assert restored is not None
    assert restored.declared_model_files == {"loras": frozenset({"x.safetensors"})}


def test_an_unreadable_catalogue_file_is_skipped(
    tmp_path: Path, object_info: dict[str, Any]
) -> None:
    cache = CatalogueCache(tmp_path)
    cache.put("good", NodeCatalogue.from_object_info(object_info))
    (tmp_path / "catalogues" / "broken.json").write_text("{not json")
    assert set(CatalogueCache(tmp_path).load_all()) == {"good"}


def test_declaring_files_for_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        CatalogueCache(tmp_path).declare_model_files("nowhere", {"vae": ["v.safetensors"]})


def test_a_bad_stand_in_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError):
        CatalogueCache(tmp_path).load_file("gpu", bad)


async def test_refresh_fetches_object_info_and_keeps_declared_files(
    tmp_path: Path, object_info: dict[str, Any]
) -> None:
    fake = FakeComfy(object_info)
    cache = CatalogueCache(tmp_path)
    cache.put(BACKEND, NodeCatalogue.from_object_info(object_info, model_files={"vae": ["d.pt"]}))
    fake.install_vae("fetched.safetensors")
    async with fake.client() as http:
        refreshed = await cache.refresh(BACKEND, http)
    assert fake.paths == ["/object_info"]
    assert refreshed.installed_model_files("vae") >= {"fetched.safetensors", "d.pt"}
    on_disk = CatalogueCache(tmp_path).load_all()["127-0-0-1-8188"]
    assert "fetched.safetensors" in on_disk.installed_model_files("vae")


async def test_a_failed_refresh_keeps_the_previous_catalogue(
    tmp_path: Path, object_info: dict[str, Any]
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    cache = CatalogueCache(tmp_path)
    previous = NodeCatalogue.from_object_info(object_info)
    cache.put(BACKEND, previous)
    async with ComfyHttpClient(BACKEND, transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(ComfyUnavailable):
            await cache.refresh(BACKEND, http)
    assert cache.get(BACKEND) is previous


async def test_a_model_installed_since_the_cache_is_found_by_one_refetch(
    catalogue: NodeCatalogue, object_info: dict[str, Any]
) -> None:
    fake = FakeComfy(object_info)
    fake.install_vae("new.safetensors")
    async with fake.client() as http:
        checked = await check_graph_with_refetch(vae_graph("new.safetensors"), catalogue, http)
    assert checked.result.ok
    assert fake.paths == ["/object_info/VAELoader"]
    assert checked.refetched_classes == {"VAELoader"}
    assert "new.safetensors" in checked.catalogue.installed_model_files("vae")


async def test_no_refetch_when_the_graph_passes_or_fails_for_other_reasons(
    catalogue: NodeCatalogue, object_info: dict[str, Any]
) -> None:
    fake = FakeComfy(object_info)
    broken = vae_graph("pixel_space")
    broken["1"]["inputs"] = {}
    async with fake.client() as http:
        passing = await check_graph_with_refetch(vae_graph("pixel_space"), catalogue, http)
        failing = await check_graph_with_refetch(broken, catalogue, http)
    assert passing.result.ok
    assert not failing.result.ok
    assert fake.paths == []


async def test_a_file_still_missing_after_the_refetch_is_refused(
    catalogue: NodeCatalogue, object_info: dict[str, Any]
) -> None:
    fake = FakeComfy(object_info)
    async with fake.client() as http:
        checked = await check_graph_with_refetch(vae_graph("gone.safetensors"), catalogue, http)
    assert not checked.result.ok
    assert fake.paths == ["/object_info/VAELoader"]
    assert checked.result.node_errors["1"]["errors"][0]["type"] == "value_not_in_list"
