"""Bad input over real HTTP: a 4xx in our error shape, and nothing stored.

The gateway runs with three tenants' keys. Every refused submission is made as tenant
``beta``, whose job list must stay empty; ``acme`` owns the job the isolation test needs
and ``gamma`` the one that shows an accepted job is listed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acceptance.gateway_checks import assert_address_refused, assert_error, submit
from acceptance.workflows import Graph, inverted_colour_graph, load_invert_save_graph, png_bytes
from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import SimulatorProcess

KEYS = {
    "acme": "key-acme-0123456789",
    "beta": "key-beta-9876543210",
    "gamma": "key-gamma-5555555555",
}
MB = 1024 * 1024
PNG = png_bytes([(1, 2, 3)] * 4, width=2)


@pytest.fixture(scope="module")
def keyed_gateway(
    simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    env = {"COMFY_GATEWAY_API_KEYS": ",".join(f"{t}:{k}" for t, k in KEYS.items())}
    with run_serve(tmp_path_factory.mktemp("keyed"), [simulator.url], env=env) as process:
        yield process


@pytest.fixture
def beta(keyed_gateway: GatewayProcess) -> Iterator[httpx.Client]:
    """Tenant beta's client; after the test, beta still has no job at all."""
    with keyed_gateway.client(KEYS["beta"]) as client:
        yield client
        listing = client.get("/v1/jobs")
        assert listing.status_code == 200, listing.text
        assert listing.json()["jobs"] == [], "a refused submission left a job behind"


def _media_graph(count: int) -> Graph:
    """``count`` LoadImage → PreviewImage pairs, loading media m0.png, m1.png, …"""
    graph: Graph = {}
    for index in range(count):
        graph[f"{index}0"] = {"class_type": "LoadImage", "inputs": {"image": f"m{index}.png"}}
        graph[f"{index}1"] = {"class_type": "PreviewImage", "inputs": {"images": [f"{index}0", 0]}}
    return graph


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_malformed_json_is_400_invalid_json(beta: httpx.Client) -> None:
    response = beta.post(
        "/v1/jobs", content=b'{"workflow": {', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "workflow",
    [[1, 2], "a string", {"1": {"inputs": {"width": 8}}}],
    ids=["list", "string", "node-without-class_type"],
)
def test_malformed_workflow_is_422(beta: httpx.Client, workflow: Any) -> None:
    assert_error(beta.post("/v1/jobs", json={"workflow": workflow}), 422)


def test_eleven_media_items_are_refused(beta: httpx.Client) -> None:
    media = [{"name": f"m{index}.png", "data": _b64(PNG)} for index in range(11)]
    response = beta.post("/v1/jobs", json={"workflow": _media_graph(11), "media": media})
    assert_error(response, 422, "too_many_media")


def test_eleven_multipart_files_are_refused(beta: httpx.Client) -> None:
    files = [("media", (f"m{index}.png", PNG, "image/png")) for index in range(11)]
    request = json.dumps({"workflow": _media_graph(11)})
    response = beta.post("/v1/jobs", data={"request": request}, files=files)
    assert_error(response, 422, "too_many_media")


def test_a_51_mb_media_item_is_refused(beta: httpx.Client) -> None:
    big = PNG + bytes(51 * MB)
    request = json.dumps({"workflow": load_invert_save_graph("big.png")})
    response = beta.post(
        "/v1/jobs", data={"request": request}, files=[("media", ("big.png", big, "image/png"))]
    )
    assert_error(response, 413, "media_too_large")


def test_a_51_mb_base64_item_is_refused(beta: httpx.Client) -> None:
    media = [{"name": "big.png", "data": _b64(PNG + bytes(51 * MB))}]
    response = beta.post(
        "/v1/jobs", json={"workflow": load_invert_save_graph("big.png"), "media": media}
    )
    assert_error(response, 413, "media_too_large")


def test_bad_base64_is_refused(beta: httpx.Client) -> None:
    media = [{"name": "cat.png", "data": "iVBORw0KGgo*not base64*"}]
    response = beta.post(
        "/v1/jobs", json={"workflow": load_invert_save_graph("cat.png"), "media": media}
    )
    assert_error(response, 422, "invalid_base64")


def test_a_media_name_with_a_path_is_refused(beta: httpx.Client) -> None:
    name = "../../etc/passwd"
    media = [{"name": name, "data": _b64(PNG)}]
    response = beta.post(
        "/v1/jobs", json={"workflow": load_invert_save_graph(name), "media": media}
    )
    assert_error(response, 422, "unsafe_media_name")


def test_an_unreferenced_media_item_is_refused(beta: httpx.Client) -> None:
    media = [{"name": "unused.png", "data": _b64(PNG)}]
    response = beta.post("/v1/jobs", json={"workflow": inverted_colour_graph(5), "media": media})
    assert_error(response, 422, "unreferenced_media")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/cat.png",
        "http://10.0.0.1/cat.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/cat.png",
    ],
)
def test_media_urls_to_private_addresses_are_refused(beta: httpx.Client, url: str) -> None:
    media = [{"name": "cat.png", "url": url}]
    response = beta.post(
        "/v1/jobs", json={"workflow": load_invert_save_graph("cat.png"), "media": media}
    )
    assert_address_refused(response)


def test_an_unknown_job_id_is_404(beta: httpx.Client) -> None:
    unknown = "01a204bb-0000-7000-8000-000000000000"
    assert_error(beta.get(f"/v1/jobs/{unknown}"), 404)
    assert_error(beta.get("/v1/jobs/not-a-job-id"), 404)
    assert_error(beta.post(f"/v1/jobs/{unknown}/cancel"), 404)


@pytest.mark.parametrize("key", [None, "wrong-key"], ids=["no-key", "wrong-key"])
def test_a_missing_or_wrong_key_is_401(
    keyed_gateway: GatewayProcess, beta: httpx.Client, key: str | None
) -> None:
    with keyed_gateway.client(key) as client:
        for response in (
            client.post("/v1/jobs", json={"workflow": inverted_colour_graph(6)}),
            client.get("/v1/jobs"),
        ):
            assert_error(response, 401)
            assert "www-authenticate" in response.headers


def test_another_tenants_job_is_404(keyed_gateway: GatewayProcess, beta: httpx.Client) -> None:
    with keyed_gateway.client(KEYS["acme"]) as acme:
        body = {"workflow": inverted_colour_graph(7), "wait": True, "wait_timeout_s": 30}
        response = acme.post("/v1/jobs", json=body)
        assert response.status_code == 200, response.text
        job = response.json()
        assert job["status"] == "completed"
        assert acme.get(job["outputs"][0]["url"]).status_code == 200
    job_id = job["job_id"]
    assert_error(beta.get(f"/v1/jobs/{job_id}"), 404)
    assert_error(beta.get(job["outputs"][0]["url"]), 404)
    assert_error(beta.get(f"/v1/jobs/{job_id}/events"), 404)
    assert_error(beta.post(f"/v1/jobs/{job_id}/cancel"), 404)
    assert_error(beta.delete(f"/v1/jobs/{job_id}"), 404)


def test_an_accepted_submission_is_listed(keyed_gateway: GatewayProcess) -> None:
    """The control for the "nothing stored" check: an accepted job does show in the list
    (tenant gamma, so beta's list stays empty whatever the test order)."""
    with keyed_gateway.client(KEYS["gamma"]) as client:
        job = submit(client, {"workflow": inverted_colour_graph(8)})
        listed = [entry["job_id"] for entry in client.get("/v1/jobs").json()["jobs"]]
        assert listed == [job["job_id"]]
        client.post(f"/v1/jobs/{job['job_id']}/cancel")
