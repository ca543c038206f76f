"""The catalogues an API process validates with: the workers' saved files, re-read when
they change, and a stand-in file for backends whose catalogue was never fetched.

Workers write ``<data_dir>/catalogues/<slug>.json`` when a backend (re)starts; the API may
be another process, so it checks the files' modification times on every use (one
``stat`` per file) and parses only the files that changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from comfy_gateway.comfy import backend_slug
from comfy_gateway.errors import ComfyProtocolError
from comfy_gateway.validation.node_catalogue import NodeCatalogue

logger = logging.getLogger(__name__)

#: The name the stand-in catalogue goes by when no backend is configured.
STAND_IN_NAME = "catalogue-file"

_Stamp = tuple[int, int]  # (mtime_ns, size): cheap, and changes with every rewrite


def catalogue_name(url: str) -> str:
    """The name a backend's catalogue goes by (its file's stem)."""
    return backend_slug(url)


class CatalogueFiles:
    """Catalogues by backend slug for the configured backends (all saved ones if none)."""

    def __init__(
        self, data_dir: Path, *, backends: Sequence[str] = (), stand_in: Path | None = None
    ) -> None:
        self.folder = data_dir / "catalogues"
        self.slugs = tuple(dict.fromkeys(backend_slug(url) for url in backends))
        self.stand_in = stand_in
        self._loaded: dict[Path, tuple[_Stamp, NodeCatalogue | None]] = {}

    def current(self) -> dict[str, NodeCatalogue]:
        """The catalogue of each backend; empty when none is known at all."""
        saved = {path.stem: catalogue for path in self._files() if (catalogue := self._load(path))}
        fallback = self._load(self.stand_in) if self.stand_in is not None else None
        if not self.slugs:
            return saved or ({STAND_IN_NAME: fallback} if fallback is not None else {})
        chosen = {slug: saved.get(slug) or fallback for slug in self.slugs}
        return {slug: catalogue for slug, catalogue in chosen.items() if catalogue is not None}

    def _files(self) -> list[Path]:
        try:
            return sorted(self.folder.glob("*.json"))
        except OSError:
            return []

    def _load(self, path: Path) -> NodeCatalogue | None:
        """The file's catalogue, parsed again only when its stamp changed."""
        try:
            status = path.stat()
        except OSError:
            return None
        stamp = (status.st_mtime_ns, status.st_size)
        known = self._loaded.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        catalogue = _parse(path)
        self._loaded[path] = (stamp, catalogue)
        return catalogue


def _parse(path: Path) -> NodeCatalogue | None:
    try:
        return NodeCatalogue.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ComfyProtocolError) as exc:
        logger.warning("ignoring node catalogue %s: %s", path, exc)
        return None
