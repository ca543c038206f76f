"""What `check_prompt_request` decides about one `POST /prompt` body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# aiohttp's body for an unhandled exception in a handler: ComfyUI answers this (500,
# text/plain) to a body that is not JSON, an empty body, or a `prompt` it cannot walk.
INTERNAL_ERROR_TEXT = "500 Internal Server Error\n\nServer got itself in trouble"


@dataclass(frozen=True, kw_only=True)
class PromptAccepted:
    """200: queue it. `node_errors` may be non-empty (outputs that failed are dropped).

    `prompt` holds the values as validation coerced them (`"64"` → 64). `prompt_id` is
    None when the body gave none (the server makes a uuid4). `number_hint` is the body's
    `number` as ComfyUI reads it (a float); when it is None the server takes its counter,
    negated when `front` is true.
    """

    prompt: dict[str, Any]
    prompt_id: str | None
    client_id: str | None
    extra_data: dict[str, Any]
    front: bool
    number_hint: float | None
    outputs_to_execute: list[str]
    node_errors: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class PromptRejected:
    """400 with this JSON body: `{"error": {...}, "node_errors": {...}}`.

    `advances_counter`: ComfyUI's prompt counter moves on every POST without an explicit
    `number`, rejected ones included.
    """

    body: dict[str, Any]
    advances_counter: bool = True


@dataclass(frozen=True, kw_only=True)
class PromptBodyUnparseable:
    """500 text/plain with `text`.

    `advances_counter` is true when ComfyUI had already counted the request before it
    failed (e.g. `prompt` is a string), false when the body was not JSON at all.
    """

    text: str = INTERNAL_ERROR_TEXT
    advances_counter: bool = False


PromptCheck = PromptAccepted | PromptRejected | PromptBodyUnparseable
