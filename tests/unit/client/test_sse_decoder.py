"""The SSE decoder against the event-stream rules: comments, multi-line data, ids that
persist, ``retry``, blocks without data and a stream cut mid-event."""

from __future__ import annotations

import pytest

from comfy_gateway.client.errors import GatewayProtocolError
from comfy_gateway.client.sse import ServerSentEvent, SseDecoder, decode_lines, job_event


def test_one_event_with_id_and_type() -> None:
    events = decode_lines(["id: 7", "event: progress", 'data: {"progress": 50}', ""])
    assert events == [ServerSentEvent(event="progress", data='{"progress": 50}', id="7")]


def test_comments_are_skipped_and_keep_alive_dispatches_nothing() -> None:
    decoder = SseDecoder()
    lines = [": keep-alive", "", "data: x", ": in the middle", ""]
    assert decode_lines(lines, decoder) == [ServerSentEvent(event="message", data="x", id=None)]


def test_data_lines_join_with_newlines() -> None:
    events = decode_lines(["data: first", "data:second", "data:  third", ""])
    assert [event.data for event in events] == ["first\nsecond\n third"]


def test_only_one_space_after_the_colon_is_dropped() -> None:
    assert decode_lines(["event:  spaced", "data: d", ""])[0].event == " spaced"


def test_field_without_colon_is_a_name_with_empty_value() -> None:
    assert [event.data for event in decode_lines(["data", "data", ""])] == ["\n"]


def test_retry_sets_the_delay_only_when_all_digits() -> None:
    decoder = SseDecoder()
    decode_lines(["retry: 2000", ""], decoder)
    assert decoder.retry_ms == 2000
    decode_lines(["retry: 3s", "retry: -1", ""], decoder)
    assert decoder.retry_ms == 2000


def test_id_persists_for_later_events_and_resets_when_empty() -> None:
    decoder = SseDecoder(last_event_id="3")
    lines = ["data: a", "", "id: 4", "data: b", "", "data: c", "", "id", "data: d", ""]
    events = decode_lines(lines, decoder)
    assert [(event.data, event.id) for event in events] == [
        ("a", "3"),
        ("b", "4"),
        ("c", "4"),
        ("d", ""),
    ]


def test_id_with_nul_is_ignored() -> None:
    decoder = SseDecoder(last_event_id="1")
    events = decode_lines(["id: 2\0", "data: x", ""], decoder)
    assert events[0].id == "1"


def test_block_without_data_only_updates_state() -> None:
    decoder = SseDecoder()
    assert decode_lines(["id: 9", "event: status", ""], decoder) == []
    assert decoder.last_event_id == "9"
    # The event type does not leak into the next block.
    assert decode_lines(["data: x", ""], decoder)[0].event == "message"


def test_unfinished_block_at_the_end_is_dropped() -> None:
    assert decode_lines(["data: complete", "", "id: 5", "data: cut"]) == [
        ServerSentEvent(event="message", data="complete", id=None)
    ]


def test_leading_byte_order_mark_is_ignored() -> None:
    assert decode_lines(["\ufeffdata: x", ""])[0].data == "x"


def test_unknown_fields_are_ignored() -> None:
    assert decode_lines(["foo: bar", "data: x", ""])[0] == ServerSentEvent(
        event="message", data="x", id=None
    )


def test_job_event_parses_json_object() -> None:
    event = job_event(ServerSentEvent(event="end", data='{"status": "completed"}', id="12"))
    assert (event.event, event.id, event.data) == ("end", "12", {"status": "completed"})


@pytest.mark.parametrize("data", ["not json", "[1, 2]"])
def test_job_event_refuses_non_object_data(data: str) -> None:
    with pytest.raises(GatewayProtocolError):
        job_event(ServerSentEvent(event="status", data=data, id="1"))
