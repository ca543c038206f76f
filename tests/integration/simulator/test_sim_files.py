"""POST /upload/image renaming and refusals, GET /view codes, headers and ranges."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from PIL import Image

from support.simulator_process import SimulatorProcess, run_simulator

from .sim_client import collect_until_end, new_client_id, open_socket, post_prompt


def png_bytes(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


async def upload(http: httpx.AsyncClient, name: str, data: bytes, **fields: str) -> httpx.Response:
    files = {"image": (name, data, "image/png")}
    return await http.post("/upload/image", files=files, data=fields)


async def test_upload_dedupes_renames_and_overwrites(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    red, green, blue = png_bytes((255, 0, 0)), png_bytes((0, 255, 0)), png_bytes((0, 0, 255))
    first = await upload(http, "up.png", red)
    assert first.json() == {"name": "up.png", "subfolder": "", "type": "input"}
    assert (await upload(http, "up.png", red)).json()["name"] == "up.png"
    assert (await upload(http, "up.png", green)).json()["name"] == "up (1).png"
    assert (await upload(http, "up.png", blue)).json()["name"] == "up (2).png"
    assert (await upload(http, "up.png", blue, overwrite="true")).json()["name"] == "up.png"
    assert (await upload(http, "up.png", green, overwrite="1")).json()["name"] == "up.png"
    assert (await upload(http, "up.png", green, overwrite="false")).json()["name"] == "up.png"
    assert (sim.data_dir / "input" / "up.png").read_bytes() == green
    assert (sim.data_dir / "input" / "up (2).png").read_bytes() == blue
    listed = (await http.get("/object_info/LoadImage")).json()["LoadImage"]["input"]["required"]
    assert {"up.png", "up (1).png", "up (2).png"} <= set(listed["image"][0])


async def test_upload_subfolders_types_and_refusals(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    data = png_bytes((1, 2, 3))
    nested = (await upload(http, "n.png", data, subfolder="sub/dir", type="input")).json()
    assert nested == {"name": "n.png", "subfolder": "sub/dir", "type": "input"}
    assert (sim.data_dir / "input" / "sub" / "dir" / "n.png").is_file()
    assert (await upload(http, "n.png", data, type="temp")).json()["type"] == "temp"
    output = (await upload(http, "n.png", data, type="output", subfolder="uploads")).json()
    assert output == {"name": "n.png", "subfolder": "uploads", "type": "output"}
    api = await http.post("/api/upload/image", files={"image": ("api.png", data)})
    assert api.json()["name"] == "api.png"
    assert (await upload(http, "n.png", data, subfolder="../../etc")).status_code == 400
    no_image = await http.post("/upload/image", files={"file": ("n.png", data)})
    assert (no_image.status_code, no_image.content) == (400, b"")
    bogus = await upload(http, "n.png", data, type="bogus")
    assert bogus.status_code == 500
    assert bogus.headers["content-type"].startswith("text/plain")


async def test_view_serves_files_with_captured_headers(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    data = png_bytes((9, 9, 9))
    await upload(http, "view.png", data)
    await upload(http, "view.png", data, subfolder="sub/dir")
    await upload(http, "notes.txt", b"hello")
    response = await http.get("/view", params={"filename": "view.png", "type": "input"})
    assert response.content == data
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'filename="view.png"'
    assert response.headers["accept-ranges"] == "bytes"
    assert "etag" in response.headers
    annotated = await http.get("/api/view", params={"filename": "view.png [input]"})
    assert annotated.content == data
    nested = (await http.get("/view", params={"filename": "view.png", "subfolder": "sub/dir",
                                       "type": "input"}))  # fmt: skip
    assert nested.content == data
    text = await http.get("/view", params={"filename": "notes.txt", "type": "input"})
    assert (text.text, text.headers["content-type"]) == ("hello", "text/plain")
    ranged = (await http.get("/view", params={"filename": "view.png", "type": "input"},
                      headers={"Range": "bytes=0-7"}))  # fmt: skip
    assert (ranged.status_code, ranged.content) == (206, data[:8])
    webp = (await http.get("/view", params={"filename": "view.png", "type": "input",
                                     "preview": "webp;50"}))  # fmt: skip
    assert webp.headers["content-type"] == "image/webp"
    assert webp.content[:4] == b"RIFF"


async def test_view_refusals(sim: SimulatorProcess, http: httpx.AsyncClient) -> None:
    await upload(http, "here.png", png_bytes((5, 5, 5)))
    cases = [
        ({"filename": "here.png", "type": "output"}, 404),
        ({"filename": "nope.png"}, 404),
        ({}, 404),
        ({"filename": "../x.png", "type": "output"}, 400),
        ({"filename": "x.png", "subfolder": "../../", "type": "output"}, 403),
        ({"filename": "x.png", "type": "bogus"}, 400),
    ]
    for params, status in cases:
        response = await http.get("/view", params=params)
        assert (response.status_code, response.content) == (status, b""), params


async def test_outputs_of_a_run_can_be_viewed(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    graph = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 8, "height": 8, "batch_size": 2, "color": 255},
        },
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},
    }
    async with await open_socket(sim.url, client_id) as socket:
        prompt_id = (await post_prompt(http, graph, client_id=client_id))["prompt_id"]
        await collect_until_end(socket, prompt_id)
    images = (await http.get(f"/history/{prompt_id}")).json()[prompt_id]["outputs"]["2"]["images"]
    assert len(images) == 2
    for image in images:
        assert image["type"] == "temp"
        response = await http.get("/view", params=image)
        assert response.status_code == 200
        assert response.content.startswith(b"\x89PNG")


async def test_uploads_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    with run_simulator(tmp_path / "small", ["--max-upload-size", "2000"]) as small:
        async with httpx.AsyncClient(base_url=small.url, timeout=10.0) as http:
            features = (await http.get("/features")).json()
            refused = await upload(http, "big.png", b"x" * 5000)
            accepted = await upload(http, "ok.png", b"x" * 100)
    assert features["max_upload_size"] == 2000
    assert refused.status_code == 413
    assert accepted.json()["name"] == "ok.png"
