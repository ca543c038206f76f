"""Plain HTTP routes: status codes, content types and JSON shapes as captured."""

from __future__ import annotations

import httpx
import pytest

from support.simulator_process import SimulatorProcess

from .sim_client import collect_until_end, new_client_id, open_socket, post_prompt, three_node_graph

JSON_TYPE = "application/json; charset=utf-8"


@pytest.mark.parametrize("prefix", ["", "/api"])
async def test_info_routes_answer_json(
    sim: SimulatorProcess, http: httpx.AsyncClient, prefix: str
) -> None:
    stats = await http.get(prefix + "/system_stats")
    assert stats.headers["content-type"] == JSON_TYPE
    assert stats.json()["system"]["comfyui_version"] == "0.3.64"
    assert stats.json()["devices"][0]["type"] == "cpu"
    assert (await http.get(prefix + "/features")).json() == {
        "supports_preview_metadata": True,
        "max_upload_size": 104857600,
    }
    assert (await http.get(prefix + "/queue")).text == '{"queue_running": [], "queue_pending": []}'
    assert (await http.get(prefix + "/prompt")).json() == {"exec_info": {"queue_remaining": 0}}
    assert (await http.get(prefix + "/history")).json() == {}
    assert (await http.get(prefix + "/embeddings")).json() == []


async def test_object_info_routes(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    everything = (await http.get("/object_info")).json()
    assert {"EmptyImage", "SaveImage", "KSamplerAdvanced", "WanImageToVideo"} <= set(everything)
    one = (await http.get("/api/object_info/ImageInvert")).json()
    assert list(one) == ["ImageInvert"]
    assert one["ImageInvert"]["output_node"] is False
    assert (await http.get("/object_info/DoesNotExist")).json() == {}


async def test_unknown_routes_and_plain_get_on_ws(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    for path in ("/nonexistent_route", "/api/nonexistent_route"):
        missing = await http.get(path)
        assert missing.status_code == 404
        assert missing.content == b""
        assert missing.headers["content-type"] == "application/octet-stream"
    plain = await http.get("/ws")
    assert plain.status_code == 400
    assert plain.text == 'No WebSocket UPGRADE hdr: None\n Can "Upgrade" only to "WebSocket".'


async def test_bodiless_post_routes(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    for path, body in [
        ("/interrupt", None),
        ("/queue", {}),
        ("/history", {"clear": True}),
        ("/free", {"unload_models": True, "free_memory": True}),
    ]:
        response = await http.post(path, json=body)
        assert (response.status_code, response.content) == (200, b"")
        assert "content-type" not in response.headers
    broken = await http.post(
        "/queue", content=b"nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 500
    assert broken.text == "500 Internal Server Error\n\nServer got itself in trouble"


async def test_prompt_errors_keep_their_status_codes(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    unparseable = await http.post("/prompt", content=b"{not json")
    assert unparseable.status_code == 500
    assert unparseable.headers["content-type"].startswith("text/plain")
    refused = await http.post("/prompt", json={"prompt": {}})
    assert refused.status_code == 400
    assert refused.headers["content-type"] == JSON_TYPE
    assert set(refused.json()) == {"error", "node_errors"}


async def test_prompt_numbers_count_every_request_and_front_is_negative(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    # a hang keeps everything queued, so numbers can be read from GET /queue too
    await http.post("/_sim/faults", json={"kind": "hang"})
    first = (await post_prompt(http, three_node_graph("n0")))["number"]
    assert (await http.post("/prompt", json={"prompt": {}})).status_code == 400  # still counted
    second = (await post_prompt(http, three_node_graph("n1", color=1)))["number"]
    front = (await post_prompt(http, three_node_graph("n2", color=2), front=True))["number"]
    explicit = (await post_prompt(http, three_node_graph("n3", color=3), number=0.5))["number"]
    assert second == first + 2
    assert front == -(first + 3)
    assert explicit == 0.5
    pending_numbers = [item[0] for item in (await http.get("/queue")).json()["queue_pending"]]
    assert sorted(pending_numbers) == [front, explicit, second]


async def test_history_paging_and_deletion(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    client_id = new_client_id()
    ids = []
    async with await open_socket(sim.url, client_id) as socket:
        for index in range(4):
            graph = three_node_graph(f"h{index}", color=index)
            prompt_id = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
            await collect_until_end(socket, prompt_id)
            ids.append(prompt_id)
    assert list((await http.get("/history")).json()) == ids
    assert list((await http.get("/history", params={"max_items": 2})).json()) == ids[2:]
    assert (
        list((await http.get("/history", params={"max_items": 2, "offset": 1})).json()) == ids[1:3]
    )
    assert list((await http.get("/api/history", params={"max_items": 1})).json()) == ids[3:]
    assert list((await http.get(f"/history/{ids[0]}")).json()) == [ids[0]]
    assert (await http.get("/history/does-not-exist")).json() == {}
    assert (await http.post("/history", json={"delete": [ids[0]]})).status_code == 200
    assert list((await http.get("/history")).json()) == ids[1:]
    await http.post("/history", json={"clear": True})
    assert (await http.get("/history")).json() == {}


async def test_queue_item_shape_keeps_extra_data(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    extra = {"extra_pnginfo": {"workflow": {"note": "x"}}, "foo": "bar"}
    async with await open_socket(sim.url, client_id) as socket:
        accepted = (await post_prompt(http, three_node_graph("tc"), client_id=client_id,
                               prompt_id="my-own-id-123", extra_data=extra))  # fmt: skip
        await collect_until_end(socket, "my-own-id-123")
    assert accepted["prompt_id"] == "my-own-id-123"
    number, prompt_id, prompt, extra_data, outputs = (
        await http.get("/history/my-own-id-123")
    ).json()["my-own-id-123"]["prompt"]
    assert (number, prompt_id, outputs) == (accepted["number"], "my-own-id-123", ["3"])
    assert prompt == three_node_graph("tc")
    assert extra_data == {**extra, "client_id": client_id}
