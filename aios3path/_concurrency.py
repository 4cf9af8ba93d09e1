"""Bounded concurrency that cancels what is left when one task fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


async def map_bounded(
    function: Callable[[_T], Awaitable[_R]], items: Sequence[_T], limit: int
) -> list[_R]:
    """``[await function(item) for item in items]`` with at most ``limit`` running at once.

    Results keep the order of ``items``. The first failure cancels the tasks still running and
    is raised once they have ended, so nothing keeps running behind the caller's back.
    """
    if not items:
        return []
    results: list[_R | None] = [None] * len(items)
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(items):
            index = next_index
            next_index += 1
            results[index] = await function(items[index])

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return results  # type: ignore[return-value]
