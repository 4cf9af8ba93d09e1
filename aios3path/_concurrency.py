"""Bounded concurrency that cancels what is left when one task fails, and clean-ups that
outlive their cancelled callers."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

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


#: Clean-ups still running after their callers were cancelled (referenced here until they end).
_CLEANUPS: set[asyncio.Future[Any]] = set()

#: Tasks that must run to their end: a request whose answer matters even when its caller is
#: gone (it creates something that must then be removed), and clean-ups.
_PROTECTED: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()


def protected(awaitable: Awaitable[_R]) -> asyncio.Future[_R]:
    """``awaitable`` as a task that a loop's shutdown does not cancel (it waits for it);
    shield it from its caller's cancellation where it is awaited."""
    task = asyncio.ensure_future(awaitable)
    _PROTECTED.add(task)
    return task


def is_protected(task: asyncio.Future[Any]) -> bool:
    """Whether ``task`` was made by :func:`protected` (the runner's shutdown spares it)."""
    return task in _PROTECTED


def retrieve(done: asyncio.Future[Any]) -> None:
    """Done-callback: mark a dropped task's exception as retrieved (asyncio logs no "exception
    was never retrieved" for it)."""
    if not done.cancelled():
        done.exception()


def start_cleanup(awaitable: Awaitable[_R]) -> asyncio.Future[_R]:
    """Start ``awaitable`` as a clean-up that runs to its end, with nobody waiting for it.

    It is protected (the loop's shutdown waits for it), kept referenced until it ends, and its
    error, which nobody may be there to see, is retrieved rather than logged as never retrieved.
    """
    cleanup = protected(awaitable)
    _CLEANUPS.add(cleanup)
    cleanup.add_done_callback(_CLEANUPS.discard)
    cleanup.add_done_callback(retrieve)
    return cleanup


async def settle_cleanups(timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) for the clean-ups running on this loop to end: before
    its clients close, the aborts they send still need them."""
    loop = asyncio.get_running_loop()
    pending = [c for c in _CLEANUPS if not c.done() and c.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


async def run_cleanup(awaitable: Awaitable[_R]) -> _R:
    """``await awaitable`` as a clean-up that runs to its end whatever happens to the caller.

    A cancellation of the caller (even a second one, as :func:`map_bounded` sends) leaves the
    clean-up running on its own (see :func:`start_cleanup`).
    """
    return await asyncio.shield(start_cleanup(awaitable))
