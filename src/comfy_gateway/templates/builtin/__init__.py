"""Templates that ship with comfy-gateway, built by pure Python functions."""

from __future__ import annotations

from comfy_gateway.templates.builtin import wan22_i2v, wan22_s2v
from comfy_gateway.templates.model import Template


def builtin_templates() -> list[Template]:
    """Every built-in template (a fresh list; templates themselves are immutable)."""
    return [wan22_i2v.template(), wan22_s2v.template()]


__all__ = ["builtin_templates"]
