"""The import rules of docs/architecture.md, checked on the source (arrows point down)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "comfy_gateway"

# package → the comfy_gateway packages/modules it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "jobs": {"errors"},
    "comfy": {"errors"},
    "simulator": {"errors"},
    "net": {"errors"},
    "storage": {"errors"},
    "store": {"errors", "jobs"},
    "events": {"errors", "jobs", "store"},
    "worker": {
        "errors",
        "jobs",
        "store",
        "storage",
        "events",
        "comfy",
        "config",
        "backend_health",
        "supervisor",
        "validation",
    },
    "api": {
        "errors",
        "jobs",
        "store",
        "storage",
        "events",
        "net",
        "config",
        "auth",
        "backend_health",
        "templates",
        "validation",
    },
    "client": {"errors"},
    "validation": {"errors", "comfy"},
    "templates": {"errors", "jobs"},
    "supervisor": {"errors", "backend_health"},
    "retention": {"errors", "jobs", "store", "storage", "config"},
    "webhooks": {"errors", "jobs", "store", "net", "config"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "comfy_gateway" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_lies_below_it(package: str) -> None:
    allowed = ALLOWED[package] | {package}
    violations = {
        str(path.relative_to(SRC)): sorted(imported_packages(path) - allowed)
        for path in (SRC / package).rglob("*.py")
    }
    assert {path: bad for path, bad in violations.items() if bad} == {}
