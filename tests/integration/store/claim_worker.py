"""A claimer in its own OS process, for the cross-process claim test.

Usage: ``PYTHONPATH=tests python claim_worker.py FACTORY LOCATION WORKER_ID``.
Prints ``ready`` once the store is open, waits for a ``go`` line on stdin (so every
worker starts together), then claims until the queue is empty, printing
``claimed JOB_ID TOKEN`` per claim and ``done`` at the end.
"""

from __future__ import annotations

import asyncio
import sys

from integration.store.store_factories import STORE_FACTORIES

LEASE_S = 300.0


async def claim_all(factory_name: str, location: str, worker_id: str) -> None:
    store = await STORE_FACTORIES[factory_name].open(location, None)
    try:
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("expected 'go' on stdin")
        while (claim := await store.claim_next_job(worker_id, LEASE_S)) is not None:
            print(f"claimed {claim.job.job_id} {claim.fencing_token}", flush=True)
        print("done", flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(claim_all(sys.argv[1], sys.argv[2], sys.argv[3]))
