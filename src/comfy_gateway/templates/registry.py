"""The templates a gateway serves: built-ins, overridden by files in configured folders.

Loading never raises for one bad file: a broken or unsafe template file is skipped,
logged and listed in :attr:`TemplateRegistry.problems`, so one typo does not take the
service down. A folder template whose name is a built-in's replaces the built-in (with a
warning); of two folder templates with one name, the later folder wins (with a warning).
``reload()`` builds the new set aside and swaps it in whole, so a request never sees a
half-loaded registry (call it on SIGHUP).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_gateway.templates.errors import (
    TemplateError,
    TemplateInvalid,
    TemplateNotFound,
    TemplatePathRefused,
)
from comfy_gateway.templates.model import NAME_PATTERN, Template
from comfy_gateway.templates.parsing import parse_template
from comfy_gateway.templates.paths import fully_unquoted, is_inside, resolve_in_folders

logger = logging.getLogger(__name__)

#: Template files are small graphs; anything bigger is a mistake we refuse to parse.
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class LoadProblem:
    """A template file that was skipped, and why."""

    path: str
    reason: str


class TemplateRegistry:
    """Templates by name, loaded at construction and again on :meth:`reload`."""

    def __init__(
        self,
        folders: Sequence[Path] = (),
        *,
        builtins: Callable[[], Sequence[Template]] | None = None,
    ) -> None:
        self._folders = tuple(Path(folder) for folder in folders)
        self._builtins = builtins if builtins is not None else _default_builtins
        self._templates: dict[str, Template] = {}
        self._problems: tuple[LoadProblem, ...] = ()
        self.reload()

    @property
    def folders(self) -> tuple[Path, ...]:
        return self._folders

    @property
    def problems(self) -> tuple[LoadProblem, ...]:
        return self._problems

    def reload(self) -> None:
        """Load built-ins and every folder's ``*.json`` again; swap the result in."""
        templates = {template.name: template for template in self._builtins()}
        problems: list[LoadProblem] = []
        for folder in self._folders:
            for template in _load_folder(folder, problems):
                _warn_if_overriding(templates.get(template.name), template)
                templates[template.name] = template
        self._templates, self._problems = templates, tuple(problems)

    def templates(self) -> list[Template]:
        """Every template, sorted by name."""
        return [self._templates[name] for name in sorted(self._templates)]

    def get(self, name: str) -> Template:
        """The template called ``name``; refuses path-like names with a 403 error."""
        template = self._templates.get(name)
        if template is not None:
            return template
        _refuse_path_like(name)
        raise TemplateNotFound(name)

    def read_path(self, relative: str) -> Any:
        """The decoded JSON of a file inside the folders (``workflow_path`` of ``/run``)."""
        path = resolve_in_folders(relative, self._folders)
        return _read_json(path)

    def load_path(self, relative: str) -> Template:
        """The template document at a path inside the folders."""
        return parse_template(self.read_path(relative), source=relative)


def _default_builtins() -> Sequence[Template]:
    from comfy_gateway.templates.builtin import builtin_templates

    return builtin_templates()


def _refuse_path_like(name: str) -> None:
    decoded = fully_unquoted(name)
    if NAME_PATTERN.fullmatch(decoded) is None and any(
        mark in decoded for mark in ("/", "\\", "..", "\x00")
    ):
        raise TemplatePathRefused(name, "a template name is not a path")


def _load_folder(folder: Path, problems: list[LoadProblem]) -> list[Template]:
    if not folder.is_dir():
        problems.append(LoadProblem(path=str(folder), reason="not a folder"))
        logger.warning("template folder %s does not exist", folder)
        return []
    loaded = []
    for path in sorted(folder.rglob("*.json")):
        template = _load_file(folder, path, problems)
        if template is not None:
            loaded.append(template)
    return loaded


def _load_file(folder: Path, path: Path, problems: list[LoadProblem]) -> Template | None:
    relative = path.relative_to(folder).as_posix()
    try:
        if not is_inside(path.resolve(), folder):
            raise TemplatePathRefused(relative, "it resolves outside the template folder")
        return parse_template(_read_json(path), source=relative)
    except TemplateError as exc:
        problems.append(LoadProblem(path=str(path), reason=str(exc)))
        logger.warning("template %s skipped: %s", path, exc)
        return None


def _read_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise TemplateInvalid(f"larger than {MAX_TEMPLATE_BYTES} bytes", source=path.name)
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateInvalid(f"cannot read JSON: {exc}", source=path.name) from exc


def _warn_if_overriding(previous: Template | None, template: Template) -> None:
    if previous is not None:
        logger.warning(
            "template %r from %s overrides the one from %s",
            template.name,
            template.source,
            previous.source,
        )
