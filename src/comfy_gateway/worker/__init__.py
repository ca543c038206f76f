"""The worker: claims queued jobs and runs them on ComfyUI backends.

::

    pool = BackendPool.from_settings(settings)
    worker = Worker(WorkerOptions.from_settings(settings), store=store, blobs=blobs,
                    events=events, backends=pool)
    await worker.run(stop)          # until stop is set; the pool also answers /health
"""

from comfy_gateway.worker.backend_pool import Backend, BackendPool, BackendStatus
from comfy_gateway.worker.options import WorkerOptions
from comfy_gateway.worker.retry_backoff import RetryBackoff
from comfy_gateway.worker.runner import Worker

__all__ = ["Backend", "BackendPool", "BackendStatus", "RetryBackoff", "Worker", "WorkerOptions"]
