"""``multipart/form-data`` submissions: a ``request`` (or ``workflow``) part and media files.

Starlette's parser spools every file part to a temporary file (on disk past 1 MB); a
subclass adds what it lacks: a per-file byte cap counted while the part streams in, and
our media count, so an oversized or an eleventh file is refused before it is read whole,
and a 413 (not Starlette's 400) for a JSON part over the JSON cap.
The media name is the part's ``filename``, validated later and never rewritten.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.intake.body import capped_stream, parse_json
from comfy_gateway.jobs.domain_errors import MediaTooLarge, TooManyMedia

REQUEST_PART = "request"
WORKFLOW_PART = "workflow"
_JSON_PARTS = (REQUEST_PART, WORKFLOW_PART)
#: Plain form fields besides the JSON parts are refused, so a handful is plenty.
_MAX_FIELDS = 8


@dataclass(frozen=True, kw_only=True)
class MultipartLimits:
    body_bytes: int
    json_bytes: int
    media_items: int
    media_bytes: int


@dataclass(frozen=True, kw_only=True)
class FilePart:
    """One media file of the form: its name is the part's filename."""

    name: str
    content_type: str | None
    upload: UploadFile


@dataclass(frozen=True, kw_only=True)
class MultipartSubmission:
    """The JSON request the form carried and its media files (still spooled)."""

    request: dict[str, Any]
    files: tuple[FilePart, ...]


class _CappedMultiPartParser(MultiPartParser):
    """Starlette's parser with a per-file byte cap and a media file count."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        limits: MultipartLimits,
        max_fields: int = _MAX_FIELDS,
    ) -> None:
        super().__init__(
            headers,
            stream,
            max_files=limits.media_items + len(_JSON_PARTS),
            max_fields=max_fields,
            max_part_size=limits.json_bytes,
        )
        self._limits = limits
        self._media_files = 0
        self._part_bytes = 0

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        self._part_bytes = 0
        if self._is_media_file():
            self._media_files += 1
            if self._media_files > self._limits.media_items:
                raise TooManyMedia(self._media_files, self._limits.media_items)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._part_bytes += end - start
        upload = self._current_part.file
        if upload is not None and not self._is_json_part():
            if self._part_bytes > self._limits.media_bytes:
                raise MediaTooLarge(self._limits.media_bytes, name=upload.filename)
        elif self._part_bytes > self._limits.json_bytes:
            raise ApiError(
                413,
                "payload_too_large",
                f"form part {self._current_part.field_name[:80]!r} is larger than "
                f"{self._limits.json_bytes} bytes",
                limit_bytes=self._limits.json_bytes,
            )
        super().on_part_data(data, start, end)

    def _is_media_file(self) -> bool:
        return self._current_part.file is not None and not self._is_json_part()

    def _is_json_part(self) -> bool:
        return self._current_part.field_name in _JSON_PARTS


@asynccontextmanager
async def open_multipart(
    request: Request, limits: MultipartLimits
) -> AsyncIterator[MultipartSubmission]:
    """Parse the form under the caps; the spooled files are closed when the block ends."""
    form = await _parse_form(request, limits)
    try:
        yield MultipartSubmission(request=await _request_json(form), files=media_files(form))
    finally:
        await form.close()


@asynccontextmanager
async def open_form(
    request: Request, limits: MultipartLimits, *, max_fields: int
) -> AsyncIterator[FormData]:
    """The form under the same caps with its plain fields kept (the shim's ``/run``)."""
    form = await _parse_form(request, limits, max_fields)
    try:
        yield form
    finally:
        await form.close()


async def _parse_form(
    request: Request, limits: MultipartLimits, max_fields: int = _MAX_FIELDS
) -> FormData:
    stream = capped_stream(request, limits.body_bytes)
    parser = _CappedMultiPartParser(request.headers, stream, limits, max_fields)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise ApiError(
            400, "invalid_multipart", f"malformed multipart body: {exc.message}"
        ) from exc
    finally:
        await stream.aclose()


async def _request_json(form: FormData) -> dict[str, Any]:
    _refuse_unknown_fields(form)
    present = [name for name in _JSON_PARTS if name in form]
    if len(present) != 1 or len(form.getlist(present[0])) != 1:
        raise ApiError(
            422,
            "invalid_request",
            "a multipart submit needs exactly one 'request' part (the JSON body) or one "
            "'workflow' part (just the graph)",
        )
    text = await part_text(form[present[0]])
    value = parse_json(text, what=f"the {present[0]!r} part")
    if present[0] == WORKFLOW_PART:
        return {"workflow": value}
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_request", "the 'request' part must be a JSON object")
    return value


def _refuse_unknown_fields(form: FormData) -> None:
    for key, value in form.multi_items():
        if isinstance(value, str) and key not in _JSON_PARTS:
            raise ApiError(
                422,
                "unexpected_form_field",
                f"form field {key[:80]!r} is not understood: put options in the 'request' "
                "part and send media as file parts",
                field=key[:200],
            )


async def part_text(part: str | UploadFile) -> str:
    if isinstance(part, str):
        return part
    raw = await part.read()  # the parser capped it at the JSON limit
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, "invalid_json", "the JSON part is not UTF-8 text") from exc


def media_files(form: FormData) -> tuple[FilePart, ...]:
    files = []
    for key, value in form.multi_items():
        if isinstance(value, str) or key in _JSON_PARTS:
            continue
        if not value.filename and not value.size:
            continue  # an empty file input of an HTML form
        content_type = value.headers.get("content-type")
        files.append(FilePart(name=value.filename or "", content_type=content_type, upload=value))
    return tuple(files)
