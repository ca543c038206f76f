"""Template folders from settings, and the reload on SIGHUP that ``serve`` installs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from comfy_gateway.config import GatewaySettings
from comfy_gateway.runtime import load_templates, reload_templates_on_sighup
from integration.api.template_fixtures import SOLID_COLOR, solid_color_document


def test_template_folders_come_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_TEMPLATE_FOLDERS", f"{tmp_path}/a, {tmp_path}/b")

    settings = GatewaySettings()

    assert settings.template_folders == [tmp_path / "a", tmp_path / "b"]
    assert GatewaySettings(template_folders=[]).template_folders == []


async def test_sighup_reloads_the_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = load_templates(GatewaySettings(template_folders=[tmp_path]))
    names = {template.name for template in registry.templates()}
    assert SOLID_COLOR not in names
    assert "wan22-i2v" in names
    reloaded = asyncio.Event()
    reload = registry.reload

    def reload_and_tell() -> None:
        reload()
        reloaded.set()

    monkeypatch.setattr(registry, "reload", reload_and_tell)
    (tmp_path / "solid.json").write_text(json.dumps(solid_color_document()), encoding="utf-8")
    with reload_templates_on_sighup(registry):
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.wait_for(reloaded.wait(), 5)

    assert registry.get(SOLID_COLOR).version == "2"
