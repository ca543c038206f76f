"""Looking a prompt up on its backend: is it there, and how did it end."""

from __future__ import annotations

from comfy_gateway.comfy import ComfyHttpClient, PromptResult, result_from_history
from comfy_gateway.errors import ComfyProtocolError


async def prompt_is_on_backend(http: ComfyHttpClient, prompt_id: str) -> bool:
    """Queue first, then history: a prompt finishing in between is then in history.

    ComfyUI 0.3.64 accepts a duplicate prompt id silently, so a job taken over must be
    looked up before it is submitted again.
    """
    snapshot = await http.queue()
    if snapshot.state_of(prompt_id) is not None:
        return True
    return await http.history(prompt_id) is not None


async def result_from_backend_history(http: ComfyHttpClient, prompt_id: str) -> PromptResult:
    """The outcome ``/history`` recorded, for a prompt whose verdict the socket missed."""
    entry = await http.history(prompt_id)
    if entry is None:
        raise ComfyProtocolError(
            f"prompt {prompt_id} ended on ComfyUI at {http.base_url} with no verdict on the "
            "socket nor in /history",
            backend=http.backend,
        )
    return result_from_history(entry)
