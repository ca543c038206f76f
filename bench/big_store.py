"""Big store: p99 of submit, get, list (pages 1 and 50) and claim with many jobs stored.

1. Fill: ``--count`` jobs (default 100,000) over 10 tenants (``bench-0`` … ``bench-9``)
   through the store API (``create_job``, no queue limits) into the SQLite file that
   ``serve`` uses in a temporary data dir. Rows are realistic: WAN 2.2 graphs from the
   built-in templates (seed and prompt varied), their resolved parameters, requirements,
   an input image (and audio) media reference, a webhook on every fifth job. The store's
   clock is a replayed one during the fill, so ``created_at`` spreads over the last
   ``HISTORY_SPAN`` (kept under a day: the retention sweeper has nothing due, and stays
   out of the timings).
2. History: in one transaction, every job but a backlog of the newest few hundred per
   tenant becomes terminal (completed with one output and one attempt, failed with an
   error, or cancelled), with plausible start and end times and delivered webhooks.
3. Store timings (in-process, ``--samples`` each): ``create_job`` with the gateway's
   default queue limits, ``get_job`` of random jobs, ``list_jobs`` pages 1 and 50 of one
   tenant, and a worker's cycle of ``claim_next_job`` (with and without a ``can_run``
   filter) → ``mark_running`` → ``finish_job``.
4. API timings: the real ``serve`` (default settings, API keys on) on that data dir, its
   backend URL a closed local port so the worker never claims; sequential httpx requests:
   ``POST /v1/jobs`` (tiny graph, no wait), ``GET /v1/jobs/{id}``, list pages 1 and 50.
5. ``EXPLAIN QUERY PLAN`` of the statements each store call really ran (recorded from
   the engine), to show which index each uses.

Prints JSON figures, with the load generator's CPU share and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from bench_processes import (
    TENANT_KEYS,
    CpuClock,
    machine,
    percentile,
    running_gateway,
    serve_args,
    tiny_graph,
)
from comfy_gateway.config import GatewaySettings
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job, JobOutput, MediaRef, NewJob
from comfy_gateway.jobs.outputs import storage_key
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.store import QueueLimits, SqlJobStore, open_sqlite_store
from comfy_gateway.store.schema import job_attempts, job_outputs, jobs, webhook_outbox
from comfy_gateway.templates.builtin import builtin_templates, wan22_i2v, wan22_s2v
from comfy_gateway.templates.model import Template

TENANTS = [f"bench-{index}" for index in range(10)]
PAGE_SIZE = 50
DEEP_PAGE = 50
LEASE_S = 30.0
WORKER_ID = "bench-worker"
BACKEND = "http://gpu-0.internal:8188"
HISTORY_SPAN = timedelta(hours=20)
#: Queued jobs left per tenant at 100,000 jobs (3 % of the store); scaled down with --count.
BACKLOG_PER_TENANT = 300
BACKLOG_SHARE = 0.03
#: Of the history (every job but the backlog): failed and cancelled; the rest completed.
FAILED_SHARE = 0.04
CANCELLED_SHARE = 0.01
WEBHOOK_EVERY = 5
TARGET_P99_MS = 10.0
PROMPTS = (
    "a lighthouse at dusk, waves crashing, cinematic",
    "a red fox running through fresh snow, slow motion",
    "a street market in the rain at night, neon reflections",
    "a hot air balloon over a canyon at sunrise",
)
REQUIRED_MODELS: dict[str, Callable[[Mapping[str, Any]], dict[str, list[str]]]] = {
    "wan22-i2v": wan22_i2v.required_models,
    "wan22-s2v": wan22_s2v.required_models,
}


# --- the fill ------------------------------------------------------------------------


class ReplayClock:
    """A clock that steps from ``start`` by ``step`` on every reading (thread-safe)."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self._next = start
        self._step = step
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = self._next
            self._next += self._step
            return current


@dataclass(frozen=True, slots=True)
class StoredJob:
    """What the benchmark remembers of a job it filled."""

    job_id: str
    tenant_id: str
    created_at: datetime
    template: str
    has_webhook: bool


def fake_sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def media_ref(name: str, extension: str, content_type: str, size: int) -> MediaRef:
    sha = fake_sha(f"{name}-{size}")
    return MediaRef(
        name=name,
        filename=f"{sha}.{extension}",
        content_type=content_type,
        size_bytes=size,
        sha256=sha,
        storage_key=f"media/{sha}",
    )


def template_values(template: Template, index: int, media: Sequence[MediaRef]) -> dict[str, Any]:
    """The parameters a client would send, over the template's defaults."""
    values = {param.name: param.default for param in template.parameters}
    values.update({ref.name: ref.filename for ref in media})
    values.update(prompt=f"{PROMPTS[index % len(PROMPTS)]}, take {index}", seed=index * 7919)
    return {name: value for name, value in values.items() if value is not None}


def wan_job(template: Template, index: int, tenant: str) -> NewJob:
    """A WAN 2.2 job as a template submit stores it (graph, resolved params, needs)."""
    job_id = new_job_id()
    media = [media_ref("image", "png", "image/png", 400_000 + index % 5_000)]
    if template.name == "wan22-s2v":
        media.append(media_ref("audio", "wav", "audio/wav", 900_000 + index % 7_000))
    values = template_values(template, index, media)
    assert template.builder is not None
    built = template.builder(values)
    graph = built.workflow
    for node in graph.values():  # the gateway makes the output names name the job
        if "filename_prefix" in node["inputs"]:
            node["inputs"]["filename_prefix"] = f"{node['inputs']['filename_prefix']}_{job_id}"
    requirements = {
        "node_classes": sorted({node["class_type"] for node in graph.values()}),
        "model_files": REQUIRED_MODELS[template.name]({**values, **built.resolved}),
    }
    return NewJob(
        job_id=job_id,
        tenant_id=tenant,
        workflow=graph,
        priority=1 if index % 10 == 0 else 0,
        resolved_params={**values, **built.resolved},
        media=tuple(media),
        webhook_url=(
            f"https://hooks.example.com/{tenant}/done" if index % WEBHOOK_EVERY == 0 else None
        ),
        requirements=requirements,
    )


async def fill(store: SqlJobStore, count: int) -> tuple[list[StoredJob], list[float]]:
    templates = builtin_templates()
    stored: list[StoredJob] = []
    latencies: list[float] = []
    for index in range(count):
        template = templates[index % len(templates)]
        new_job = wan_job(template, index, TENANTS[index % len(TENANTS)])
        started = time.perf_counter()
        job, _ = await store.create_job(new_job)
        latencies.append((time.perf_counter() - started) * 1000)
        stored.append(
            StoredJob(
                job_id=job.job_id,
                tenant_id=job.tenant_id,
                created_at=job.created_at,
                template=template.name,
                has_webhook=job.webhook_url is not None,
            )
        )
    return stored, latencies


# --- the history ---------------------------------------------------------------------


@dataclass
class History:
    """The rows that turn most of the store into finished jobs, and what they hold."""

    job_updates: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def backlog_per_tenant(count: int) -> int:
    return min(BACKLOG_PER_TENANT, int(count * BACKLOG_SHARE) // len(TENANTS))


def history_of(stored: Sequence[StoredJob], backlog: int) -> list[StoredJob]:
    """Every job but the newest ``backlog`` of each tenant (which stay queued)."""
    kept: dict[str, int] = dict.fromkeys(TENANTS, 0)
    history = []
    for job in reversed(stored):
        if kept[job.tenant_id] < backlog:
            kept[job.tenant_id] += 1
        else:
            history.append(job)
    return history[::-1]


def plan_history(stored: Sequence[StoredJob], backlog: int, seed: int = 6) -> History:
    chooser = random.Random(seed)
    plan = History()
    for job in history_of(stored, backlog):
        draw = chooser.random()
        if draw < CANCELLED_SHARE:
            _cancel(plan, job, chooser)
        elif draw < CANCELLED_SHARE + FAILED_SHARE:
            _run(plan, job, chooser, JobStatus.FAILED)
        else:
            _run(plan, job, chooser, JobStatus.COMPLETED)
    plan.counts["queued"] = len(stored) - len(plan.job_updates)
    return plan


def _count(plan: History, status: JobStatus) -> None:
    plan.counts[status.value] = plan.counts.get(status.value, 0) + 1


def _job_update(job: StoredJob, status: JobStatus, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "b_job_id": job.job_id,
        "status": status.value,
        "started_at": None,
        "completed_at": None,
        "progress": 0.0,
        "progress_details": {},
        "error": None,
        "timings": {},
        "attempts": 0,
        "version": 2,
        "cancel_requested": False,
        "fencing_token": 0,
        "prompt_id": None,
        "backend": None,
        "webhook_status": "delivered" if job.has_webhook else None,
        "webhook_attempts": 1 if job.has_webhook else None,
    }
    row.update(values)
    return row


def _cancel(plan: History, job: StoredJob, chooser: random.Random) -> None:
    ended = job.created_at + timedelta(seconds=chooser.uniform(5, 600))
    plan.job_updates.append(
        _job_update(job, JobStatus.CANCELLED, completed_at=ended, cancel_requested=True)
    )
    _outbox(plan, job, JobStatus.CANCELLED, ended)
    _count(plan, JobStatus.CANCELLED)


def _run(plan: History, job: StoredJob, chooser: random.Random, status: JobStatus) -> None:
    wait_s = chooser.uniform(0.2, 45)
    run_s = chooser.uniform(60, 240) if status is JobStatus.COMPLETED else chooser.uniform(5, 90)
    started = job.created_at + timedelta(seconds=wait_s)
    ended = started + timedelta(seconds=run_s)
    prompt_id = str(uuid.uuid4())
    plan.job_updates.append(
        _job_update(
            job,
            status,
            started_at=started,
            completed_at=ended,
            progress=100.0 if status is JobStatus.COMPLETED else round(chooser.uniform(5, 95), 1),
            progress_details={"node": "8" if status is JobStatus.COMPLETED else "57"},
            error=_failure(job) if status is JobStatus.FAILED else None,
            timings={"queue_wait_ms": int(wait_s * 1000), "execution_ms": int(run_s * 1000)},
            attempts=1,
            version=6,
            fencing_token=1,
            prompt_id=prompt_id,
            backend=BACKEND,
        )
    )
    plan.attempts.append(_attempt(job, prompt_id, started, ended, status))
    if status is JobStatus.COMPLETED:
        plan.outputs.append(_output(job, chooser))
    _outbox(plan, job, status, ended)
    _count(plan, status)


def _failure(job: StoredJob) -> dict[str, Any]:
    return {
        "code": "execution_error",
        "message": "Allocation on device 0 would exceed allowed memory. (out of memory)",
        "node_id": "57" if job.template == "wan22-i2v" else "3",
        "node_type": "KSamplerAdvanced" if job.template == "wan22-i2v" else "KSampler",
        "exception_type": "torch.OutOfMemoryError",
    }


def _attempt(
    job: StoredJob, prompt_id: str, started: datetime, ended: datetime, status: JobStatus
) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "number": 1,
        "backend": BACKEND,
        "prompt_id": prompt_id,
        "client_id": f"gateway-{WORKER_ID}",
        "started_at": started,
        "ended_at": ended,
        "outcome": status.value,
        "detail": "execution_error" if status is JobStatus.FAILED else None,
    }


def _output(job: StoredJob, chooser: random.Random) -> dict[str, Any]:
    prefix = "wan22_i2v" if job.template == "wan22-i2v" else "wan22_s2v"
    filename = f"{prefix}_{job.job_id}_00001_.mp4"
    return {
        "job_id": job.job_id,
        "output_index": 0,
        "node_id": "61" if job.template == "wan22-i2v" else "113",
        "kind": "video",
        "filename": filename,
        "subfolder": "video",
        "content_type": "video/mp4",
        "size_bytes": chooser.randint(1_500_000, 9_000_000),
        "sha256": fake_sha(filename),
        "temporary": False,
        "storage_key": storage_key(job.tenant_id, job.job_id, 0, filename),
    }


def _outbox(plan: History, job: StoredJob, status: JobStatus, ended: datetime) -> None:
    if not job.has_webhook:
        return
    plan.outbox.append(
        {
            "job_id": job.job_id,
            "tenant_id": job.tenant_id,
            "url": f"https://hooks.example.com/{job.tenant_id}/done",
            "event": f"job.{status.value}",
            "payload": {"job_id": job.job_id, "status": status.value, "version": 6},
            "created_at": ended,
            "next_attempt_at": ended,
            "attempts": 1,
            "delivered_at": ended + timedelta(milliseconds=180),
            "last_status": 200,
        }
    )


def apply_history(conn: Connection, plan: History) -> None:
    """One transaction: terminal rows, their outputs, attempts and delivered webhooks."""
    columns = (
        [name for name in plan.job_updates[0] if name != "b_job_id"] if plan.job_updates else []
    )
    statement = (
        update(jobs)
        .where(jobs.c.job_id == bindparam("b_job_id"))
        .values({name: bindparam(name, type_=jobs.c[name].type) for name in columns})
    )
    for table, rows in ((job_outputs, plan.outputs), (job_attempts, plan.attempts)):
        if rows:
            conn.execute(insert(table), rows)
    if plan.job_updates:
        conn.execute(statement, plan.job_updates)
    if plan.outbox:
        conn.execute(insert(webhook_outbox), plan.outbox)


# --- timing helpers ------------------------------------------------------------------


def summary(latencies: Sequence[float]) -> dict[str, float]:
    return {
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(max(latencies), 3),
    }


async def timed(action: Callable[[], Awaitable[Any]], samples: int) -> list[float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        await action()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def default_limits() -> QueueLimits:
    """The gateway's default queue limits (the field defaults, not our environment)."""
    fields = GatewaySettings.model_fields
    return QueueLimits(
        max_queued=fields["queue_depth_limit"].default,
        max_queued_per_tenant=fields["tenant_queue_depth_limit"].default,
    )


def accept_everything(_requirements: Mapping[str, Any] | None) -> bool:
    return True


# --- store timings -------------------------------------------------------------------


async def deep_cursor(store: SqlJobStore, tenant: str) -> tuple[int, str | None]:
    """The cursor of page ``DEEP_PAGE`` (or of the last page when there are fewer)."""
    cursor: str | None = None
    page_number = 1
    while page_number < DEEP_PAGE:
        page = await store.list_jobs(tenant, None, PAGE_SIZE, cursor)
        if page.next_cursor is None:
            break
        cursor, page_number = page.next_cursor, page_number + 1
    return page_number, cursor


async def time_creates(store: SqlJobStore, samples: int) -> list[float]:
    limits = default_limits()
    templates = builtin_templates()
    latencies = []
    for index in range(samples):
        new_job = wan_job(templates[index % 2], 10_000_000 + index, TENANTS[index % len(TENANTS)])
        started = time.perf_counter()
        await store.create_job(new_job, limits=limits)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


@dataclass
class WorkerCycle:
    """Latencies of claim → mark_running → finish_job, one job at a time."""

    claim: list[float] = field(default_factory=list)
    mark_running: list[float] = field(default_factory=list)
    finish: list[float] = field(default_factory=list)


async def _timed_call(sink: list[float], call: Awaitable[Any]) -> Any:
    started = time.perf_counter()
    result = await call
    sink.append((time.perf_counter() - started) * 1000)
    return result


async def worker_cycles(store: SqlJobStore, samples: int, *, filtered: bool) -> WorkerCycle:
    cycle = WorkerCycle()
    can_run = accept_everything if filtered else None
    for _ in range(samples):
        claim = await _timed_call(
            cycle.claim, store.claim_next_job(WORKER_ID, LEASE_S, can_run=can_run)
        )
        if claim is None:
            raise RuntimeError("the backlog ran out: lower --samples")
        token = claim.fencing_token
        await _timed_call(cycle.mark_running, store.mark_running(claim.job.job_id, token))
        await _timed_call(
            cycle.finish, store.finish_job(claim.job.job_id, token, **finished(claim.job))
        )
    return cycle


def finished(job: Job) -> dict[str, Any]:
    filename = f"wan22_i2v_{job.job_id}_00001_.mp4"
    output = JobOutput(
        index=0,
        node_id="61",
        kind="video",
        filename=filename,
        subfolder="video",
        content_type="video/mp4",
        size_bytes=4_200_000,
        sha256=fake_sha(filename),
        temporary=False,
        storage_key=storage_key(job.tenant_id, job.job_id, 0, filename),
    )
    return {
        "status": JobStatus.COMPLETED,
        "outputs": [output],
        "timings": {"execution_ms": 93_000},
    }


async def store_timings(
    store: SqlJobStore, stored: Sequence[StoredJob], samples: int
) -> dict[str, Any]:
    chooser = random.Random(1)
    tenant = TENANTS[0]
    figures: dict[str, Any] = {
        "create_job_with_default_limits": summary(await time_creates(store, samples)),
    }

    async def get_random() -> None:
        job = chooser.choice(stored)
        await store.get_job(job.tenant_id, job.job_id)

    figures["get_job_random"] = summary(await timed(get_random, samples))
    first = await timed(lambda: store.list_jobs(tenant, None, PAGE_SIZE), samples)
    deep_page, cursor = await deep_cursor(store, tenant)
    deep = await timed(lambda: store.list_jobs(tenant, None, PAGE_SIZE, cursor), samples)
    figures["list_page_1"] = {"tenant": tenant, **summary(first)}
    figures["list_deep_page"] = {"tenant": tenant, "page": deep_page, **summary(deep)}
    claimable = (await store.count_active()).queued
    cycles = min(samples, claimable // 2)
    for label, filtered in (("worker_cycle", False), ("worker_cycle_can_run", True)):
        cycle = await worker_cycles(store, cycles, filtered=filtered)
        figures[label] = {
            "claim_next_job": summary(cycle.claim),
            "mark_running": summary(cycle.mark_running),
            "finish_job": summary(cycle.finish),
        }
    return figures


# --- query plans ---------------------------------------------------------------------


@contextmanager
def recorded_statements(engines: Sequence[Engine]) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT / UPDATE the engines run inside the block, with its parameters."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            statements.append((sql, params))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def plan_lines(conn: Connection, sql: str, params: Any) -> list[str]:
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
    depth: dict[int, int] = {0: 0}
    lines = []
    for node_id, parent, _unused, detail in rows:
        depth[node_id] = depth.get(parent, 0) + 1
        lines.append("  " * (depth[node_id] - 1) + str(detail))
    return lines


def short_sql(sql: str) -> str:
    """The statement with its long column lists folded to ``…``."""
    folded = re.sub(r"SELECT .*? FROM", "SELECT … FROM", " ".join(sql.split()))
    return re.sub(
        r"RETURNING .*$", "RETURNING …", re.sub(r" SET .*? WHERE", " SET … WHERE", folded)
    )


async def explain(store: SqlJobStore, call: Callable[[], Awaitable[Any]]) -> list[dict[str, Any]]:
    with recorded_statements(store.engines) as statements:
        await call()

    def plans(conn: Connection) -> list[dict[str, Any]]:
        return [
            {"sql": short_sql(sql), "plan": plan_lines(conn, sql, params)}
            for sql, params in statements
        ]

    return await store.run_transaction(plans, write=False)


async def query_plans(store: SqlJobStore, stored: Sequence[StoredJob]) -> dict[str, Any]:
    tenant = TENANTS[0]
    job = next(job for job in stored if job.tenant_id == tenant)
    _, cursor = await deep_cursor(store, tenant)
    new_job = wan_job(builtin_templates()[0], 20_000_000, tenant)
    claims: list[Any] = []

    async def claim() -> None:
        claims.append(await store.claim_next_job(WORKER_ID, LEASE_S, can_run=accept_everything))

    figures = {
        "create_job_with_limits": await explain(
            store, lambda: store.create_job(new_job, limits=default_limits())
        ),
        "get_job": await explain(store, lambda: store.get_job(tenant, job.job_id)),
        "list_page_1": await explain(store, lambda: store.list_jobs(tenant, None, PAGE_SIZE)),
        "list_deep_page": await explain(
            store, lambda: store.list_jobs(tenant, None, PAGE_SIZE, cursor)
        ),
        "claim_next_job_can_run": await explain(store, claim),
    }
    for claimed in claims:  # leave no job held: the serve run checks nobody claims
        if claimed is not None:
            await store.release_job(claimed.job.job_id, claimed.fencing_token, False)
    return figures


# --- API timings ---------------------------------------------------------------------


def closed_local_url() -> tuple[str, bool]:
    """A local URL nobody listens on, and whether a connection to it was refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return f"http://127.0.0.1:{port}", True
    return f"http://127.0.0.1:{port}", False


def headers_of(tenant: str) -> dict[str, str]:
    return {"X-API-Key": TENANT_KEYS[tenant]}


def timed_request(client: httpx.Client, sink: list[float], *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    answer = client.request(*args, **kwargs)
    sink.append((time.perf_counter() - started) * 1000)
    if answer.status_code >= 300:
        raise RuntimeError(f"{args}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def api_submits(client: httpx.Client, samples: int) -> list[float]:
    latencies: list[float] = []
    colour = int(time.time()) % 1_000_000
    for index in range(samples):
        tenant = TENANTS[index % len(TENANTS)]  # keeps each tenant under its queue limit
        body = {"workflow": tiny_graph(colour + index)}
        timed_request(client, latencies, "POST", "/v1/jobs", json=body, headers=headers_of(tenant))
    return latencies


def api_gets(client: httpx.Client, stored: Sequence[StoredJob], samples: int) -> list[float]:
    tenant = TENANTS[0]
    own = [job.job_id for job in stored if job.tenant_id == tenant]
    chooser = random.Random(2)
    latencies: list[float] = []
    for _ in range(samples):
        url = f"/v1/jobs/{chooser.choice(own)}"
        timed_request(client, latencies, "GET", url, headers=headers_of(tenant))
    return latencies


def api_deep_cursor(client: httpx.Client, tenant: str) -> tuple[int, str | None]:
    cursor: str | None = None
    page_number = 1
    while page_number < DEEP_PAGE:
        params = {"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/jobs", params=params, headers=headers_of(tenant)).json()
        if page["next_cursor"] is None:
            break
        cursor, page_number = page["next_cursor"], page_number + 1
    return page_number, cursor


def api_lists(client: httpx.Client, samples: int, cursor: str | None) -> list[float]:
    params: dict[str, Any] = {"limit": PAGE_SIZE, **({"cursor": cursor} if cursor else {})}
    latencies: list[float] = []
    for _ in range(samples):
        timed_request(
            client, latencies, "GET", "/v1/jobs", params=params, headers=headers_of(TENANTS[0])
        )
    return latencies


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def api_timings(data_dir: Path, stored: Sequence[StoredJob], samples: int) -> dict[str, Any]:
    comfy_url, refused = closed_local_url()
    started = time.perf_counter()
    with running_gateway(serve_args(data_dir, comfy_url)) as gateway:
        ready_s = time.perf_counter() - started
        assert gateway.url is not None
        pid = gateway.process.pid
        serve_cpu, clock = process_cpu_s(pid), CpuClock()
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            submits = api_submits(client, samples)
            gets = api_gets(client, stored, samples)
            first = api_lists(client, samples, None)
            deep_page, cursor = api_deep_cursor(client, TENANTS[0])
            deep = api_lists(client, samples, cursor)
        load, serve_cpu = clock.share(), process_cpu_s(pid) - serve_cpu
    return {
        "server": "serve (default settings, API keys on, worker on)",
        "comfy_url": f"{comfy_url} (closed local port, refused: {refused}): the worker never"
        " reaches a backend, so it never claims",
        "client": "httpx.Client, one request at a time",
        "serve_ready_s": round(ready_s, 2),
        "post_job_tiny_graph": summary(submits),
        "get_job_random_of_tenant": {"tenant": TENANTS[0], **summary(gets)},
        "list_page_1": {"tenant": TENANTS[0], **summary(first)},
        "list_deep_page": {"tenant": TENANTS[0], "page": deep_page, **summary(deep)},
        "load_generator": load,
        "serve_cpu_s": round(serve_cpu, 2),
        "serve_cpu_share": round(serve_cpu / load["wall_s"], 3),
    }


# --- the run -------------------------------------------------------------------------


async def filled_store(path: Path, count: int) -> tuple[list[StoredJob], dict[str, Any]]:
    """Fill the store at ``path`` and turn most of it into history; the fill's figures."""
    step = HISTORY_SPAN / max(count, 1)
    clock = ReplayClock(datetime.now(UTC) - HISTORY_SPAN - timedelta(minutes=10), step)
    store = await open_sqlite_store(path, clock=clock)
    try:
        started = time.perf_counter()
        stored, creates = await fill(store, count)
        fill_s = time.perf_counter() - started
        plan = plan_history(stored, backlog_per_tenant(count))
        started = time.perf_counter()
        await store.run_transaction(lambda conn: apply_history(conn, plan), write=True)
        history_s = time.perf_counter() - started
    finally:
        await store.close()
    return stored, {
        "fill_s": round(fill_s, 1),
        "fill_create_job_no_limits": summary(creates),
        "history_transaction_s": round(history_s, 1),
        "mix": plan.counts,
        "rows": {
            "job_outputs": len(plan.outputs),
            "job_attempts": len(plan.attempts),
            "webhook_outbox_delivered": len(plan.outbox),
        },
    }


async def store_phase(path: Path, stored: Sequence[StoredJob], samples: int) -> dict[str, Any]:
    store = await open_sqlite_store(path)
    try:
        clock = CpuClock()
        figures = await store_timings(store, stored, samples)
        figures["load_generator"] = {**clock.share(), "note": "the store runs in this process"}
        figures["explain_query_plan"] = await query_plans(store, stored)
    finally:
        await store.close()
    return figures


async def held_and_queued(path: Path) -> dict[str, int]:
    store = await open_sqlite_store(path)
    try:

        def counts(conn: Connection) -> dict[str, int]:
            held = select(func.count()).where(jobs.c.claimed_by.is_not(None))
            queued = select(func.count()).where(jobs.c.status == JobStatus.QUEUED.value)
            total = select(func.count()).select_from(jobs)
            return {
                "held_after_serve": int(conn.execute(held).scalar_one()),
                "queued_after_serve": int(conn.execute(queued).scalar_one()),
                "jobs_after_serve": int(conn.execute(total).scalar_one()),
            }

        return await store.run_transaction(counts, write=False)
    finally:
        await store.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        path = GatewaySettings(data_dir=data_dir).sqlite_path
        stored, fill_figures = asyncio.run(filled_store(path, args.count))
        store_figures = asyncio.run(store_phase(path, stored, args.samples))
        api_figures = api_timings(data_dir, stored, args.samples)
        api_figures["check"] = asyncio.run(held_and_queued(path))
        database_mb = round(sum(p.stat().st_size for p in data_dir.glob("*.sqlite3*")) / 1e6, 1)
    return {
        "benchmark": "big_store",
        "store": "sqlite (the serve data dir's comfy-gateway.sqlite3)",
        "jobs_stored": args.count,
        "tenants": len(TENANTS),
        "database_mb": database_mb,
        "rows": (
            "WAN 2.2 i2v/s2v graphs from the built-in templates (seed, prompt, output prefix"
            " vary), resolved params, requirements, media refs, webhook on 1 in"
            f" {WEBHOOK_EVERY}; created_at spread over the last {HISTORY_SPAN}"
        ),
        "fill": fill_figures,
        "store_in_process": store_figures,
        "api": api_figures,
        "queue_limits": {
            "max_queued": default_limits().max_queued,
            "max_queued_per_tenant": default_limits().max_queued_per_tenant,
        },
        "target_p99_ms": TARGET_P99_MS,
        "wall_s": round(time.perf_counter() - wall, 1),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=1_000)
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
