"""A full output store fails the job `storage_full` and keeps what was already stored."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import IO

from comfy_gateway.jobs import JobStatus
from comfy_gateway.storage import LocalBlobStore
from integration.worker.graphs import invert_graph
from integration.worker.harness import running_worker
from support.simulator_process import SimulatorProcess


class DiskFillsUp:
    """A file writer that accepts ``room`` writes, then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.writes = 0

    def __call__(self, handle: IO[bytes], chunk: bytes) -> None:
        self.writes += 1
        if self.writes > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        handle.write(chunk)


async def test_a_full_disk_fails_the_job_and_keeps_earlier_outputs(
    sim: SimulatorProcess, tmp_path: Path
) -> None:
    disk = DiskFillsUp(room=1)  # each tiny PNG is one chunk: the first fits, the second not
    # Every output a file, so the injected writer sees it (the small-blob database has
    # its own full-disk test in tests/integration/storage).
    blobs = LocalBlobStore(tmp_path / "blobs", file_writer=disk, small_blob_bytes=0)
    graph = invert_graph(size=8)
    graph["1"]["inputs"]["batch_size"] = 2
    async with running_worker(sim.url, tmp_path, blobs=blobs) as harness:
        job_id = await harness.submit(graph)
        job = await harness.wait_terminal(job_id)

    assert job.status is JobStatus.FAILED
    assert job.error is not None
    assert job.error.code == "storage_full"
    assert [output.index for output in job.outputs] == [0]
    stored = [path for path in (tmp_path / "blobs").rglob("*") if path.is_file()]
    assert not [path for path in stored if path.name.startswith(".incoming-")]
