"""Server-Sent Events decoding (pure), as the WHATWG "event stream interpretation" says.

The decoder takes lines already split (httpx splits on CRLF, LF and CR alike) and hands
back an event at every blank line that ends a block with data. It keeps the stream's
state a reconnecting client needs: the last event id (which survives events that carry
none) and the ``retry:`` delay the server asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from comfy_gateway.client.errors import GatewayProtocolError

DEFAULT_EVENT = "message"
_BOM = "\ufeff"


@dataclass(frozen=True, kw_only=True)
class ServerSentEvent:
    """One dispatched event: its type, its data lines joined by ``\\n``, and the last
    event id in force when it was dispatched."""

    event: str
    data: str
    id: str | None


@dataclass(frozen=True, kw_only=True)
class JobEvent:
    """An event of a job's stream (``status``, ``progress``, ``output``, ``end``) with
    its JSON data."""

    event: str
    id: str | None
    data: dict[str, Any]


class SseDecoder:
    """Turns lines into events; one decoder per connection, seeded with the last id."""

    def __init__(self, last_event_id: str | None = None) -> None:
        self.last_event_id = last_event_id
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []
        self._first_line = True

    def feed_line(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its ending); return the event a blank line completes."""
        if self._first_line:
            self._first_line = False
            line = line.removeprefix(_BOM)
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, such as the server's keep-alive
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        self._apply_field(name, value)
        return None

    def _apply_field(self, name: str, value: str) -> None:
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        # Any other field is ignored, as the standard asks.

    def _dispatch(self) -> ServerSentEvent | None:
        event, data = self._event or DEFAULT_EVENT, self._data
        self._event, self._data = "", []
        if not data:
            return None  # a block with no data (only id/retry/event) dispatches nothing
        return ServerSentEvent(event=event, data="\n".join(data), id=self.last_event_id)


def decode_lines(lines: Iterable[str], decoder: SseDecoder | None = None) -> list[ServerSentEvent]:
    """Every event the lines complete (a block without its closing blank line is dropped,
    as a stream cut mid-event must be)."""
    decoder = decoder or SseDecoder()
    events = (decoder.feed_line(line) for line in lines)
    return [event for event in events if event is not None]


def job_event(event: ServerSentEvent) -> JobEvent:
    """The event with its data parsed; our server always sends one JSON object."""
    try:
        data = json.loads(event.data)
    except json.JSONDecodeError as exc:
        raise GatewayProtocolError(
            f"event {event.event!r} (id {event.id}) carries data that is not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise GatewayProtocolError(f"event {event.event!r} (id {event.id}) is not a JSON object")
    return JobEvent(event=event.event, id=event.id, data=data)
