"""A client for comfy-gateway's own HTTP API (``/v1/jobs``), used by ``comfy-gateway
submit`` and usable as a library::

    async with GatewayClient("http://127.0.0.1:8000", api_key="…") as client:
        job = await client.submit(Submission(workflow=graph))
        async for event in client.stream_events(job.job_id):
            ...
"""

from comfy_gateway.client.errors import (
    GatewayApiError,
    GatewayClientError,
    GatewayProtocolError,
    GatewayUnreachable,
    OutputIntegrityError,
    UnsafeOutputPath,
)
from comfy_gateway.client.gateway_client import GatewayClient
from comfy_gateway.client.job_view import JobErrorView, JobView, OutputView, ProgressView
from comfy_gateway.client.sse import JobEvent, ServerSentEvent, SseDecoder
from comfy_gateway.client.submission import (
    InputOverride,
    MediaFile,
    Submission,
    parse_input_override,
    parse_param,
)
from comfy_gateway.client.sync_client import SyncGatewayClient
from comfy_gateway.client.verified_write import DownloadedFile

__all__ = [
    "DownloadedFile",
    "GatewayApiError",
    "GatewayClient",
    "GatewayClientError",
    "GatewayProtocolError",
    "GatewayUnreachable",
    "InputOverride",
    "JobErrorView",
    "JobEvent",
    "JobView",
    "MediaFile",
    "OutputIntegrityError",
    "OutputView",
    "ProgressView",
    "ServerSentEvent",
    "SseDecoder",
    "Submission",
    "SyncGatewayClient",
    "UnsafeOutputPath",
    "parse_input_override",
    "parse_param",
]
