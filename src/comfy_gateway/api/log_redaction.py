"""Keep API keys out of logs: ``?api_key=`` values are replaced before a record is written.

Uvicorn's access log prints the full request target, query string included; EventSource
clients must put their key there, so every such line would otherwise carry a secret.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_API_KEY_IN_QUERY = re.compile(r"(?i)([?&;]api_key=)[^&;#\s\"']*")
#: Loggers that print request targets (uvicorn's access and error logs).
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact_api_key(text: str) -> str:
    """``text`` with every ``api_key=`` query value replaced."""
    return _API_KEY_IN_QUERY.sub(rf"\g<1>{REDACTED}", text)


def _redact_value(value: object) -> object:
    return redact_api_key(value) if isinstance(value, str) else value


class ApiKeyRedactingFilter(logging.Filter):
    """Rewrites a record's message and string arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_api_key(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(value) for key, value in record.args.items()}
        return True


def install_log_redaction(logger_names: tuple[str, ...] = REDACTED_LOGGERS) -> None:
    """Add the filter to each logger once (calling it again adds nothing)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ApiKeyRedactingFilter) for f in logger.filters):
            logger.addFilter(ApiKeyRedactingFilter())
