"""``/v1/templates``: list, describe, submit; refusals leave nothing stored."""

from __future__ import annotations

from typing import Any

import httpx

from comfy_gateway.store import SqlJobStore
from comfy_gateway.templates.model import SEED_LIMIT
from integration.api.submit_fixtures import NothingLeft, nothing_left_fixture  # noqa: F401
from integration.api.template_fixtures import (  # noqa: F401  (fixtures)
    MAX_COLOR,
    SOLID_COLOR,
    api_context_fixture,
    template_folder_fixture,
)

SUBMIT = f"/v1/templates/{SOLID_COLOR}/jobs"


async def test_list_names_every_template_with_its_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/templates")

    assert response.status_code == 200, response.text
    by_name = {entry["name"]: entry for entry in response.json()["templates"]}
    assert {SOLID_COLOR, "wan22-i2v", "wan22-s2v"} <= set(by_name)
    solid = by_name[SOLID_COLOR]
    assert solid["description"] == "A square image of one colour."
    assert set(solid["parameters"]["properties"]) == {"color", "size", "seed"}
    assert "image" in by_name["wan22-i2v"]["parameters"]["required"]


async def test_get_describes_parameters_as_json_schema(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/templates/{SOLID_COLOR}")

    assert response.status_code == 200, response.text
    schema = response.json()["parameters"]
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["color"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_COLOR,
        "default": 0,
    }
    assert schema["properties"]["seed"]["minimum"] == -1  # -1 asks for a random seed


async def test_unknown_template_is_404(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    got = await client.get("/v1/templates/no-such-thing")
    posted = await client.post("/v1/templates/no-such-thing/jobs", json={"color": 1})

    for response in (got, posted):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "template_not_found"
    await nothing_left()


async def test_path_like_template_name_is_403(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/templates/x..y/jobs", json={})

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "template_path_refused"


async def test_submit_renders_the_template_and_records_resolved_params(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await client.post(SUBMIT, json={"color": 255, "size": 32, "priority": 4})

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["priority"] == 4
    resolved = answer["resolved_params"]
    assert (resolved["color"], resolved["size"]) == (255, 32)
    seed = resolved["seed"]
    assert isinstance(seed, int)
    assert 0 <= seed < SEED_LIMIT
    job = await store.get_job("acme", answer["job_id"])
    assert job.resolved_params == resolved
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"] == {"width": 32, "height": 32, "batch_size": 1, "color": 255}
    prefix = job.workflow["2"]["inputs"]["filename_prefix"]
    assert prefix == f"comfy-gateway/{job.job_id}/solid-{seed}"


async def test_defaults_fill_what_is_not_given_and_a_given_seed_is_kept(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await client.post(SUBMIT, json={"seed": 1234})

    assert response.status_code == 202, response.text
    assert response.json()["resolved_params"] == {"color": 0, "size": 64, "seed": 1234}
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["width"] == 64


async def test_two_random_seeds_differ(client: httpx.AsyncClient) -> None:
    seeds = set()
    for _ in range(3):
        response = await client.post(SUBMIT, json={})
        assert response.status_code == 202, response.text
        seeds.add(response.json()["resolved_params"]["seed"])
    assert len(seeds) == 3


async def test_unknown_parameter_is_422_naming_it(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await client.post(SUBMIT, json={"colour": 3})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["parameter"]) == ("unknown_parameter", "colour")
    await nothing_left()


async def test_invalid_value_is_422_naming_the_parameter(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    for body, name in (({"color": MAX_COLOR + 1}, "color"), ({"size": "big"}, "size")):
        response = await client.post(SUBMIT, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["parameter"] == name
    await nothing_left()


async def test_invalid_reserved_option_is_422(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await client.post(SUBMIT, json={"priority": 10**6})

    assert response.status_code == 422, response.text
    assert "priority" in response.json()["error"]["message"]
    await nothing_left()


async def test_body_must_be_an_object(client: httpx.AsyncClient) -> None:
    response = await client.post(SUBMIT, json=[1, 2])

    assert response.status_code == 422, response.text


async def test_submit_needs_an_api_key(
    anon_client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await anon_client.post(SUBMIT, json={"color": 1})

    assert response.status_code == 401
    await nothing_left()


async def test_job_belongs_to_the_submitting_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    response = await client.post(SUBMIT, json={})
    job_id = response.json()["job_id"]

    assert (await client.get(f"/v1/jobs/{job_id}")).status_code == 200
    assert (await other_client.get(f"/v1/jobs/{job_id}")).status_code == 404


async def test_idempotency_key_replays_the_first_job_despite_a_random_seed(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "template-retry-1"}
    first = await client.post(SUBMIT, json={"color": 9}, headers=headers)
    again = await client.post(SUBMIT, json={"color": 9}, headers=headers)
    other = await client.post(SUBMIT, json={"color": 10}, headers=headers)

    assert first.status_code == 202, first.text
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.json()["resolved_params"] == first.json()["resolved_params"]
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


async def test_wait_runs_out_with_504_naming_the_job(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await client.post(SUBMIT, json={"wait": True, "wait_timeout_s": 0.05})

    assert response.status_code == 504, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "wait_timeout"
    job = await store.get_job("acme", error["job_id"])
    assert job.status.value == "queued"
