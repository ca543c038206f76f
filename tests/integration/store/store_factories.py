"""Every JobStore implementation the contract suite runs against: THE place to add one.

A factory opens a store on a fresh database inside a test's temporary folder, and
names that database with a ``location`` string that another OS process can open too
(the cross-process claim test hands it to ``claim_worker.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from comfy_gateway.store import Clock, JobStore, open_sqlite_store


@dataclass(frozen=True, kw_only=True)
class StoreFactory:
    name: str
    new_location: Callable[[Path], str]
    open: Callable[[str, Clock | None], Awaitable[JobStore]]


async def _open_sqlite(location: str, clock: Clock | None) -> JobStore:
    return await open_sqlite_store(location, clock=clock)


SQLITE = StoreFactory(
    name="sqlite",
    new_location=lambda folder: str(folder / "jobs.sqlite3"),
    open=_open_sqlite,
)

STORE_FACTORIES: dict[str, StoreFactory] = {factory.name: factory for factory in (SQLITE,)}
