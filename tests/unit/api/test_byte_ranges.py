"""Parsing and resolving single HTTP byte ranges (pure)."""

from __future__ import annotations

import pytest

from comfy_gateway.api.byte_ranges import (
    RequestedRange,
    UnsatisfiableRange,
    content_range,
    parse_range_header,
    select_range,
    unsatisfied_content_range,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-499", RequestedRange(start=0, end=499)),
        ("bytes=500-", RequestedRange(start=500, end=None)),
        ("bytes=-500", RequestedRange(start=None, end=500)),
        (" bytes = 3 - 4 ", RequestedRange(start=3, end=4)),
    ],
)
def test_single_ranges_parse(header: str, expected: RequestedRange) -> None:
    assert parse_range_header(header) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=", "bytes=-", "bytes=5-1", "bytes=0-1,3-4", "lines=0-1", "bytes=a-b"],
)
def test_unusable_headers_mean_the_whole_file(header: str | None) -> None:
    assert parse_range_header(header) is None


@pytest.mark.parametrize(
    ("requested", "total", "start", "end"),
    [
        (RequestedRange(start=0, end=9), 100, 0, 9),
        (RequestedRange(start=90, end=None), 100, 90, 99),
        (RequestedRange(start=90, end=1000), 100, 90, 99),
        (RequestedRange(start=None, end=10), 100, 90, 99),
        (RequestedRange(start=None, end=1000), 100, 0, 99),
    ],
)
def test_ranges_are_clipped_to_the_file(
    requested: RequestedRange, total: int, start: int, end: int
) -> None:
    chosen = select_range(requested, total)
    assert chosen is not None
    assert (chosen.start, chosen.end, chosen.length) == (start, end, end - start + 1)
    assert content_range(chosen) == f"bytes {start}-{end}/{total}"


@pytest.mark.parametrize(
    ("requested", "total"),
    [
        (RequestedRange(start=100, end=None), 100),
        (RequestedRange(start=None, end=0), 100),
        (RequestedRange(start=0, end=None), 0),
        (RequestedRange(start=None, end=5), 0),
    ],
)
def test_ranges_outside_the_file_are_unsatisfiable(requested: RequestedRange, total: int) -> None:
    with pytest.raises(UnsatisfiableRange) as caught:
        select_range(requested, total)
    assert caught.value.total == total
    assert unsatisfied_content_range(total) == f"bytes */{total}"


def test_no_range_selects_nothing() -> None:
    assert select_range(None, 100) is None
