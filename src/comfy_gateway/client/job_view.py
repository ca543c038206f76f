"""The job body of API.md as the client reads it: frozen views over the JSON.

Reading is lenient about fields it does not need (a newer server may add some, an older
one may lack some) and strict only about what identifies a job: ``job_id`` and
``status``. The raw body stays available as ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from comfy_gateway.client.errors import GatewayProtocolError

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, kw_only=True)
class ProgressView:
    """``progress`` (0–100) and its ``progress_details``."""

    percent: float = 0.0
    current_node: str | None = None
    nodes_done: int | None = None
    nodes_total: int | None = None
    step: int | None = None
    steps: int | None = None

    @classmethod
    def from_body(cls, percent: Any, details: Any) -> ProgressView:
        details = _mapping(details)
        return cls(
            percent=float(percent) if isinstance(percent, int | float) else 0.0,
            current_node=_text(details.get("current_node")),
            nodes_done=_int(details.get("nodes_done")),
            nodes_total=_int(details.get("nodes_total")),
            step=_int(details.get("step")),
            steps=_int(details.get("steps")),
        )


@dataclass(frozen=True, kw_only=True)
class JobErrorView:
    """Why a job failed: ``{code, message, node_id, node_type, exception_type}``."""

    code: str
    message: str
    node_id: str | None = None
    node_type: str | None = None
    exception_type: str | None = None

    @classmethod
    def from_body(cls, body: Any) -> JobErrorView | None:
        if not isinstance(body, dict):
            return None
        return cls(
            code=str(body.get("code") or "error"),
            message=str(body.get("message") or ""),
            node_id=_text(body.get("node_id")),
            node_type=_text(body.get("node_type")),
            exception_type=_text(body.get("exception_type")),
        )


@dataclass(frozen=True, kw_only=True)
class OutputView:
    """One output file of a job."""

    index: int
    filename: str
    url: str
    kind: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    node_id: str | None = None
    temporary: bool = False

    @classmethod
    def from_body(cls, body: Any) -> OutputView:
        body = _mapping(body)
        index = _int(body.get("index"))
        url = body.get("url")
        if index is None or not isinstance(url, str):
            raise GatewayProtocolError(f"an output without index or url: {body!r:.200}")
        return cls(
            index=index,
            filename=str(body.get("filename") or ""),
            url=url,
            kind=_text(body.get("kind")),
            content_type=_text(body.get("content_type")),
            size_bytes=_int(body.get("size_bytes")),
            sha256=_text(body.get("sha256")),
            node_id=_text(body.get("node_id")),
            temporary=bool(body.get("temporary", False)),
        )


@dataclass(frozen=True, kw_only=True)
class JobView:
    """A job as ``GET /v1/jobs/{id}`` (or an SSE ``status``/``end`` event) shows it."""

    job_id: str
    status: str
    progress: ProgressView = field(default_factory=ProgressView)
    error: JobErrorView | None = None
    outputs: tuple[OutputView, ...] = ()
    timings: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    attempts: int | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def output(self, index: int) -> OutputView:
        for output in self.outputs:
            if output.index == index:
                return output
        raise KeyError(f"job {self.job_id} has no output {index}")

    @classmethod
    def from_body(cls, body: Any) -> JobView:
        if not isinstance(body, dict):
            raise GatewayProtocolError(f"a job body must be a JSON object, got {body!r:.200}")
        job_id, status = body.get("job_id"), body.get("status")
        if not isinstance(job_id, str) or not isinstance(status, str):
            raise GatewayProtocolError(f"a job body without job_id or status: {body!r:.200}")
        outputs = body.get("outputs")
        return cls(
            job_id=job_id,
            status=status,
            progress=ProgressView.from_body(body.get("progress"), body.get("progress_details")),
            error=JobErrorView.from_body(body.get("error")),
            outputs=tuple(OutputView.from_body(item) for item in outputs or ()),
            timings=_mapping(body.get("timings")),
            created_at=_text(body.get("created_at")),
            started_at=_text(body.get("started_at")),
            completed_at=_text(body.get("completed_at")),
            attempts=_int(body.get("attempts")),
            body=body,
        )
