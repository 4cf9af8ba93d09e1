"""A small HTTP/1.1 client on asyncio protocols, for the lean request path.

aiohttp's ``ClientSession`` spends more CPU per request (tracing hooks, cookie jar, header
multidicts, URL objects, stream readers) than signing and parsing an S3 request together. The
lean path needs much less: keep-alive connections to one or a few origins, one request at a time
per connection, ``Content-Length`` or chunked responses read whole (or, for large objects,
streamed). This module is that and nothing more:

* :class:`HttpPool` keeps up to ``limit`` connections (idle ones are reused newest first and
  dropped after ``keepalive`` seconds), creates them with ``loop.create_connection`` (TLS via
  the ``ssl`` context it is given) and makes callers wait when all are busy;
* a request is one ``transport.write`` of its head (and one of its body); the response is
  parsed as it arrives, large bodies are received straight into a buffer of their final size;
* the read timeout is the time without a byte received, as in botocore (checked by one timer
  per pool, every quarter of the timeout, rather than one timer per request);
* a reused keep-alive connection that the server closed before answering is replaced and the
  request sent again once (the server never saw it); every other failure is raised as
  :class:`HttpConnectionError` / :class:`HttpTimeoutError` for the caller's retry logic;
* a request that is cancelled or fails midway closes its connection, so no half-read response
  is ever reused;
* a request sent with ``stream=True`` returns as soon as a successful response's head is in:
  its body is a :class:`BodyStream` that is read while it arrives, with flow control (the
  socket is not read while a few MiB wait unread; see :mod:`aios3path._body_stream`), holding
  the connection until the body is all received or the stream is closed; a request that
  finds the pool full takes the connection of a stream nobody has read for a second.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from ._body_stream import STREAM_CHUNK as STREAM_CHUNK
from ._body_stream import BodyStream as BodyStream
from ._body_stream import Reception
from ._http_errors import HttpCertificateError as HttpCertificateError
from ._http_errors import HttpConnectError as HttpConnectError
from ._http_errors import HttpConnectionError as HttpConnectionError
from ._http_errors import HttpConnectTimeoutError as HttpConnectTimeoutError
from ._http_errors import HttpPoolClosedError as HttpPoolClosedError
from ._http_errors import HttpTimeoutError as HttpTimeoutError
from ._http_errors import HttpTLSError as HttpTLSError
from ._http_errors import StreamPreemptedError as StreamPreemptedError
from ._http_errors import UnframedStreamError as UnframedStreamError

if sys.version_info >= (3, 11):
    from asyncio import timeout as _timeout
else:  # pragma: no cover - Python 3.10
    from async_timeout import timeout as _timeout  # type: ignore[import-not-found, unused-ignore]

#: Bodies at least this large are received straight into one buffer of their final size.
_DIRECT_BODY = 64 * 1024
_SCRATCH = 256 * 1024
#: Request bodies are written this much at a time.
_BODY_SLICE = 1024 * 1024
_NO_BODY_STATUS = frozenset({204, 304})
#: A request waiting for a connection takes one from a streamed body nobody has read for
#: this long (its reader resumes with a new request when it reads again).
STREAM_IDLE_SECONDS = 1.0

Buffer = bytes | bytearray | memoryview


class _ClosedBeforeResponse(HttpConnectionError):
    """A kept-alive connection ended before the first byte of the response."""


@dataclass(slots=True)
class HttpResponse:
    """An HTTP response: status, headers (lower-case names) and body.

    A streamed response (``stream=True``, a 2xx answer with a ``Content-Length``) has an
    empty ``body`` and its bytes in ``stream``.
    """

    status: int
    headers: dict[str, str]
    body: bytes | bytearray | memoryview
    stream: BodyStream | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where requests go: scheme, host and port (``ssl`` for https)."""

    scheme: str
    host: str
    port: int

    @property
    def secure(self) -> bool:
        """Whether connections use TLS."""
        return self.scheme == "https"


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection; parses the response of the request in flight."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, origin: Origin, scratch: memoryview
    ) -> None:
        self.loop = loop
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self.used = False
        self.idle_since = 0.0
        # Shared by the pool's connections: each read is parsed before the next one starts.
        self._scratch = scratch
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._head_request = False
        self._pending = b""
        # 0 idle, 1 head, 2 body by length, 3 direct, 4 chunked, 5 until close, 6 streamed
        self._state = 0
        self._status = 0
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._remaining = 0
        self._direct: bytearray | memoryview | None = None
        self._direct_view: memoryview | None = None
        self._filled = 0
        self._got_bytes = False
        self.last_activity = 0.0
        self._sending_body = False
        self._unsent = 0
        self._closed_here = False
        self._into: bytearray | memoryview | None = None
        self._drained: asyncio.Future[None] | None = None
        self._paused = False
        self._stream_wanted = False
        self._reception: Reception | None = None

    # -- asyncio protocol callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        self._wake_sender()
        reception = self._reception
        if reception is not None:
            reception.fail(
                HttpConnectionError(
                    f"the connection to {self.origin.host} ended in the middle of a response"
                    + (f": {exc}" if exc else "")
                )
            )
        if self._waiter is None or self._waiter.done():
            return
        if self._state == 5 and not self._closed_here:
            self._finish()  # the server's close ends a body that has no length
            return
        if not self._got_bytes and self.used:
            error: HttpConnectionError = _ClosedBeforeResponse("the connection was closed")
        else:
            error = HttpConnectionError(
                f"the connection to {self.origin.host} ended in the middle of a response"
                + (f": {exc}" if exc else "")
            )
        self._fail(error)

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost reports it

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._state == 3:
            return self._direct_view[self._filled :]  # type: ignore[index]
        if self._state == 6:
            return self._reception.receive_view()  # type: ignore[union-attr]
        return self._scratch

    def buffer_updated(self, nbytes: int) -> None:
        self._got_bytes = True
        self.last_activity = self.loop.time()
        if self._state == 6:
            self._reception.arrived(nbytes)  # type: ignore[union-attr]
            return
        if self._state == 3:
            self._filled += nbytes
            direct = self._direct
            if direct is not None and self._filled >= len(direct):
                self._direct = self._direct_view = None
                self._state = 0
                self._finish(direct)
            return
        self._feed(bytes(self._scratch[:nbytes]))

    # -- parsing ---------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        state = self._state
        if state == 1:
            data = self._pending + data if self._pending else data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > 65536:
                    self._fail(HttpConnectionError("response headers over 64 KiB"))
                    return
                self._pending = bytes(data)
                return
            self._pending = b""
            if not self._parse_head(data[:end]):
                return
            self._start_body(data[end + 4 :])
        elif state == 2:
            self._take_length(data)
        elif state == 4:
            self._take_chunked(self._pending + data if self._pending else data)
        elif state == 5:
            self._body.append(data)
        elif data:
            # Bytes nobody asked for: the connection is out of step.
            self.reusable = False
            self._abort()

    def _parse_head(self, head: bytes) -> bool:
        # Header values as aiohttp (so botocore) reads them: UTF-8, any other byte kept as a
        # surrogate. (Latin-1 turned a stored "ü" into "Ã¼", which an append then wrote back.)
        lines = head.decode("utf-8", "surrogateescape").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
            self._fail(HttpConnectionError(f"not an HTTP/1.1 response: {lines[0][:80]!r}"))
            return False
        try:
            status = int(status_line[1])
        except ValueError:
            self._fail(HttpConnectionError(f"bad status line: {lines[0][:80]!r}"))
            return False
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name = name.strip().lower()
            value = value.strip()
            if name in headers:
                headers[name] += ", " + value
            else:
                headers[name] = value
        if status_line[0] == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self.reusable = False
        self._status = status
        self._headers = headers
        return True

    def _start_body(self, rest: bytes) -> None:
        status, headers = self._status, self._headers
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self._state = 1
            if rest:
                self._feed(rest)
            return
        if self._head_request or status in _NO_BODY_STATUS:
            self._body = []
            self._state = 0
            if rest:
                self.reusable = False
            self._finish()
            return
        unframed = "content-length" not in headers or "transfer-encoding" in headers
        if self._stream_wanted and 200 <= status < 300 and unframed:
            self._fail(UnframedStreamError(f"a {status} response without Content-Length"))
            return
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = 4
            self._body = []
            self._remaining = -1
            self._take_chunked(rest)
            return
        length_text = headers.get("content-length")
        if length_text is None:
            self.reusable = False
            self._state = 5
            self._body = [rest] if rest else []
            return
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError(length_text)
        except ValueError:
            self._fail(HttpConnectionError(f"bad Content-Length: {length_text!r}"))
            return
        if self._stream_wanted and 200 <= status < 300 and length and len(rest) <= length:
            reception = Reception(self, length)
            self._reception = reception
            self._state = 6
            self._finish_streamed(reception, rest)
            return
        if length >= _DIRECT_BODY and len(rest) < length:
            into = self._into
            self._into = None
            fits = into is not None and 200 <= status < 300 and len(into) == length
            direct = into if fits and into is not None else bytearray(length)
            direct[: len(rest)] = rest
            self._direct = direct
            self._direct_view = memoryview(direct)
            self._filled = len(rest)
            self._state = 3
            return
        self._state = 2
        self._remaining = length
        self._body = []
        self._take_length(rest)

    def _take_length(self, data: bytes) -> None:
        if not data and self._remaining:
            return
        body = self._body
        if len(data) >= self._remaining:
            if len(data) > self._remaining:
                self.reusable = False  # more than the response: out of step
                data = data[: self._remaining]
            body.append(data)
            self._remaining = 0
            self._state = 0
            self._finish()
            return
        body.append(data)
        self._remaining -= len(data)

    def _take_chunked(self, data: bytes) -> None:
        body = self._body
        position = 0
        while True:
            if self._remaining > 0:  # inside a chunk's data
                piece = data[position : position + self._remaining]
                body.append(piece)
                self._remaining -= len(piece)
                position += len(piece)
                if self._remaining:
                    self._pending = b""
                    return
                self._remaining = -2  # the CRLF after the data
            end = data.find(b"\r\n", position)
            if end < 0:
                self._pending = data[position:]
                return
            line = data[position:end]
            position = end + 2
            if self._remaining == -2:  # the CRLF that ends a chunk
                if line:
                    self._fail(HttpConnectionError("malformed chunked body"))
                    return
                self._remaining = -1
                continue
            if self._remaining == -3:  # trailers, until an empty line
                if not line:
                    self._pending = b""
                    if position < len(data):
                        self.reusable = False
                    self._state = 0
                    self._finish()
                    return
                continue
            try:
                digits = line.split(b";", 1)[0].strip()
                if digits[:1] in (b"-", b"+"):
                    raise ValueError(digits)
                size = int(digits, 16)
            except ValueError:
                self._fail(HttpConnectionError("malformed chunk size"))
                return
            self._remaining = size if size else -3

    # -- a request -------------------------------------------------------------------------

    @property
    def waiting(self) -> bool:
        """Whether a request waits for the server: to take more of its body, or to answer."""
        return self._waiter is not None and not self._waiter.done()

    def note_send_progress(self, now: float) -> None:
        """Count bytes the server took from the request body since the last look as activity.

        A slow upload is not a silent server; one that stops taking bytes is.
        """
        if not self._sending_body or self.transport is None:
            return
        unsent = self.transport.get_write_buffer_size()
        if unsent < self._unsent:
            self.last_activity = now
        self._unsent = unsent

    async def exchange(
        self,
        head: bytes,
        body: Buffer | None,
        *,
        head_request: bool,
        into: bytearray | memoryview | None = None,
        stream: bool = False,
    ) -> HttpResponse:
        """Send one request and return its whole response (or its head and body stream).

        A body of exactly ``len(into)`` bytes is received into ``into`` (a buffer to reuse).
        """
        transport = self.transport
        if transport is None or self.closed:
            raise _ClosedBeforeResponse("the connection was closed")
        waiter: asyncio.Future[HttpResponse] = self.loop.create_future()
        self._waiter = waiter
        self._head_request = head_request
        self._into = into
        self._stream_wanted = stream
        self._state = 1
        self._pending = b""
        self._got_bytes = False
        self.last_activity = self.loop.time()
        sent = True
        try:
            transport.write(head)
            if body:
                self._sending_body = True
                self._unsent = 0
                try:
                    sent = await self._send_body(body, waiter)
                finally:
                    self._sending_body = False
                self.last_activity = self.loop.time()
            return await waiter
        finally:
            self.used = True
            self._waiter = None
            self._into = None
            self._stream_wanted = False
            if not waiter.done() or waiter.cancelled() or waiter.exception() is not None:
                self.reusable = False
            elif not sent or transport.get_write_buffer_size():
                self.reusable = False  # answered before the request was fully sent

    async def _send_body(self, body: Buffer, waiter: asyncio.Future[HttpResponse]) -> bool:
        """Write ``body`` a slice at a time, waiting whenever the transport's buffer is full.

        The transport copies what the socket does not take at once, so writing a large body
        in one call would hold a second copy of it; slices keep that to one slice. An early
        answer (an error before the body is through) stops the sending; returns whether all
        of the body was handed to the transport.
        """
        transport = self.transport
        assert transport is not None
        with memoryview(body) as view:
            flat = view.cast("B") if view.format != "B" or view.ndim != 1 else view
            for start in range(0, flat.nbytes, _BODY_SLICE):
                if waiter.done() or self.closed:
                    return False
                transport.write(flat[start : start + _BODY_SLICE])
                self._unsent = max(self._unsent, transport.get_write_buffer_size())
                if self._paused:
                    await self._drain()
                    self.last_activity = self.loop.time()
        return True

    async def _drain(self) -> None:
        while self._paused and not self.closed and self._waiter is not None:
            if self._waiter.done():  # answered already: nothing more to send
                return
            self._drained = self.loop.create_future()
            await self._drained
            self._drained = None

    @property
    def idle_stream_since(self) -> float | None:
        """When the streamed body on this connection was last read, if nobody waits on it."""
        reception = self._reception
        if reception is None or reception.waiter is not None or reception.release is None:
            return None
        return reception.last_read

    def preempt_stream(self) -> None:
        """Take this connection from its streamed body (see :class:`StreamPreemptedError`)."""
        if self._reception is not None:
            self._reception.preempt()

    @property
    def waiting_for_stream(self) -> bool:
        """Whether a streamed body is being read and its reader waits for more bytes."""
        reception = self._reception
        return reception is not None and reception.waiter is not None

    def time_out(self, read_timeout: float) -> None:
        """Fail the request in flight: nothing arrived for ``read_timeout`` seconds."""
        self._fail(
            HttpTimeoutError(f"no response from {self.origin.host} within {read_timeout:g} s")
        )

    def _finish_streamed(self, reception: Reception, rest: bytes) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            response = HttpResponse(self._status, self._headers, b"")
            response.stream = BodyStream(reception, self.loop)
            waiter.set_result(response)
        if rest:
            reception.take(rest)

    def stream_done(self) -> None:
        """The streamed body is all in, or failed: the connection is idle (or broken)."""
        self._reception = None
        if self._state == 6:
            self._state = 0

    def _wake_sender(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def _finish(self, direct: bytearray | memoryview | None = None) -> None:
        self._wake_sender()  # an answer before the whole body was sent ends the sending
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        body: bytes | bytearray | memoryview
        if direct is not None:
            body = direct
        else:
            parts = self._body
            body = parts[0] if len(parts) == 1 else b"".join(parts)
        self._body = []
        waiter.set_result(HttpResponse(self._status, self._headers, body))

    def _fail(self, error: BaseException) -> None:
        self.reusable = False
        self._wake_sender()
        if self._reception is not None:
            self._reception.fail(error)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)
        self._abort()

    def _abort(self) -> None:
        self._state = 0
        self._direct = self._direct_view = None
        if self.transport is not None and not self.closed:
            self.transport.abort()

    def close(self) -> None:
        """Close the connection (now, without waiting for anything)."""
        self.reusable = False
        if self.transport is not None and not self.closed and not self._closed_here:
            self._closed_here = True
            self.transport.abort()

    def drop_without_io(self) -> None:
        """Release the socket without touching the event loop (after fork, or a closed loop)."""
        self.closed = True
        transport, self.transport = self.transport, None
        close_socket_without_io(transport)


_T = TypeVar("_T")


async def _within(awaitable: Awaitable[_T], timeout: float | None) -> _T:
    """``await awaitable`` in this task, raising ``TimeoutError`` after ``timeout`` seconds.

    Not ``asyncio.wait_for``: before 3.12 it runs the awaitable as a task of its own (which a
    loop's shutdown cancels on its own, failing a protected clean-up's connect) and can swallow
    a cancellation that arrives just as the awaitable finishes. 3.10 has ``async_timeout``
    (aiohttp's dependency there), which ``asyncio.timeout`` became.
    """
    async with _timeout(timeout):
        return await awaitable


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def close_socket_without_io(transport: object) -> None:
    """Close an asyncio transport's socket without its event loop (gone, or not ours).

    ``transport.close()`` would schedule work on the loop and unregister the socket from its
    selector, which after a fork is shared with the parent. Closing the socket here and
    detaching it keeps the transport from warning about it (or closing it again) later.
    """
    inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
    if inner is not None:  # TLS: the socket belongs to the transport underneath
        close_socket_without_io(inner)
        if hasattr(transport, "_closed"):
            transport._closed = True
        return
    sock = getattr(transport, "_sock", None)
    if sock is not None:
        transport._sock = None  # type: ignore[attr-defined]
        sock.close()


class HttpPool:
    """Keep-alive HTTP/1.1 connections for one event loop, at most ``limit`` at a time."""

    def __init__(
        self,
        *,
        limit: int,
        connect_timeout: float | None,
        read_timeout: float | None,
        ssl_context: ssl.SSLContext | None = None,
        keepalive: float = 12.0,
    ) -> None:
        self._limit = max(1, limit)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        #: The TLS context of https connections (the default context where it is ``None``).
        self.ssl_context = ssl_context
        self._keepalive = keepalive
        self._idle: dict[Origin, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False
        self._scratch = memoryview(bytearray(_SCRATCH))
        self._watchdog: asyncio.TimerHandle | None = None

    @property
    def open_connections(self) -> int:
        """Connections open or being opened (idle ones included)."""
        return self._connecting + len(self._busy) + sum(map(len, self._idle.values()))

    async def request(
        self,
        origin: Origin,
        head: bytes,
        body: Buffer | None = None,
        *,
        head_request: bool = False,
        into: bytearray | memoryview | None = None,
        stream: bool = False,
    ) -> HttpResponse:
        """Send a request (``head``: request line and headers, CRLF-terminated) to ``origin``.

        A response body of exactly ``len(into)`` bytes is received into ``into``. With
        ``stream``, a 2xx response with a ``Content-Length`` returns after its head, its
        body in ``response.stream`` (which keeps the connection until the body is in or the
        stream closed); a 2xx without one raises :class:`UnframedStreamError`; other
        responses are read whole as usual.
        """
        for _ in range(3):
            connection = await self._acquire(origin)
            try:
                if self._watchdog is None and self._read_timeout is not None:
                    self._start_watchdog()
                response = await connection.exchange(
                    head, body, head_request=head_request, into=into, stream=stream
                )
            except _ClosedBeforeResponse:
                self._release(connection)
                continue  # the server had closed a kept-alive connection: it never saw this
            except BaseException:
                connection.close()
                self._release(connection)
                raise
            if response.stream is not None:
                self._release_after_stream(connection, response.stream)
            else:
                self._release(connection)
            return response
        raise HttpConnectionError(f"{origin.host} closed every connection before answering")

    async def _acquire(self, origin: Origin) -> _Connection:
        waited = False
        while True:
            if self._closed:
                raise HttpPoolClosedError("the HTTP pool is closed")
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle:
                connection = idle.pop()
                if connection.closed or now - connection.idle_since > self._keepalive:
                    connection.close()
                    continue
                self._busy.add(connection)
                return connection
            if (
                self.open_connections >= self._limit
                and not self._close_other_idle(origin)
                and not self._preempt_idle_stream()
            ):
                loop = asyncio.get_running_loop()
                waiter: asyncio.Future[None] = loop.create_future()
                if waited:  # woken before and still without a connection: keep its place
                    self._waiters.appendleft(waiter)
                else:
                    self._waiters.append(waiter)
                waited = True
                # Streams hold their connections while their readers are away: look again
                # once one of them may have been idle long enough to give its connection up.
                recheck = (
                    loop.call_later(STREAM_IDLE_SECONDS, _wake, waiter)
                    if any(c.idle_stream_since is not None for c in self._busy)
                    else None
                )
                try:
                    await waiter
                except BaseException:
                    if waiter.done() and not waiter.cancelled():
                        self._wake_one()  # pass the turn on
                    else:
                        waiter.cancel()
                    raise
                finally:
                    if recheck is not None:
                        recheck.cancel()
                continue
            return await self._connect(origin)

    def _preempt_idle_stream(self) -> bool:
        """Free the connection of the stream read least recently, if nobody read it lately."""
        now = time.monotonic()
        idle = [
            (since, connection)
            for connection in self._busy
            if (since := connection.idle_stream_since) is not None
            and now - since >= STREAM_IDLE_SECONDS
        ]
        if not idle:
            return False
        min(idle, key=lambda pair: pair[0])[1].preempt_stream()
        return True

    def _close_other_idle(self, origin: Origin) -> bool:
        for other, connections in self._idle.items():
            if other != origin and connections:
                connections.pop(0).close()
                return True
        return False

    async def _connect(self, origin: Origin) -> _Connection:
        loop = asyncio.get_running_loop()
        self._connecting += 1
        try:
            creating = loop.create_connection(
                lambda: _Connection(loop, origin, self._scratch),
                origin.host,
                origin.port,
                ssl=(self.ssl_context or True) if origin.secure else None,
            )
            try:
                _, connection = await _within(creating, self._connect_timeout)
            except asyncio.TimeoutError as error:
                within = (
                    "" if self._connect_timeout is None else f" within {self._connect_timeout:g} s"
                )
                raise HttpConnectTimeoutError(
                    f"could not connect to {origin.host}:{origin.port}{within}"
                ) from error
            except ssl.SSLCertVerificationError as error:
                raise HttpCertificateError(
                    f"TLS with {origin.host}:{origin.port} failed: {error}"
                ) from error
            except ssl.SSLError as error:
                raise HttpTLSError(
                    f"TLS with {origin.host}:{origin.port} failed: {error}"
                ) from error
            except OSError as error:
                raise HttpConnectError(
                    f"could not connect to {origin.host}:{origin.port}: {error}"
                ) from error
        except BaseException:
            self._connecting -= 1
            self._wake_one()  # the slot this connection would have taken is free again
            raise
        self._connecting -= 1
        if self._closed:
            connection.close()
            raise HttpPoolClosedError("the HTTP pool is closed")
        self._busy.add(connection)
        return connection

    def _start_watchdog(self) -> None:
        # One timer for all connections (not one per request): every quarter of the read
        # timeout (at most a second) it fails the requests that have waited too long.
        assert self._read_timeout is not None
        interval = min(1.0, self._read_timeout / 4)
        self._watchdog = asyncio.get_running_loop().call_later(interval, self._watch)

    def _watch(self) -> None:
        self._watchdog = None
        if not self._busy or self._closed or self._read_timeout is None:
            return
        timeout = self._read_timeout
        now = asyncio.get_running_loop().time()
        for connection in list(self._busy):
            connection.note_send_progress(now)
            waiting = connection.waiting or connection.waiting_for_stream
            if waiting and now - connection.last_activity >= timeout:
                connection.time_out(timeout)
        self._start_watchdog()

    def _release_after_stream(self, connection: _Connection, stream: BodyStream) -> None:
        reception = stream._reception
        if reception.connection is None:  # the body is in (or failed) already
            self._release(connection)
        else:
            reception.release = lambda: self._release(connection)

    def _release(self, connection: _Connection) -> None:
        self._busy.discard(connection)
        if connection.reusable and not connection.closed and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            connection.close()
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        """Close every connection; requests still running fail with a connection error."""
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for connection in self._all():
            connection.close()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        await asyncio.sleep(0)  # let the transports finish closing their sockets

    def forget(self) -> None:
        """Drop every connection without event-loop I/O (after fork, or with a closed loop)."""
        self._closed = True
        self._watchdog = None  # its loop is gone or not ours
        for connection in self._all():
            connection.drop_without_io()
        self._idle.clear()
        self._busy.clear()
        self._waiters.clear()

    def _all(self) -> list[_Connection]:
        return [c for group in self._idle.values() for c in group] + list(self._busy)
