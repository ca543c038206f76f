"""Splitting a child's output into lines and keeping the last ones."""

from __future__ import annotations

import asyncio
import logging

import pytest

from comfy_gateway.supervisor.log_tail import LineSplitter, LogTail, pump_output


def test_lines_are_completed_across_chunks() -> None:
    splitter = LineSplitter()
    assert splitter.feed("Starting ser") == []
    assert splitter.feed("ver\nTo see the GUI go to: http") == ["Starting server"]
    assert splitter.feed("://127.0.0.1:8188\n") == ["To see the GUI go to: http://127.0.0.1:8188"]


def test_carriage_returns_end_progress_bar_lines() -> None:
    splitter = LineSplitter()
    assert splitter.feed(" 10%|#  |\r 20%|## |\r\nnext\n") == [" 10%|#  |", " 20%|## |", "next"]


def test_blank_lines_are_dropped() -> None:
    assert LineSplitter().feed("a\n\n   \nb\n") == ["a", "b"]


def test_an_endless_line_is_cut() -> None:
    splitter = LineSplitter(max_line_chars=10)
    assert splitter.feed("x" * 25) == ["x" * 25]
    assert splitter.feed("yy") == []
    assert splitter.flush() == ["yy"]
    assert splitter.flush() == []


def test_tail_keeps_the_last_lines_oldest_first() -> None:
    tail = LogTail(max_lines=3)
    for number in range(5):
        tail.add(f"line {number}")
    assert tail.lines() == ["line 2", "line 3", "line 4"]
    assert tail.text() == "line 2\nline 3\nline 4"


def test_a_tail_keeps_at_least_one_line() -> None:
    with pytest.raises(ValueError, match="at least one"):
        LogTail(max_lines=0)


async def test_pump_reads_to_the_end_into_tail_and_log(caplog: pytest.LogCaptureFixture) -> None:
    stream = asyncio.StreamReader()
    stream.feed_data("héllo\nwor".encode())
    stream.feed_data("é".encode()[:1])  # a UTF-8 character split across two reads
    stream.feed_data("é".encode()[1:] + b"ld")
    stream.feed_eof()
    tail = LogTail()
    seen: list[str] = []
    logger = logging.getLogger("test.supervisor.pump")
    with caplog.at_level(logging.INFO, logger="test.supervisor.pump"):
        await pump_output(stream, tail, logger=logger, label="gpu0", on_line=seen.append)
    assert tail.lines() == ["héllo", "woréld"]
    assert seen == ["héllo", "woréld"]
    assert [record.getMessage() for record in caplog.records] == ["[gpu0] héllo", "[gpu0] woréld"]
