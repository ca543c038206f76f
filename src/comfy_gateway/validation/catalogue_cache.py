"""Per-backend node catalogues kept as JSON files in the data folder.

``<data_dir>/catalogues/<backend slug>.json`` holds a backend's last ``/object_info``
answer and the model files declared for it, so validation works from the first request
after a restart, before (or without) any backend being up. A catalogue file such as the
captured ``object_info.json`` can stand in for a backend that was never reached.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from comfy_gateway.comfy import ComfyHttpClient, backend_slug
from comfy_gateway.errors import ComfyProtocolError, ConfigError
from comfy_gateway.validation.node_catalogue import NodeCatalogue

logger = logging.getLogger(__name__)


class CatalogueCache:
    """In-memory catalogues by backend slug, written through to the data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "catalogues"
        self._catalogues: dict[str, NodeCatalogue] = {}

    def path_for(self, backend: str) -> Path:
        return self.folder / f"{backend_slug(backend)}.json"

    def get(self, backend: str) -> NodeCatalogue | None:
        return self._catalogues.get(backend_slug(backend))

    def all(self) -> dict[str, NodeCatalogue]:
        """Every known catalogue by backend slug."""
        return dict(self._catalogues)

    def load_all(self) -> dict[str, NodeCatalogue]:
        """Read every saved catalogue (at start); an unreadable file is skipped, logged."""
        for path in sorted(self.folder.glob("*.json")):
            try:
                self._catalogues[path.stem] = _read_catalogue(path)
            except (OSError, ValueError, ComfyProtocolError) as exc:
                logger.warning("ignoring catalogue file %s: %s", path, exc)
        return self.all()

    def put(self, backend: str, catalogue: NodeCatalogue) -> None:
        """Keep ``catalogue`` for ``backend`` and write it (atomically) to its file."""
        self._catalogues[backend_slug(backend)] = catalogue
        _write_json(self.path_for(backend), catalogue.to_json())

    def load_file(
        self,
        backend: str,
        path: Path,
        *,
        model_files: Mapping[str, Iterable[str]] | None = None,
    ) -> NodeCatalogue:
        """Use a catalogue file (saved or a bare ``/object_info``) for ``backend``."""
        try:
            catalogue = _read_catalogue(path)
        except (OSError, ValueError, ComfyProtocolError) as exc:
            raise ConfigError(f"cannot use {path} as a node catalogue: {exc}") from exc
        for folder, names in (model_files or {}).items():
            catalogue = catalogue.with_model_files(folder, names)
        self.put(backend, catalogue)
        return catalogue

    def declare_model_files(
        self, backend: str, model_files: Mapping[str, Iterable[str]]
    ) -> NodeCatalogue:
        """Record model files installed on ``backend`` that its catalogue does not list."""
        catalogue = self.get(backend)
        if catalogue is None:
            raise ConfigError(f"no node catalogue is known for backend {backend!r} yet")
        for folder, names in model_files.items():
            catalogue = catalogue.with_model_files(folder, names)
        self.put(backend, catalogue)
        return catalogue

    async def refresh(self, backend: str, http: ComfyHttpClient) -> NodeCatalogue:
        """Fetch ``GET /object_info`` (on backend start or restart), keeping declared files.

        ``ComfyError`` from the backend propagates; the previous catalogue stays in place.
        """
        raw = await http.object_info_raw()
        previous = self.get(backend)
        declared = previous.declared_model_files if previous is not None else None
        catalogue = NodeCatalogue.from_object_info(raw, model_files=declared)
        await asyncio.to_thread(self.put, backend, catalogue)
        return catalogue


def _read_catalogue(path: Path) -> NodeCatalogue:
    return NodeCatalogue.from_json(json.loads(path.read_text(encoding="utf-8")))


def _write_json(path: Path, data: object) -> None:
    # Write beside, then rename: a crash mid-write never leaves a truncated catalogue.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(temporary, path)
