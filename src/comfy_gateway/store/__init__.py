"""Durable job storage: the :class:`JobStore` interface and its implementations."""

from comfy_gateway.store.clock import Clock, ManualClock, SystemClock
from comfy_gateway.store.interface import (
    ActiveCounts,
    JobStore,
    OutboxEntry,
    QueueLimits,
)
from comfy_gateway.store.sql_store import SqlJobStore
from comfy_gateway.store.sqlite import open_sqlite_store

__all__ = [
    "ActiveCounts",
    "Clock",
    "JobStore",
    "ManualClock",
    "OutboxEntry",
    "QueueLimits",
    "SqlJobStore",
    "SystemClock",
    "open_sqlite_store",
]
