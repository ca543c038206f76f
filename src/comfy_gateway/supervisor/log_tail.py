"""The last lines a supervised ComfyUI printed: bounded, and forwarded into our log."""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections import deque
from collections.abc import Callable

MAX_LINE_CHARS = 2000  # a progress bar without newlines must not grow without bound
READ_CHUNK = 4096


class LineSplitter:
    """Turns chunks of output into lines; ``\\r`` ends a line too (tqdm progress bars)."""

    def __init__(self, max_line_chars: int = MAX_LINE_CHARS) -> None:
        self._partial = ""
        self._max = max_line_chars

    def feed(self, text: str) -> list[str]:
        """The complete lines in ``text`` plus what was held back from earlier chunks."""
        pieces = (self._partial + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = pieces.pop()
        lines = [piece for piece in pieces if piece.strip()]
        if len(self._partial) >= self._max:
            lines.append(self._partial)
            self._partial = ""
        return lines

    def flush(self) -> list[str]:
        """What is left when the stream ends without a final newline."""
        rest, self._partial = self._partial, ""
        return [rest] if rest.strip() else []


class LogTail:
    """The last ``max_lines`` lines, oldest first."""

    def __init__(self, max_lines: int = 200) -> None:
        if max_lines < 1:
            raise ValueError("a log tail keeps at least one line")
        self._lines: deque[str] = deque(maxlen=max_lines)

    def add(self, line: str) -> None:
        self._lines.append(line)

    def lines(self) -> list[str]:
        return list(self._lines)

    def text(self) -> str:
        return "\n".join(self._lines)


async def pump_output(
    stream: asyncio.StreamReader,
    tail: LogTail,
    *,
    logger: logging.Logger,
    label: str,
    on_line: Callable[[str], None] | None = None,
) -> None:
    """Read a child's output to its end: each line into ``tail`` and into our log."""
    splitter = LineSplitter()
    # Incremental, so a UTF-8 character split across two reads is not mangled.
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while chunk := await stream.read(READ_CHUNK):
        _take(splitter.feed(decoder.decode(chunk)), tail, logger, label, on_line)
    _take(splitter.flush(), tail, logger, label, on_line)


def _take(
    lines: list[str],
    tail: LogTail,
    logger: logging.Logger,
    label: str,
    on_line: Callable[[str], None] | None,
) -> None:
    for line in lines:
        tail.add(line)
        logger.info("[%s] %s", label, line)
        if on_line is not None:
            on_line(line)
