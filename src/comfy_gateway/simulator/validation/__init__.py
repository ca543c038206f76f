"""`POST /prompt` validation exactly as ComfyUI 0.3.64 answers it.

    check_prompt_request(raw_body, catalogue)
        → PromptAccepted        200 {"prompt_id", "number", "node_errors"}
        → PromptRejected        400 JSON body {"error", "node_errors"}
        → PromptBodyUnparseable 500 text/plain

Modules: `request` (the body), `prompt` (validate_prompt), `inputs` (validate_inputs),
`custom` (loaders' file checks), `reasons` (error objects), `tracebacks` (crash frames).
"""

from comfy_gateway.simulator.validation.request import check_prompt_request
from comfy_gateway.simulator.validation.results import (
    INTERNAL_ERROR_TEXT,
    PromptAccepted,
    PromptBodyUnparseable,
    PromptCheck,
    PromptRejected,
)

__all__ = [
    "INTERNAL_ERROR_TEXT",
    "PromptAccepted",
    "PromptBodyUnparseable",
    "PromptCheck",
    "PromptRejected",
    "check_prompt_request",
]
