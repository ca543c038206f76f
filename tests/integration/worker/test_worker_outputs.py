"""Jobs that complete: every output stored with the backend file's exact bytes."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image

from comfy_gateway.jobs.model import Job
from comfy_gateway.jobs.status import JobStatus
from integration.worker.graphs import (
    invert_graph,
    load_invert_graph,
    preview_only_graph,
)
from integration.worker.harness import (
    TENANT,
    WorkerHarness,
    executions,
    sim_config,
    sim_control,
)
from support.graphs import audio_graph, video_graph
from support.simulator_process import SimulatorProcess


def backend_file(sim: SimulatorProcess, job: Job, index: int, folder: str = "output") -> Path:
    output = job.outputs[index]
    subfolder = f"comfy-gateway/{job.job_id}"
    if output.subfolder:
        subfolder = f"{subfolder}/{output.subfolder}"
    return sim.data_dir / folder / subfolder / output.filename


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def png_bytes(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def all_close_to(image: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    """Every pixel within 1 of ``rgb`` (ComfyUI truncates floats when saving)."""
    return bool((np.abs(image.astype(int) - np.array(rgb)) <= 1).all())


async def test_image_output_is_stored_with_the_backend_file_sha256(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    job_id = await harness.submit(invert_graph(color=0x102030))
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.progress == 100.0
    assert len(job.outputs) == 1
    output = job.outputs[0]
    assert (output.index, output.node_id, output.kind) == (0, "3", "image")
    assert output.content_type == "image/png"
    assert output.storage_key == f"{TENANT}/{job_id}/0-{output.filename}"
    on_backend = backend_file(sim, job, 0)
    assert output.sha256 == sha256_of(on_backend)
    assert output.size_bytes == on_backend.stat().st_size
    stored = await harness.blob_bytes(output.storage_key)
    assert stored == on_backend.read_bytes()
    assert set(job.timings) >= {"queue_wait_ms", "upload_ms", "execution_ms", "collect_ms"}
    assert job.started_at is not None


async def test_completed_prompt_is_deleted_from_history_and_ran_once(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    job_id = await harness.submit(invert_graph())
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED
    ran = [item for item in await executions(sim.url) if item["prompt_id"] == job_id]
    assert len(ran) == 1
    assert ran[0]["client_id"].startswith("cgw-")
    # Deleted shortly after the job ended, together with other finished prompts; the
    # flush does now what the janitor's timer does a moment later.
    await harness.pool.members[0].history.flush()
    async with sim_control(sim.url) as client:
        history = (await client.get(f"/history/{job_id}")).json()
    assert history == {}
    attempts = await harness.store.list_attempts(TENANT, job_id)
    assert [(a.prompt_id, a.backend, a.outcome) for a in attempts] == [
        (job_id, sim.url, "completed")
    ]


async def test_video_output_is_a_video(harness: WorkerHarness, sim: SimulatorProcess) -> None:
    job_id = await harness.submit(video_graph())
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    [output] = job.outputs
    assert (output.kind, output.content_type) == ("video", "video/mp4")
    assert output.filename.endswith(".mp4")
    assert output.subfolder == "video"  # the job folder the gateway added is not shown
    assert output.sha256 == sha256_of(backend_file(sim, job, 0))


async def test_audio_output_is_audio(harness: WorkerHarness, sim: SimulatorProcess) -> None:
    job_id = await harness.submit(audio_graph())
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    [output] = job.outputs
    assert output.kind == "audio"
    assert output.content_type.startswith("audio/")
    assert output.sha256 == sha256_of(backend_file(sim, job, 0))


async def test_uploaded_media_is_read_by_the_graph(harness: WorkerHarness) -> None:
    job_id = await harness.submit(
        load_invert_graph("photo.png"), media={"photo.png": png_bytes((10, 100, 200))}
    )
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    result = pixels(await harness.blob_bytes(job.outputs[0].storage_key))
    assert all_close_to(result, (245, 155, 55))


async def test_two_jobs_with_the_same_media_name_keep_their_own_pixels(
    harness: WorkerHarness,
) -> None:
    red = await harness.submit(
        load_invert_graph("in.png"), media={"in.png": png_bytes((255, 0, 0))}
    )
    blue = await harness.submit(
        load_invert_graph("in.png"), media={"in.png": png_bytes((0, 0, 255))}
    )
    red_job = await harness.wait_terminal(red)
    blue_job = await harness.wait_terminal(blue)

    assert red_job.status is blue_job.status is JobStatus.COMPLETED
    red_pixels = pixels(await harness.blob_bytes(red_job.outputs[0].storage_key))
    blue_pixels = pixels(await harness.blob_bytes(blue_job.outputs[0].storage_key))
    assert all_close_to(red_pixels, (0, 255, 255))
    assert all_close_to(blue_pixels, (255, 255, 0))


async def test_preview_only_graph_gives_temporary_outputs(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    job_id = await harness.submit(preview_only_graph())
    job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.COMPLETED, job.error
    assert job.outputs
    assert all(output.temporary for output in job.outputs)
    output = job.outputs[0]
    on_backend = sim.data_dir / "temp" / output.subfolder / output.filename
    assert output.sha256 == sha256_of(on_backend)


async def test_progress_is_published_monotonic_then_100(
    harness: WorkerHarness, sim: SimulatorProcess
) -> None:
    await sim_config(sim.url, node_seconds=0.2)
    job_id = await harness.submit(invert_graph())
    seen: list[float] = []

    def record(job: Job) -> bool:
        seen.append(job.progress)
        return job.is_terminal

    job = await harness.wait_for(job_id, record, timeout_s=20)

    assert job.status is JobStatus.COMPLETED
    assert seen == sorted(seen)
    assert any(0 < progress < 100 for progress in seen)
    assert seen[-1] == 100.0
    assert job.progress_details["nodes_total"] == 3
    assert job.progress_details["nodes_done"] == 3
    assert job.progress_details["current_node"] is None
