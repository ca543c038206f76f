"""What each backend can run, so the worker claims only jobs it can place.

Each backend's catalogue is fetched from ``GET /object_info`` whenever it becomes ready
(a new connection: first start, reconnect or ComfyUI restart) and saved for the API.
A job's stored requirements are compared with them at claim time:

- a ready backend with a free slot meets them (or its catalogue is unknown): claim;
- no configured backend meets them: claim it too, re-fetch the catalogues (a model may
  have been installed since) and fail it ``unsupported_backend`` if still unmet;
- otherwise only a busy or down backend can run it: leave it queued, it waits.

A job with no stored requirements (no catalogue was known at submit) is claimed by any
ready backend; ComfyUI validates it on ``POST /prompt`` (a 400 fails ``workflow_invalid``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ComfyError
from comfy_gateway.jobs.model import JobError
from comfy_gateway.store.capable_claim import RequirementsFilter
from comfy_gateway.validation import CatalogueCache, GraphRequirements
from comfy_gateway.worker.backend_pool import Backend

logger = logging.getLogger(__name__)


def requirements_from_json(data: Mapping[str, Any]) -> GraphRequirements:
    """The inverse of ``GraphRequirements.to_json``."""
    files = data.get("model_files") or {}
    return GraphRequirements(
        node_classes=frozenset(data.get("node_classes") or ()),
        model_files={folder: frozenset(names) for folder, names in files.items()},
    )


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where a claimed job goes: a backend, back to the queue, or failed (``error``)."""

    backend: Backend | None = None
    error: JobError | None = None


class BackendCatalogues:
    """The catalogue of each backend of one worker, kept in a ``CatalogueCache``."""

    def __init__(self, cache: CatalogueCache) -> None:
        self.cache = cache
        self._seen: dict[str, object] = {}  # backend url → the connection last fetched on
        cache.load_all()  # what earlier runs saw, for backends that are down now

    async def refresh_new_connections(self, members: Sequence[Backend]) -> None:
        """Fetch ``/object_info`` of each backend that (re)connected since last time."""
        for backend in members:
            if backend.ready and self._seen.get(backend.url) is not backend.connection:
                self._seen[backend.url] = backend.connection
                await self.refresh(backend)

    async def refresh(self, backend: Backend) -> None:
        try:
            await self.cache.refresh(backend.url, backend.http)
        except ComfyError as exc:
            logger.warning("node catalogue of %s not refreshed: %s", backend.url, exc)

    def unmet(self, backend: Backend, needs: GraphRequirements) -> GraphRequirements | None:
        """What ``backend`` lacks for ``needs``; None when its catalogue is unknown."""
        catalogue = self.cache.get(backend.url)
        return None if catalogue is None else needs.unmet_by(catalogue)

    def can_take_now(self, backend: Backend, raw: Mapping[str, Any] | None) -> bool:
        """Whether a job with requirements ``raw`` can go to ``backend`` without a look at
        its catalogue first: the catalogue of its current connection is known (or the job
        needs nothing known) and shows nothing missing."""
        if self._seen.get(backend.url) is not backend.connection:
            return False  # (re)connected since the last fetch: the claim loop refreshes
        return raw is None or _runs(self.unmet(backend, requirements_from_json(raw)))

    def claim_filter(
        self, members: Sequence[Backend], free: Sequence[Backend]
    ) -> RequirementsFilter:
        """The store's ``can_run`` for one claim (verdicts memoised per requirements)."""
        verdicts: dict[str, bool] = {}

        def can_run(raw: Mapping[str, Any] | None) -> bool:
            if raw is None:
                return True
            key = json.dumps(raw, sort_keys=True)
            if key not in verdicts:
                verdicts[key] = self._claimable(requirements_from_json(raw), members, free)
            return verdicts[key]

        return can_run

    def _claimable(
        self, needs: GraphRequirements, members: Sequence[Backend], free: Sequence[Backend]
    ) -> bool:
        if any(_runs(self.unmet(backend, needs)) for backend in free):
            return True
        return all(not _runs(self.unmet(backend, needs)) for backend in members)

    async def place(
        self, raw: Mapping[str, Any] | None, members: Sequence[Backend], free: Sequence[Backend]
    ) -> Placement:
        """The backend for a claimed job, a refetch first when none seems to have it."""
        if raw is None:
            return Placement(backend=free[0])
        needs = requirements_from_json(raw)
        chosen = self._first_capable(needs, free)
        if chosen is None:
            for backend in free:  # models get installed while we run: look again
                await self.refresh(backend)
            chosen = self._first_capable(needs, free)
        if chosen is not None:
            return Placement(backend=chosen)
        if any(_runs(self.unmet(backend, needs)) for backend in members):
            return Placement()  # a capable backend is busy or down: the job waits
        return Placement(error=unsupported_backend(needs, self._missing(needs, members)))

    def _first_capable(self, needs: GraphRequirements, free: Sequence[Backend]) -> Backend | None:
        return next((b for b in free if _runs(self.unmet(b, needs))), None)

    def _missing(
        self, needs: GraphRequirements, members: Sequence[Backend]
    ) -> dict[str, GraphRequirements]:
        return {
            backend.url: unmet
            for backend in members
            if (unmet := self.unmet(backend, needs)) is not None
        }


def _runs(unmet: GraphRequirements | None) -> bool:
    """Unknown catalogue (None) counts as capable: never refuse on what we do not know."""
    return unmet is None or unmet.is_empty


def unsupported_backend(
    needs: GraphRequirements, missing: Mapping[str, GraphRequirements]
) -> JobError:
    """The job's failure, naming what each configured backend lacks."""
    parts = [f"{url} lacks {_describe(unmet)}" for url, unmet in sorted(missing.items())]
    message = "no configured ComfyUI backend can run this job: " + "; ".join(parts)
    return JobError(code="unsupported_backend", message=message)


def _describe(unmet: GraphRequirements) -> str:
    found = unmet.to_json()
    words = []
    if found["node_classes"]:
        words.append("node classes " + ", ".join(found["node_classes"]))
    for folder, names in found["model_files"].items():
        words.append(f"model files in models/{folder}: " + ", ".join(names))
    return "; ".join(words) or "nothing"


def worker_catalogues(settings: GatewaySettings) -> BackendCatalogues:
    """The worker's catalogues, saved in ``<data_dir>/catalogues/`` for the API to read."""
    return BackendCatalogues(CatalogueCache(settings.data_dir))


__all__ = [
    "BackendCatalogues",
    "Placement",
    "requirements_from_json",
    "unsupported_backend",
    "worker_catalogues",
]
