"""Response bodies read while they arrive: the streams of :mod:`aios3path._http`.

A connection that answers a streamed request fills a :class:`Reception` (buffers of
:data:`STREAM_CHUNK` bytes, reused once read); the caller reads it through a
:class:`BodyStream`. Flow control: the connection's socket is not read while 4 MiB wait
unread, and is read again once 2 MiB are left, so a stream holds a few MiB whatever the body's
size. The connection never refers to the :class:`BodyStream`, only to the reception, so a
stream nobody closed is still garbage-collected, and then gives its connection up.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from ._http_errors import HttpConnectionError, StreamPreemptedError

#: A streamed body arrives into buffers of this size (reused once read).
STREAM_CHUNK = 1024 * 1024
#: A streamed body stops reading its socket while this much waits unread...
_STREAM_HIGH_WATER = 4 * STREAM_CHUNK
#: ...and starts again when the unread part is down to this.
_STREAM_LOW_WATER = 2 * STREAM_CHUNK
_EMPTY = bytearray()


class _Origin(Protocol):
    @property
    def host(self) -> str: ...


class StreamConnection(Protocol):
    """What a reception needs of the connection that fills it."""

    @property
    def origin(self) -> _Origin:
        """Where the connection goes."""

    @property
    def transport(self) -> asyncio.Transport | None:
        """Its transport (paused and resumed for flow control)."""

    last_activity: float
    """When a byte last arrived (loop time): the read timeout counts from it."""

    def close(self) -> None:
        """Close the connection now."""

    def stream_done(self) -> None:
        """The body is all in, or failed: the connection no longer fills the reception."""


class Reception:
    """The receiving side of a streamed body: the buffers the connection fills in order.

    Shared by the connection (which fills it) and its :class:`BodyStream` (which reads it);
    the connection never refers to the stream itself, so a stream nobody closed is still
    garbage-collected, and then releases its connection.
    """

    __slots__ = (
        "buffered",
        "chunks",
        "closed",
        "connection",
        "consumed",
        "error",
        "fill",
        "free",
        "last_read",
        "length",
        "paused",
        "received",
        "release",
        "start",
        "waiter",
        "want",
    )

    def __init__(self, connection: StreamConnection | None, length: int) -> None:
        self.connection = connection
        self.length = length
        self.chunks: collections.deque[bytearray] = collections.deque()
        self.free: list[bytearray] = []
        self.start = 0  # bytes of chunks[0] already read
        self.fill = 0  # bytes of chunks[-1] already received
        self.received = 0
        self.consumed = 0
        self.buffered = 0
        self.paused = False
        self.closed = False
        self.last_read = time.monotonic()
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.want = 0
        #: Hands the connection back to its pool (once the body is in, or the stream closed).
        self.release: Callable[[], None] | None = None

    @property
    def complete(self) -> bool:
        return self.received >= self.length

    def contiguous(self) -> int:
        """Unread bytes at the front of the first buffer."""
        chunks = self.chunks
        if not chunks:
            return 0
        end = self.fill if len(chunks) == 1 else len(chunks[0])
        return end - self.start

    def receive_view(self) -> memoryview:
        """Where the next bytes from the socket go: the free end of the last buffer."""
        chunks = self.chunks
        if not chunks or self.fill == len(chunks[-1]):
            chunks.append(self.free.pop() if self.free else bytearray(STREAM_CHUNK))
            self.fill = 0
        room = min(len(chunks[-1]) - self.fill, self.length - self.received)
        return memoryview(chunks[-1])[self.fill : self.fill + room]

    def take(self, data: bytes | bytearray | memoryview) -> None:
        """Bytes that came with the response's head."""
        view = memoryview(data)
        while view:
            target = self.receive_view()
            count = min(len(target), len(view))
            target[:count] = view[:count]
            self.arrived(count)
            view = view[count:]

    def arrived(self, count: int) -> None:
        """``count`` bytes were received into :meth:`receive_view`."""
        self.fill += count
        self.received += count
        self.buffered += count
        connection = self.connection
        if self.complete:
            self._detach()
        elif self.buffered >= _STREAM_HIGH_WATER and not self.paused and connection is not None:
            self.paused = True
            if connection.transport is not None:
                connection.transport.pause_reading()
        if self.waiter is not None and (self.complete or self.contiguous() >= self.want):
            self._wake()

    def _wake(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _detach(self) -> None:
        """The body is all here (or failed): the connection is no longer needed."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.stream_done()
        release, self.release = self.release, None
        if release is not None:
            release()

    def fail(self, error: BaseException) -> None:
        """The body will not arrive whole: reads from now on raise ``error``."""
        if self.error is None and not self.complete:
            self.error = error
        self._detach()
        self._wake()

    def consume(self, count: int) -> None:
        """``count`` bytes at the front were read: recycle buffers read to their end."""
        self.last_read = time.monotonic()
        self.consumed += count
        self.buffered -= count
        self.start += count
        chunks = self.chunks
        while chunks and self.start >= len(chunks[0]):
            if len(chunks) == 1 and self.fill < len(chunks[0]):
                break
            self.start -= len(chunks[0])
            done = chunks.popleft()
            if len(self.free) < 2:
                self.free.append(done)
            if not chunks:
                self.fill = 0
        if self.paused and self.buffered <= _STREAM_LOW_WATER:
            self.paused = False
            connection = self.connection
            if connection is not None and connection.transport is not None:
                connection.transport.resume_reading()

    def preempt(self) -> None:
        """Give the connection up for another request; what has arrived stays readable."""
        connection = self.connection
        if connection is None:
            return
        if self.error is None and not self.complete:
            self.error = StreamPreemptedError(
                f"the connection to {connection.origin.host} went to another request"
            )
        connection.close()
        self._detach()
        self._wake()

    def abandon(self) -> None:
        """The reader is gone: drop what is buffered and the connection if it is still busy."""
        self.closed = True
        self.chunks.clear()
        self.free.clear()
        connection = self.connection
        if connection is not None:
            connection.close()
        if self.error is None and not self.complete:
            self.error = HttpConnectionError("the stream was closed")
        self._detach()
        self._wake()


def _abandon_from_anywhere(loop: asyncio.AbstractEventLoop, reception: Reception) -> None:
    """A stream was garbage-collected unclosed: close its connection on its loop."""
    if reception.connection is None and reception.release is None:
        return
    with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to release
        loop.call_soon_threadsafe(reception.abandon)


class BodyStream:
    """A response body read while it arrives (see :class:`HttpPool` ``stream=True``).

    Reads return bytes in order; an error (the connection broke, the read timeout passed)
    is raised by the read that would have needed the missing bytes. Close the stream when
    done with it: a body not read to its end costs its connection.
    """

    __slots__ = ("__weakref__", "_reception")

    def __init__(self, reception: Reception, loop: asyncio.AbstractEventLoop) -> None:
        self._reception = reception
        finalizer = weakref.finalize(self, _abandon_from_anywhere, loop, reception)
        finalizer.atexit = False  # at exit the loop is gone: nothing is left to release

    @property
    def length(self) -> int:
        """The body's size."""
        return self._reception.length

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        reception = self._reception
        return reception.length - reception.consumed

    @classmethod
    def of(cls, data: bytes | bytearray | memoryview) -> BodyStream:
        """A stream over a body that is all here already."""
        reception = Reception(None, len(data))
        reception.take(data)
        return cls(reception, asyncio.get_running_loop())

    async def peek(self, want: int) -> tuple[bytearray, int, int]:
        """The next unread bytes as ``(buffer, start, end)``: they are ``buffer[start:end]``.

        Waits until at least ``want`` are in (fewer only at the end of a buffer or of the
        body, or before an error; ``start == end`` at the end of the body). Nothing is
        consumed: :meth:`consume` does that, and until then the bytes stay where they are.
        Bytes that arrived before the connection failed are shown before the error is raised.
        """
        reception = self._reception
        while True:
            if reception.closed:
                raise HttpConnectionError("the stream was closed")
            if reception.waiter is not None:
                raise RuntimeError("another read is already waiting on this stream")
            reception.last_read = time.monotonic()
            available = reception.contiguous()
            need = min(max(want, 1), reception.length - reception.consumed)
            if reception.chunks:
                need = min(need, len(reception.chunks[0]) - reception.start)
            if available >= need or reception.complete:
                break
            if reception.error is not None:
                if available:
                    break  # what did arrive is still good
                raise reception.error
            loop = asyncio.get_running_loop()
            waiter = loop.create_future()
            reception.waiter = waiter
            reception.want = min(need, STREAM_CHUNK)
            if reception.connection is not None:  # the read timeout counts from now
                reception.connection.last_activity = loop.time()
            try:
                await waiter
            finally:
                if reception.waiter is waiter:
                    reception.waiter = None
        if not available:
            return _EMPTY, 0, 0
        start = reception.start
        return reception.chunks[0], start, start + available

    def consume(self, count: int) -> None:
        """Mark the first ``count`` bytes shown by :meth:`peek` as read."""
        self._reception.consume(count)

    async def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (at least one unless the body has ended: then ``b""``)."""
        if size < 0:
            raise ValueError(f"read size must be 0 or more, not {size}")
        if size == 0:
            return b""
        buffer, start, end = await self.peek(size)
        with memoryview(buffer) as view:
            data = bytes(view[start : min(end, start + size)])
        self.consume(len(data))
        return data

    def close(self) -> None:
        """Stop reading: the connection is closed if the body had not all arrived."""
        self._reception.abandon()
