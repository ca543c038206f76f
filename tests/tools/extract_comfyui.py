"""Extract test fixtures mechanically from the captured ComfyUI transcripts.

The captured files in ``shared/comfyui`` are the ground truth for the simulator.
Retyping their frames and bodies by hand would let typos (or wishful edits) slip
into the tests, so this script parses ``ws_transcript.md`` and ``protocol.md``
and writes JSON fixtures; a unit test re-runs it and checks the committed files
are identical.

Run: ``python tests/tools/extract_comfyui.py [SHARED_COMFYUI_DIR] [--out DIR]``.
The transcript writer's trimming markers (``…(+N more items trimmed)``,
``…(+N chars trimmed)``) are kept verbatim: the comparison helper treats them as
wildcards.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHARED_DIR = REPO_ROOT.parent / "shared" / "comfyui"
DEFAULT_OUT_DIR = REPO_ROOT / "tests" / "fixtures" / "comfyui"

_SCENARIO_TITLE = re.compile(r"^### \((?P<key>[a-z0-9]+)\) (?P<title>.*)$")
_ENTRY = re.compile(r"^\+(?P<t>[0-9.]+)\s+\S+\s+(?P<dir>S→C|C→S|NOTE)\s+(?P<rest>.*)$")
_OMITTED = re.compile(
    r"^… (?P<count>\d+) frames omitted here by the transcript writer: (?P<types>\{[^}]*\})"
)
_BINARY = re.compile(r"^BINARY len=(?P<len>\d+) first8=0x(?P<first8>[0-9a-f]{16}) (?P<rest>.*)$")
_SOCKET_LINE = re.compile(r"^Socket: `(?P<url>[^`]+)` — (?P<count>\d+) entries")
_RESPONSE_LINE = re.compile(r"^POST /prompt response: HTTP (?P<status>\d+) `(?P<body>.*)`$")
_INLINE_BODY = re.compile(r"^POST /prompt body: (?P<text>.+?) Response: `(?P<body>.*)`$")
_UPLOAD_PART = re.compile(
    r"file part `(?P<part>[^`]+)` \(filename `(?P<filename>[^`]+)`, (?P<size>\d+) bytes\)"
    r", text fields (?P<fields>\{.*\})$"
)
_STATUS = re.compile(r"^Response: \*\*HTTP (?P<status>\d+) ")
_HEADERS = re.compile(r"^Response headers: `(?P<headers>\{.*\})`$")
_RAW_BODY = re.compile(r"^Request raw body \(Content-Type: (?P<ctype>[^)]+)\): `(?P<body>.*)`$")
_RESPONSE_TEXT = re.compile(r"^Response text: `(?P<text>.*)`$")
_NAMED_PROMPT_ID = re.compile(r"(?P<name>\w+) (?:\((?P<note>[^)]*)\) )?`(?P<id>[0-9a-f-]{36})`")
_QUEUE_SNAPSHOT_TITLE = "#### 1 running + 3 pending"
_SECTION = re.compile(r"^## (?P<number>\d+)\. (?P<title>.*)$")
_CASE_TITLE = re.compile(r"^#### (?P<title>.*)$")

# The protocol.md sections whose cases are POST /prompt request/response pairs.
PROMPT_SECTIONS = ("5", "6")


@dataclass
class _Block:
    """A fenced code block and the prose line that introduced it."""

    intro: str
    lines: list[str]


@dataclass
class _Section:
    title: str
    prose: list[str] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)


def split_sections(lines: Sequence[str], header: re.Pattern[str]) -> Iterator[_Section]:
    """Group lines under each header matching ``header``; code blocks kept whole."""
    current: _Section | None = None
    block: list[str] | None = None
    intro = ""
    for line in lines:
        if block is not None:
            if line.startswith("```"):
                if current is not None:
                    current.blocks.append(_Block(intro=intro, lines=block))
                block = None
            else:
                block.append(line)
            continue
        if line.startswith("#") and current is not None and not header.match(line):
            yield current
            current = None
        if header.match(line):
            if current is not None:
                yield current
            current = _Section(title=line)
        elif line.startswith("```"):
            block = []
        elif line.strip() and current is not None:
            current.prose.append(line)
            intro = line
    if current is not None:
        yield current


# --- WebSocket transcript -------------------------------------------------------------


def parse_binary_frame(text: str) -> dict[str, Any]:
    """Describe a ``BINARY len=… first8=…`` line as structured fields."""
    match = _BINARY.match(text)
    if match is None:
        raise ValueError(f"unparseable binary frame line: {text!r}")
    rest = match["rest"]
    frame: dict[str, Any] = {
        "length": int(match["len"]),
        "first8": match["first8"],
        "event_type": _int_field(rest, "event_type"),
    }
    image_format = _int_field(rest, "image_format")
    if image_format is not None:
        frame["image_format"] = image_format
    metadata = re.search(r"metadata=(\{.*?\}) then", rest)
    if metadata is not None:
        frame["metadata_length"] = _int_field(rest, "metadata_len")
        frame["metadata"] = json.loads(metadata.group(1))
    prefix = re.search(r"image bytes starting 0x([0-9a-f]+)", rest)
    frame["image_prefix"] = prefix.group(1) if prefix else None
    return frame


def _int_field(text: str, name: str) -> int | None:
    match = re.search(rf"\b{name}=(\d+)", text)
    return int(match.group(1)) if match else None


def parse_entry(line: str) -> dict[str, Any] | None:
    """One transcript line → an entry dict (frame, sent frame, binary, note, omission)."""
    omitted = _OMITTED.match(line)
    if omitted is not None:
        counts = ast.literal_eval(omitted["types"])
        return {"kind": "omitted", "count": int(omitted["count"]), "types": counts}
    match = _ENTRY.match(line)
    if match is None:
        return None
    rest = match["rest"].strip()
    if match["dir"] == "NOTE":
        return {"kind": "note", "text": rest}
    if rest.startswith("BINARY"):
        return {"kind": "binary", **parse_binary_frame(rest)}
    kind = "frame" if match["dir"] == "S→C" else "sent"
    return {"kind": kind, "frame": json.loads(rest)}


_SOCKET_LABELS = {"First socket": "first", "Second socket": "second"}
_SOCKET_LABELS |= {"Submitter S": "submitter", "Observer O": "observer"}


def _socket_label(intro: str) -> str:
    """`First socket (…):` → `first`; a scenario's only socket → `main`."""
    for prefix, label in _SOCKET_LABELS.items():
        if intro.startswith(prefix):
            return label
    return "main"


def _parse_socket_block(block: _Block) -> dict[str, Any]:
    entries = [entry for line in block.lines if (entry := parse_entry(line)) is not None]
    socket: dict[str, Any] = {"label": _socket_label(block.intro), "entries": entries}
    declared = _SOCKET_LINE.match(block.intro)
    if declared is not None:
        socket["url"] = declared["url"]
        socket["declared_entries"] = int(declared["count"])
    return socket


def _parse_upload(section: _Section) -> dict[str, Any] | None:
    for line in section.prose:
        match = _UPLOAD_PART.search(line)
        if match is not None:
            response = next(b for b in section.blocks if b.intro.startswith("Response JSON"))
            return {
                "part": match["part"],
                "filename": match["filename"],
                "size": int(match["size"]),
                "fields": json.loads(match["fields"]),
                "response": json.loads("\n".join(response.lines)),
            }
    return None


def parse_ws_section(section: _Section) -> dict[str, Any]:
    """One `### (key) title` section → scenario fragment (merged by key later)."""
    title = _SCENARIO_TITLE.match(section.title)
    assert title is not None
    scenario: dict[str, Any] = {
        "key": title["key"],
        "title": title["title"],
        "prompt_bodies": [],
        "prompt_responses": [],
        "prompt_body_descriptions": [],
        "sockets": [],
    }
    for line in section.prose:
        _read_ws_prose_line(line, scenario)
    for block in section.blocks:
        if block.intro.startswith("POST /prompt body"):
            scenario["prompt_bodies"].append(json.loads("\n".join(block.lines)))
        elif block.lines and _ENTRY.match(block.lines[0]):
            scenario["sockets"].append(_parse_socket_block(block))
    upload = _parse_upload(section)
    if upload is not None:
        scenario["upload"] = upload
    return scenario


def _read_ws_prose_line(line: str, scenario: dict[str, Any]) -> None:
    if line.startswith("Prompt ids:"):
        named = {m["name"]: m["id"] for m in _NAMED_PROMPT_ID.finditer(line)}
        scenario["named_prompt_ids"] = named
        return
    response = _RESPONSE_LINE.match(line)
    if response is not None:
        scenario["prompt_responses"].append(
            {"status": int(response["status"]), "body": json.loads(response["body"])}
        )
        return
    inline = _INLINE_BODY.match(line)
    if inline is not None:
        scenario["prompt_body_descriptions"].append(inline["text"])
        scenario["prompt_responses"].append({"status": 200, "body": json.loads(inline["body"])})


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Scenario (c) is split over two headers: the upload, then the run."""
    for name, value in extra.items():
        if isinstance(value, list):
            into[name].extend(value)
        elif name not in into:
            into[name] = value


def parse_ws_transcript(text: str) -> dict[str, dict[str, Any]]:
    """All `### (key)` scenarios of ws_transcript.md, keyed by their letter code."""
    scenarios: dict[str, dict[str, Any]] = {}
    for section in split_sections(text.splitlines(), _SCENARIO_TITLE):
        parsed = parse_ws_section(section)
        key = parsed["key"]
        if key in scenarios:
            _merge(scenarios[key], parsed)
        else:
            scenarios[key] = parsed
    for scenario in scenarios.values():
        _check_entry_counts(scenario)
    return scenarios


def _check_entry_counts(scenario: dict[str, Any]) -> None:
    """The transcript states each socket's entry count; our parse must agree."""
    for socket in scenario["sockets"]:
        declared = socket.get("declared_entries")
        if declared is None:
            continue
        counted = sum(e["count"] if e["kind"] == "omitted" else 1 for e in socket["entries"])
        if counted != declared:
            raise ValueError(
                f"scenario {scenario['key']}: parsed {counted} entries, transcript says {declared}"
            )


def queue_snapshot_of_scenario_e(protocol_text: str) -> dict[str, Any]:
    """GET /queue captured during scenario (e): the only record of e's prompt bodies."""
    for number, body in _numbered_sections(protocol_text.splitlines()):
        if number != "3":
            continue
        for section in split_sections(body, _CASE_TITLE):
            if section.title.startswith(_QUEUE_SNAPSHOT_TITLE):
                snapshot: dict[str, Any] = parse_http_case(section)["response_json"]
                return snapshot
    raise ValueError("protocol.md §3 has no '1 running + 3 pending' queue snapshot")


def parse_connect_cases(text: str) -> dict[str, dict[str, Any]]:
    """The `## 2. Connecting` examples: what a fresh socket receives first."""
    lines = text.splitlines()
    start = lines.index("## 2. Connecting")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    cases: dict[str, dict[str, Any]] = {}
    header = re.compile(r"^### ")
    for section in split_sections(lines[start:end], header):
        heading = section.title.removeprefix("### ")
        entries = [e for b in section.blocks for line in b.lines if (e := parse_entry(line))]
        cases[_slug(heading)] = {"title": heading, "entries": entries}
    return cases


# --- protocol.md POST /prompt cases ---------------------------------------------------


def parse_prompt_cases(text: str) -> list[dict[str, Any]]:
    """Every `####` request/response case of protocol.md §5 and §6."""
    cases: list[dict[str, Any]] = []
    for number, body in _numbered_sections(text.splitlines()):
        if number not in PROMPT_SECTIONS:
            continue
        for section in split_sections(body, _CASE_TITLE):
            case = parse_http_case(section)
            case["section"] = number
            case["id"] = f"s{number}-{_slug(case['title'])}"
            cases.append(case)
    _check_unique_ids(cases)
    return cases


def _numbered_sections(lines: Sequence[str]) -> Iterator[tuple[str, list[str]]]:
    starts = [(i, m["number"]) for i, line in enumerate(lines) if (m := _SECTION.match(line))]
    for index, (start, number) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        yield number, list(lines[start + 1 : end])


def parse_http_case(section: _Section) -> dict[str, Any]:
    """One `#### title` case: request body, status, content type, response body."""
    title = _CASE_TITLE.match(section.title)
    assert title is not None
    case: dict[str, Any] = {"title": title["title"], "method": "POST", "path": "/prompt"}
    for line in section.prose:
        _read_http_prose_line(line, case)
    for block in section.blocks:
        payload = json.loads("\n".join(block.lines))
        if block.intro.startswith("Request JSON body"):
            case["request"] = {"json": payload}
        elif block.intro.startswith("Response JSON"):
            case["response_json"] = payload
    return case


def _read_http_prose_line(line: str, case: dict[str, Any]) -> None:
    if line.startswith("Request: `"):
        method, path = line.removeprefix("Request: `").rstrip("`").split(" ", 1)
        case["method"], case["path"] = method, path
    elif (status := _STATUS.match(line)) is not None:
        case["status"] = int(status["status"])
    elif (headers := _HEADERS.match(line)) is not None:
        parsed = json.loads(headers["headers"])
        case["content_type"] = parsed.get("Content-Type")
        case["response_headers"] = parsed
    elif (raw := _RAW_BODY.match(line)) is not None:
        # The transcript shows raw bodies as Python string literals ('{not json').
        case["request"] = {"raw": ast.literal_eval(raw["body"]), "content_type": raw["ctype"]}
    elif (response_text := _RESPONSE_TEXT.match(line)) is not None:
        case["response_text"] = json.loads(response_text["text"])


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:60].rstrip("-")


def _check_unique_ids(cases: Sequence[dict[str, Any]]) -> None:
    ids = [case["id"] for case in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate case ids: {sorted(duplicates)}")


# --- writing ------------------------------------------------------------------------


def render_json(value: Any) -> str:
    """The one on-disk form of a fixture (stable, so re-extraction is byte-identical)."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def build_fixtures(shared_dir: Path) -> dict[str, str]:
    """Relative fixture path → file content, for everything we extract."""
    ws_text = (shared_dir / "ws_transcript.md").read_text(encoding="utf-8")
    protocol_text = (shared_dir / "protocol.md").read_text(encoding="utf-8")
    files: dict[str, str] = {}
    scenarios = parse_ws_transcript(ws_text)
    scenarios["e"]["queue_snapshot"] = queue_snapshot_of_scenario_e(protocol_text)
    for key, scenario in scenarios.items():
        files[f"ws/{key}.json"] = render_json(scenario)
    files["ws_connect.json"] = render_json(parse_connect_cases(ws_text))
    for case in parse_prompt_cases(protocol_text):
        files[f"prompt_cases/{case['id']}.json"] = render_json(case)
    return files


def write_fixtures(shared_dir: Path, out_dir: Path) -> list[Path]:
    """Write every fixture under ``out_dir`` (stale JSON files there are removed)."""
    files = build_fixtures(shared_dir)
    for stale in out_dir.rglob("*.json"):
        if stale.relative_to(out_dir).as_posix() not in files:
            stale.unlink()
    written = []
    for relative, content in sorted(files.items()):
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared_dir", nargs="?", type=Path, default=DEFAULT_SHARED_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)
    written = write_fixtures(args.shared_dir, args.out)
    print(f"wrote {len(written)} fixture files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
