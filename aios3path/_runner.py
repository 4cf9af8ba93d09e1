"""The background event loop the synchronous API runs on.

One daemon thread, started on first use, runs an event loop; :func:`run` submits a coroutine
to it and waits. It works from plain scripts, from many threads at once and from threads that
run their own event loop (Jupyter, a FastAPI handler). After ``os.fork()`` the child starts a
fresh thread and loop on its next call. Ctrl-C while waiting cancels the submitted coroutine.

At interpreter exit (``atexit``) the loop's clients are closed and the thread stops for good:
a call after that raises ``RuntimeError`` (a daemon thread still calling in waits for the
interpreter to end instead, as daemon threads do), and never starts a new thread, which the
interpreter would wait for forever.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from ._concurrency import is_protected, start_cleanup
from ._pool import close_loop_clients
from ._workers import LastingExecutor

_T = TypeVar("_T")
_U = TypeVar("_U")


class _Runner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._abandoned: list[asyncio.AbstractEventLoop] = []
        self._shut_down = False

    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._shut_down:
                _after_shutdown()
            if self._loop is None:
                loop = asyncio.new_event_loop()
                # Its blocking work (checksums, local files) goes on at exit too.
                loop.set_default_executor(LastingExecutor())
                ready = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(loop, ready), name="aios3path-runner", daemon=True
                )
                try:
                    thread.start()
                except BaseException:  # (3.12+: no new thread once the main thread ended)
                    loop.close()
                    raise
                ready.wait()
                self._thread = thread
                self._loop = loop
            return self._loop

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        try:
            loop = self.loop()
        except BaseException:
            coroutine.close()  # never to run: no "never awaited" warning
            raise
        if self._shut_down:  # the exit's shutdown has begun: nothing new may start
            coroutine.close()
            _after_shutdown()
        if on_runner_thread():
            coroutine.close()
            raise RuntimeError(
                "the synchronous S3Path API was called from aios3path's own event loop "
                "(e.g. from a progress callback); use AsyncS3Path there"
            )
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException as error:
            future.cancel()
            if self._shut_down and threading.current_thread().daemon:
                # The exit's shutdown began while this call ran (it failed for that: cancelled,
                # or its clients closed): end as daemon threads do, quietly.
                threading.Event().wait()
            if self._shut_down and isinstance(error, concurrent.futures.CancelledError):
                _after_shutdown()  # cancelled by the shutdown, not by its caller
            raise

    @property
    def shut_down(self) -> bool:
        """True once the interpreter's exit has stopped the loop for good."""
        return self._shut_down

    def shutdown(self) -> None:
        """Close the loop's clients, cancel what still runs and stop the thread for good."""
        with self._lock:
            self._shut_down = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        # What still runs (a daemon thread's write, say) is cancelled first, while the clients
        # still work: its clean-up (aborting a multipart upload) can still be sent. Then the
        # clients close, aborting the uploads of writers nobody closed.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_cancel_remaining(), loop).result(2.0)
        close_loop_clients(loop, timeout=2.0)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2.0)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None

    def forget_after_fork(self) -> None:
        """In a forked child: drop the parent's thread and loop (they do not exist here)."""
        self._lock = threading.Lock()
        if self._loop is not None:
            self._abandoned.append(self._loop)
        self._loop = self._thread = None


def _after_shutdown() -> None:
    """A call that came after the exit's shutdown: a daemon thread waits for the interpreter
    to end (it would be frozen there anyway, and prints no traceback); others get an error."""
    if threading.current_thread().daemon:
        threading.Event().wait()
    raise RuntimeError(
        "aios3path's background event loop has shut down: the interpreter is exiting"
    )


async def _cancel_remaining() -> None:
    """Cancel the loop's tasks and give their clean-ups a second: those run as tasks of their
    own, started by the cancellation, which are waited for too (not cancelled), as are the
    protected requests they need the answers of (a ``CreateMultipartUpload`` on its way)."""
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 1.0
    for task in asyncio.all_tasks() - {current}:
        if not is_protected(task):
            task.cancel()
    while (tasks := asyncio.all_tasks() - {current}) and loop.time() < deadline:
        await asyncio.wait(tasks, timeout=deadline - loop.time())
    await loop.shutdown_asyncgens()


_runner = _Runner()


def on_runner_thread() -> bool:
    """True when called from the background loop's own thread (sync calls would deadlock)."""
    return _runner._thread is threading.current_thread()


def run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coroutine`` on the background loop and return its result (blocking)."""
    return _runner.run(coroutine)


def shut_down() -> bool:
    """True once the interpreter's exit has stopped the background loop for good."""
    return _runner.shut_down


async def _next_page(pages: AsyncIterator[_T]) -> tuple[bool, _T | None]:
    try:
        return True, await pages.__anext__()
    except StopAsyncIteration:
        return False, None


async def _close(pages: AsyncIterator[Any]) -> None:
    aclose = getattr(pages, "aclose", None)
    if aclose is not None:
        await aclose()


def iterate_pages(pages: AsyncIterator[list[_T]], convert: Callable[[_T], _U]) -> Iterator[_U]:
    """Iterate an async generator of pages synchronously, crossing to the loop once per page."""
    finished = False
    try:
        while True:
            more, page = _runner.run(_next_page(pages))
            if not more:
                finished = True
                return
            assert page is not None
            for item in page:
                yield convert(item)
    finally:
        loop = _runner._loop
        if finished or loop is None:
            pass
        elif on_runner_thread():
            # Abandoned and collected on the loop's own thread (the garbage collector runs
            # wherever it is triggered): close the listing there, later, on its own.
            loop.call_soon(start_cleanup, _close(pages))
        else:
            _runner.run(_close(pages))


atexit.register(_runner.shutdown)
os.register_at_fork(after_in_child=_runner.forget_after_fork)
