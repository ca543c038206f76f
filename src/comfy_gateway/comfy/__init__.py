"""The async ComfyUI protocol client: HTTP calls, typed WebSocket events, prompt runs.

Public API (everything else in this package is private)::

    async with ComfyHttpClient("http://127.0.0.1:8188") as http:
        async with BackendConnection(http) as connection:
            result = await run_prompt(http, connection, graph).wait()

Errors are the ``ComfyError`` branch of :mod:`comfy_gateway.errors`.
"""

from comfy_gateway.comfy.client_identity import backend_slug, make_client_id
from comfy_gateway.comfy.connection import BackendConnection
from comfy_gateway.comfy.events import (
    Event,
    Executed,
    Executing,
    ExecutionCached,
    ExecutionError,
    ExecutionInterrupted,
    ExecutionStart,
    ExecutionSuccess,
    FeatureFlags,
    NodeProgress,
    PreviewImage,
    Progress,
    ProgressState,
    Status,
    UnknownEvent,
    parse_binary_frame,
    parse_text_frame,
)
from comfy_gateway.comfy.http_client import ComfyHttpClient, ComfyTimeouts
from comfy_gateway.comfy.http_protocol import (
    HistoryEntry,
    QueuedPrompt,
    QueueItem,
    QueueSnapshot,
    UploadedFile,
)
from comfy_gateway.comfy.node_definitions import (
    InputSpec,
    NodeDefinition,
    OutputSpec,
    parse_object_info,
)
from comfy_gateway.comfy.prompt_feed import PromptFeed
from comfy_gateway.comfy.prompt_outcome import (
    PromptFailed,
    PromptInterrupted,
    PromptResult,
    PromptSucceeded,
    result_from_history,
)
from comfy_gateway.comfy.prompt_run import PromptRun, run_prompt
from comfy_gateway.comfy.reconnect_policy import ReconnectPolicy

__all__ = [
    "BackendConnection",
    "ComfyHttpClient",
    "ComfyTimeouts",
    "Event",
    "Executed",
    "Executing",
    "ExecutionCached",
    "ExecutionError",
    "ExecutionInterrupted",
    "ExecutionStart",
    "ExecutionSuccess",
    "FeatureFlags",
    "HistoryEntry",
    "InputSpec",
    "NodeDefinition",
    "NodeProgress",
    "OutputSpec",
    "PreviewImage",
    "Progress",
    "ProgressState",
    "PromptFailed",
    "PromptFeed",
    "PromptInterrupted",
    "PromptResult",
    "PromptRun",
    "PromptSucceeded",
    "QueueItem",
    "QueueSnapshot",
    "QueuedPrompt",
    "ReconnectPolicy",
    "Status",
    "UnknownEvent",
    "UploadedFile",
    "backend_slug",
    "make_client_id",
    "parse_binary_frame",
    "parse_object_info",
    "parse_text_frame",
    "result_from_history",
    "run_prompt",
]
