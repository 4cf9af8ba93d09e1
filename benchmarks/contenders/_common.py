"""Helpers shared by the contenders (standard library only)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from workloads import Sizes, list_keys, small_keys, tree_keys

T = TypeVar("T")
R = TypeVar("R")

_PAYLOADS: dict[int, bytes] = {}


def payload(size: int) -> bytes:
    """``size`` random bytes, made once per process (not timed: see ``Contender.prepare``)."""
    data = _PAYLOADS.get(size)
    if data is None:
        data = os.urandom(size)  # incompressible, like real data
        _PAYLOADS[size] = data
    return data


def chunks(data: bytes, size: int) -> Iterator[memoryview]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield view[start : start + size]


async def gather_bounded(
    fn: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int
) -> list[R]:
    """``fn(item)`` for every item, at most ``limit`` in flight (the usual semaphore pattern)."""
    semaphore = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with semaphore:
            return await fn(item)

    return await asyncio.gather(*(one(item) for item in items))


def thread_map(fn: Callable[[T], R], items: Iterable[T], threads: int) -> list[R]:
    """``fn(item)`` for every item on ``threads`` threads (how sync code gets concurrency)."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, items))


class Contender:
    """One library under test. Workload methods are ``w_<workload>(args)``, sync or async.

    Every workload returns a number the orchestrator checks (objects listed, bytes moved).
    """

    name = "?"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.sizes = Sizes(**config["sizes"])
        self.bucket: str = config["bucket"]
        self.endpoint: str = config["endpoint_url"]
        self.access_key: str = config["aws_access_key_id"]
        self.secret_key: str = config["aws_secret_access_key"]
        self.region: str = config["region_name"]
        self.small_keys = small_keys(self.sizes)
        self.list_keys = list_keys(self.sizes)
        self.tree_keys = tree_keys(self.sizes)

    def versions(self) -> dict[str, str]:
        return {}

    def prepare(self, workload: str, args: dict[str, Any]) -> None:
        """Untimed preparation before a timed run (payloads are made here)."""
        if workload in ("write_bytes", "stream_write"):
            payload(self.sizes.big)


def version_of(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"
