"""UUIDv7 job ids: RFC 9562 layout, time order, monotonic within a millisecond."""

from __future__ import annotations

import uuid

import pytest

from comfy_gateway.jobs.ids import (
    UUID7Generator,
    compose_uuid7,
    is_job_id,
    new_job_id,
    next_position,
    uuid7_timestamp_ms,
)

# 2026-11-22T18:40:01.123Z
SOME_MS = 1_795_459_201_123


class SteppingClock:
    """A millisecond clock the test moves by hand."""

    def __init__(self, start_ms: int) -> None:
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms


def test_layout_follows_rfc_9562() -> None:
    value = UUID7Generator(clock_ms=lambda: SOME_MS).new()

    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == SOME_MS
    assert uuid7_timestamp_ms(value) == SOME_MS
    assert uuid7_timestamp_ms(str(value)) == SOME_MS


def test_compose_places_each_field() -> None:
    tail = (0xABC << 62) | 0x1234
    value = compose_uuid7(SOME_MS, tail)

    assert value.int >> 80 == SOME_MS
    assert (value.int >> 76) & 0xF == 0x7
    assert (value.int >> 64) & 0xFFF == 0xABC
    assert (value.int >> 62) & 0b11 == 0b10
    assert value.int & ((1 << 62) - 1) == 0x1234


@pytest.mark.parametrize(("timestamp", "tail"), [(-1, 0), (1 << 48, 0), (0, 1 << 74), (0, -1)])
def test_compose_refuses_fields_that_do_not_fit(timestamp: int, tail: int) -> None:
    with pytest.raises(ValueError, match="fit"):
        compose_uuid7(timestamp, tail)


def test_ids_in_one_millisecond_strictly_increase() -> None:
    generator = UUID7Generator(clock_ms=lambda: SOME_MS)

    values = [generator.new() for _ in range(1000)]

    assert values == sorted(values)
    assert len(set(values)) == len(values)
    assert {uuid7_timestamp_ms(value) for value in values} == {SOME_MS}


def test_ids_follow_the_clock() -> None:
    clock = SteppingClock(SOME_MS)
    generator = UUID7Generator(clock_ms=clock)

    earlier = generator.new()
    clock.now_ms += 5
    later = generator.new()

    assert earlier < later
    assert uuid7_timestamp_ms(later) - uuid7_timestamp_ms(earlier) == 5
    assert str(earlier) < str(later)  # the text form sorts the same way


def test_a_clock_stepping_back_does_not_break_the_order() -> None:
    clock = SteppingClock(SOME_MS)
    generator = UUID7Generator(clock_ms=clock)

    before = generator.new()
    clock.now_ms -= 1000
    after = generator.new()

    assert after > before
    assert uuid7_timestamp_ms(after) == SOME_MS


def test_an_exhausted_tail_borrows_the_next_millisecond() -> None:
    full = (1 << 74) - 10

    position = next_position(SOME_MS, full, SOME_MS, step=20, fresh_tail=7)

    assert position == (SOME_MS + 1, 7)
    assert compose_uuid7(*position) > compose_uuid7(SOME_MS, full)


def test_next_position_steps_the_tail_or_takes_a_fresh_one() -> None:
    assert next_position(SOME_MS, 100, SOME_MS, step=3, fresh_tail=7) == (SOME_MS, 103)
    assert next_position(SOME_MS, 100, SOME_MS - 9, step=3, fresh_tail=7) == (SOME_MS, 103)
    assert next_position(SOME_MS, 100, SOME_MS + 1, step=3, fresh_tail=7) == (SOME_MS + 1, 7)


def test_new_job_id_is_a_canonical_uuid7_string() -> None:
    first, second = new_job_id(), new_job_id()

    assert is_job_id(first)
    assert first < second
    assert first == str(uuid.UUID(first))


@pytest.mark.parametrize(
    "text",
    ["", "not-a-uuid", str(uuid.uuid4()), "01937F3C-8A2B-7C4D-9E5F-0123456789AB", "0" * 32],
)
def test_is_job_id_refuses_other_strings(text: str) -> None:
    assert not is_job_id(text)
