"""Worker threads for blocking work that keep working while the interpreter exits.

:mod:`concurrent.futures` refuses new work in every ``ThreadPoolExecutor`` once the main thread
has finished (before non-daemon threads are joined and before ``atexit`` handlers run). The
background loop of the sync API still has work then: a non-daemon thread that outlives the main
thread, or a file closed at exit, computes checksums and touches local files through its
loop's default executor. :class:`LastingExecutor` is that executor: a ``ThreadPoolExecutor``
by type (which ``loop.set_default_executor`` requires) whose daemon workers take work until
the executor itself is shut down. Where no worker thread can be started any more (the
interpreter is finalizing), the work runs in the submitting thread.

:func:`in_own_thread` runs user code that may wait for the loop (a progress callback's
constructor making sync calls) in a thread of its own, never in a pool the loop's own work
needs: enough of those waiting at once would hold every worker, and the loop would wait for
them forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")

#: A call to run: its future, the function, its positional and keyword arguments.
_WorkItem = tuple[
    "concurrent.futures.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]
]


class LastingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that ignores :mod:`concurrent.futures`' exit-time refusal.

    Up to ``max_workers`` daemon threads (started as work arrives, kept while idle) run the
    submitted calls in order. Only :meth:`shutdown` stops it.
    """

    def __init__(self, max_workers: int | None = None, name: str = "aios3path-worker") -> None:
        workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        super().__init__(max_workers=workers, thread_name_prefix=name)
        self._name = name
        self._work: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._workers: list[threading.Thread] = []
        self._guard = threading.Lock()
        self._closed = False

    def submit(
        self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[_T]:
        """Schedule ``fn(*args, **kwargs)``; its future."""
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        with self._guard:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._work.put((future, fn, args, kwargs))
            if self._idle.acquire(blocking=False) or len(self._workers) >= self._max_workers:
                return future
            worker = threading.Thread(
                target=self._serve, name=f"{self._name}-{len(self._workers)}", daemon=True
            )
            try:
                worker.start()
            except RuntimeError:  # the interpreter is finalizing: no new threads
                if self._workers:
                    return future
            else:
                self._workers.append(worker)
                return future
        self._run_queued()  # no worker at all: run it here
        return future

    def _serve(self) -> None:
        while self._run_one(self._work.get()):
            self._idle.release()

    def _run_queued(self) -> None:
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return
            if not self._run_one(item):
                return

    @staticmethod
    def _run_one(item: _WorkItem | None) -> bool:
        """Run one work item; False for the stop signal."""
        if item is None:
            return False
        future, fn, args, kwargs = item
        if future.set_running_or_notify_cancel():
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; the workers stop once the queued work is done (``wait``: join them)."""
        with self._guard:
            self._closed = True
            workers = list(self._workers)
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in workers:
            self._work.put(None)
        if wait:
            for worker in workers:
                if worker is not threading.current_thread():
                    worker.join()


async def in_own_thread(function: Callable[..., _T], /, *args: Any) -> _T:
    """``function(*args)`` in a new daemon thread (with this task's context variables).

    A cancellation leaves the thread to finish on its own; its outcome is dropped.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[_T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(settler: Callable[[Any], object], value: Any) -> None:
        if not outcome.done():
            settler(value)

    def work() -> None:
        try:
            result = context.run(function, *args)
        except BaseException as error:
            report = functools.partial(settle, outcome.set_exception, error)
        else:
            report = functools.partial(settle, outcome.set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(report)

    threading.Thread(target=work, name="aios3path-user-code", daemon=True).start()
    return await outcome
