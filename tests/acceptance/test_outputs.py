"""Submit → wait → outputs through a real `serve` process and a real simulator process."""

from __future__ import annotations

import json
import mimetypes
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from acceptance.gateway_checks import download, sha256_hex, simulator_file
from acceptance.workflows import (
    Graph,
    close_to,
    inverted,
    inverted_colour_graph,
    load_invert_save_graph,
    load_save_audio_graph,
    png_bytes,
    preview_only_graph,
    rgb_pixels,
    wav_bytes,
)
from support.gateway_process import GatewayProcess
from support.graphs import audio_graph, video_graph
from support.simulator_process import SimulatorProcess


def _submit_and_wait(client: httpx.Client, workflow: Graph) -> dict[str, Any]:
    response = client.post(
        "/v1/jobs", json={"workflow": workflow, "wait": True, "wait_timeout_s": 30}
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "completed", job
    return job


def _assert_outputs_match_simulator_files(
    client: httpx.Client, sim: SimulatorProcess, job: dict[str, Any]
) -> None:
    for output in job["outputs"]:
        written = simulator_file(sim, job["job_id"], output["filename"]).read_bytes()
        downloaded = download(client, output)
        assert sha256_hex(downloaded) == sha256_hex(written)
        assert output["sha256"] == sha256_hex(written)
        assert output["size_bytes"] == len(written)


def test_image_output_is_the_file_the_backend_wrote(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    with gateway.client() as client:
        job = _submit_and_wait(client, inverted_colour_graph(0x102030))
        assert [(o["kind"], o["content_type"]) for o in job["outputs"]] == [("image", "image/png")]
        _assert_outputs_match_simulator_files(client, sim, job)
        assert rgb_pixels(download(client, job["outputs"][0]))[0] == (0xEF, 0xDF, 0xCF)


def test_video_output_is_an_mp4_video(gateway: GatewayProcess, sim: SimulatorProcess) -> None:
    with gateway.client() as client:
        job = _submit_and_wait(client, video_graph())
        assert len(job["outputs"]) == 1, job
        output = job["outputs"][0]
        assert (output["kind"], output["content_type"]) == ("video", "video/mp4")
        assert output["filename"].endswith(".mp4")
        _assert_outputs_match_simulator_files(client, sim, job)


def test_audio_output_is_the_file_the_backend_wrote(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    with gateway.client() as client:
        job = _submit_and_wait(client, audio_graph())
        assert len(job["outputs"]) == 1, job
        assert job["outputs"][0]["kind"] == "audio"
        assert job["outputs"][0]["content_type"].startswith("audio/")
        _assert_outputs_match_simulator_files(client, sim, job)


def test_audio_from_a_wav_media_input(gateway: GatewayProcess, sim: SimulatorProcess) -> None:
    with gateway.client() as client:
        job = _submit_media_job(
            client, "tone.wav", wav_bytes(), graph=load_save_audio_graph("tone.wav")
        )
        assert [output["kind"] for output in job["outputs"]] == ["audio"], job
        _assert_outputs_match_simulator_files(client, sim, job)


def _submit_media_job(
    client: httpx.Client, name: str, data: bytes, graph: Graph | None = None
) -> dict[str, Any]:
    workflow = graph if graph is not None else load_invert_save_graph(name)
    request = {"workflow": workflow, "wait": True, "wait_timeout_s": 30}
    response = client.post(
        "/v1/jobs",
        data={"request": json.dumps(request)},
        files=[
            ("media", (name, data, mimetypes.guess_type(name)[0] or "application/octet-stream"))
        ],
    )
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    assert job["status"] == "completed", job
    return job


def test_media_input_is_inverted(gateway: GatewayProcess, sim: SimulatorProcess) -> None:
    pixels = [(10, 20, 30), (200, 100, 0), (0, 0, 0), (255, 255, 255), (1, 128, 254), (90, 9, 45)]
    with gateway.client() as client:
        job = _submit_media_job(client, "cat.png", png_bytes(pixels, width=3))
        got = rgb_pixels(download(client, job["outputs"][0]))
        assert close_to(got, inverted(pixels)), (got, inverted(pixels))
        _assert_outputs_match_simulator_files(client, sim, job)


def test_concurrent_jobs_with_the_same_media_name_keep_their_own_pixels(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    first = [(255, 0, 0)] * 4
    second = [(0, 0, 255)] * 4

    def run(pixels: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        with gateway.client() as client:
            job = _submit_media_job(client, "same.png", png_bytes(pixels, width=2))
            return rgb_pixels(download(client, job["outputs"][0]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, [first, second]))
    assert close_to(results[0], inverted(first)), results
    assert close_to(results[1], inverted(second)), results


def test_preview_only_workflow_returns_temporary_outputs(
    gateway: GatewayProcess, sim: SimulatorProcess
) -> None:
    with gateway.client() as client:
        job = _submit_and_wait(client, preview_only_graph(0x808080))
        assert len(job["outputs"]) == 1, job
        output = job["outputs"][0]
        assert output["temporary"] is True
        assert output["kind"] == "image"
        assert rgb_pixels(download(client, output))[0] == (0x80, 0x80, 0x80)
