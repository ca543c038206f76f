"""``GET /v1/jobs/{job_id}/outputs/{index}``: one output file, streamed from the blob store.

Single byte ranges are served (206 with ``Content-Range``; 416 outside the file), the
ETag is the file's SHA-256 (a strong validator: the bytes of an output never change), and
an output whose record remains after its blob was swept answers 410 ``output_expired``.
A store that can hand out its own URLs (presigned) is redirected to instead.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from comfy_gateway.api.auth_dependency import caller, documented_parameters
from comfy_gateway.api.byte_ranges import (
    UnsatisfiableRange,
    content_range,
    parse_range_header,
    select_range,
    unsatisfied_content_range,
)
from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.job_lookup import job_not_found
from comfy_gateway.jobs.errors import JobNotFound
from comfy_gateway.jobs.ids import is_job_id
from comfy_gateway.jobs.model import JobOutput
from comfy_gateway.storage import BlobNotFound, BlobRange, BlobStore
from comfy_gateway.store.interface import JobStore

router = APIRouter(tags=["outputs"])


def output_not_found(job_id: str, index: str) -> ApiError:
    return ApiError(
        404, "output_not_found", f"job {job_id} has no output {index[:20]!r}", job_id=job_id
    )


def output_expired(job_id: str, output: JobOutput) -> ApiError:
    return ApiError(
        410,
        "output_expired",
        f"output {output.index} of job {job_id} was deleted after its retention period",
        job_id=job_id,
        index=output.index,
    )


async def find_output(store: JobStore, tenant_id: str, job_id: str, index: str) -> JobOutput:
    """The output at a decimal ``index`` of the tenant's job, read alone (404s as for the
    job; an index that is not a plain number or names no output is ``output_not_found``)."""
    if not is_job_id(job_id):
        raise job_not_found(job_id)
    if not index.isdecimal() or len(index) > 9:
        raise output_not_found(job_id, index)
    try:
        output = await store.get_output(tenant_id, job_id, int(index))
    except JobNotFound as exc:
        raise job_not_found(job_id) from exc
    if output is None:
        raise output_not_found(job_id, index)
    return output


def entity_tag(output: JobOutput) -> str:
    return f'"{output.sha256}"'


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact UTF-8 one (RFC 6266)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in candidates or etag in candidates


def _file_headers(output: JobOutput, content_type: str | None) -> dict[str, str]:
    return {
        "Accept-Ranges": "bytes",
        "ETag": entity_tag(output),
        "Content-Disposition": content_disposition(output.filename),
        "Cache-Control": "private, max-age=3600",
        "Content-Type": content_type or output.content_type,
    }


#: Bodies up to this size are read whole and sent as one response: a stream costs more
#: (a task group watching for the client to leave) than reading them does.
WHOLE_BODY_BYTES = 256 * 1024


def _answer_headers(
    output: JobOutput, content_type: str | None, total: int, blob_range: BlobRange | None
) -> tuple[int, dict[str, str]]:
    headers = _file_headers(output, content_type)
    headers["Content-Length"] = str(blob_range.length if blob_range else total)
    if blob_range is None:
        return 200, headers
    headers["Content-Range"] = content_range(blob_range)
    return 206, headers


async def _small_file(
    blobs: BlobStore, job_id: str, output: JobOutput, blob_range: BlobRange | None
) -> Response:
    """A small output read whole in one go (a missing blob: it expired)."""
    try:
        content = b"".join([chunk async for chunk in blobs.read(output.storage_key, blob_range)])
    except BlobNotFound as exc:
        raise output_expired(job_id, output) from exc
    status, headers = _answer_headers(output, output.content_type, output.size_bytes, blob_range)
    return Response(content, status_code=status, headers=headers)


async def _large_file(
    blobs: BlobStore, job_id: str, output: JobOutput, range_header: str | None, if_range: str | None
) -> Response:
    """A large output streamed; its size and type from the blob itself."""
    info = await blobs.stat(output.storage_key)
    if info is None:
        raise output_expired(job_id, output)
    blob_range = _requested_range(range_header, if_range, output, info.size_bytes)
    content_type = info.content_type or output.content_type
    status, headers = _answer_headers(output, content_type, info.size_bytes, blob_range)
    body = blobs.read(output.storage_key, blob_range)
    return StreamingResponse(body, status_code=status, headers=headers)


def _requested_range(
    range_header: str | None, if_range: str | None, output: JobOutput, total: int
) -> BlobRange | None:
    # If-Range with another validator means "my copy is stale": send the whole file.
    if if_range is not None and if_range.strip() != entity_tag(output):
        return None
    try:
        return select_range(parse_range_header(range_header), total)
    except UnsatisfiableRange as exc:
        raise ApiError(
            416,
            "range_not_satisfiable",
            str(exc),
            headers={"Content-Range": unsatisfied_content_range(total)},
            size_bytes=total,
        ) from exc


OUTPUT_PATH = "/v1/jobs/{job_id}/outputs/{index}"
#: What the route reads from the request itself (see ``caller``), for the OpenAPI document.
_PARAMETERS = documented_parameters(
    path=("job_id", "index"), header=("Range", "If-Range", "If-None-Match")
)


@router.head(OUTPUT_PATH, response_class=StreamingResponse, include_in_schema=False)
@router.get(OUTPUT_PATH, response_class=StreamingResponse, openapi_extra=_PARAMETERS)
async def download_output(request: Request) -> Response:
    """The output file (or a byte range of it); HEAD gives its headers alone."""
    context, tenant = await caller(request)
    job_id, index = request.path_params["job_id"], request.path_params["index"]
    headers = request.headers
    range_header, if_range = headers.get("range"), headers.get("if-range")
    if_none_match = headers.get("if-none-match")
    output = await find_output(context.store, tenant, job_id, index)
    direct_url = context.blobs.url_for(output.storage_key)
    if direct_url is not None:
        return RedirectResponse(direct_url, status_code=307)
    if etag_matches(if_none_match, entity_tag(output)):
        return Response(status_code=304, headers={"ETag": entity_tag(output)})
    if output.size_bytes > WHOLE_BODY_BYTES:
        return await _large_file(context.blobs, job_id, output, range_header, if_range)
    blob_range = _requested_range(range_header, if_range, output, output.size_bytes)
    return await _small_file(context.blobs, job_id, output, blob_range)
