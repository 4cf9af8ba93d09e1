"""The lean path's HTTP/1.1 client (``aios3path._http``) against a scripted local server.

Each test starts a real TCP server on 127.0.0.1 (``asyncio.start_server``) whose handler reads
requests and writes raw response bytes, in the pieces and with the pauses the test asks for.
The server records what a client cannot hide: how many connections it accepted, which request
came on which connection, and which connections the client closed. The client under test is an
:class:`HttpPool`; nothing in asyncio or the socket layer is mocked.

What the tests document:

* responses framed by ``Content-Length`` (split anywhere, trickled, large ones received into one
  buffer), by chunked transfer-coding (extensions, trailers, awkward splits) or by the end of
  the connection; HEAD, 204 and 304 answers carry no body;
* keep-alive: sequential requests share a connection, ``limit`` caps concurrent connections,
  ``Connection: close`` and HTTP/1.0 answers end theirs, idle ones expire after ``keepalive``;
* failures: a kept-alive connection the server dropped is replaced and the request sent again;
  every other failure (refused or slow connects, cut responses, silence longer than the read
  timeout, bytes that are not HTTP) is an :class:`HttpConnectionError` and leaves the pool
  usable; a cancelled request closes its connection; ``aclose`` closes everything.

"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import random
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from aios3path._http import (
    HttpConnectionError,
    HttpConnectTimeoutError,
    HttpPool,
    HttpResponse,
    HttpTimeoutError,
    Origin,
    _within,
)

# -- building requests and responses ------------------------------------------------------


def request(path: str = "/", method: str = "GET", length: int | None = None) -> bytes:
    """A request head (request line and headers, ending in a blank line)."""
    extra = "" if length is None else f"Content-Length: {length}\r\n"
    return f"{method} {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def ok(body: bytes = b"ok", *headers: str, status_line: str = "HTTP/1.1 200 OK") -> bytes:
    """A whole response framed by Content-Length."""
    lines = [status_line, f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(*chunks: bytes, trailers: str = "") -> bytes:
    """A whole chunked response; each chunk's size is written in hex."""
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for chunk in chunks:
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    return out + b"0\r\n" + trailers.encode() + b"\r\n"


def split(data: bytes, *cuts: int) -> list[bytes]:
    """``data`` cut at the given offsets."""
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def every(data: bytes, size: int) -> list[bytes]:
    """``data`` in pieces of ``size`` bytes."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def noise(size: int, seed: int = 0) -> bytes:
    """Reproducible bytes that are not all alike (so a misplaced byte shows)."""
    return random.Random(seed).randbytes(size)


# -- the scripted server ------------------------------------------------------------------


class Peer:
    """One connection the server accepted (``number`` 1 is the first)."""

    def __init__(
        self,
        server: ScriptedServer,
        number: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.server = server
        self.number = number
        self.reader = reader
        self.writer = writer

    async def read_request(self) -> bytes | None:
        """The next request's head (its body is read and dropped); None once the client closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    await self.reader.readexactly(int(line.split(b":")[1]))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.server.closed_by_client.add(self.number)
            return None
        self.server.requests.append((self.number, head.split(b"\r\n")[0].decode()))
        return head

    async def send(self, *pieces: bytes, pause: float = 0.002) -> None:
        """Write the pieces one by one, pausing between them so each is read on its own."""
        for index, piece in enumerate(pieces):
            if index and pause:
                await asyncio.sleep(pause)
            self.writer.write(piece)
            await self.writer.drain()

    async def until_closed(self) -> None:
        """Read and drop whatever comes until the client closes the connection."""
        with contextlib.suppress(ConnectionError):
            while await self.reader.read(65536):
                pass
        self.server.closed_by_client.add(self.number)

    def close(self) -> None:
        self.writer.close()


Handler = Callable[[Peer], Awaitable[None]]


class ScriptedServer:
    """A TCP server on 127.0.0.1 running ``handler`` for every connection it accepts."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.origin = Origin("http", "127.0.0.1", 0)
        self.accepted = 0
        self.open_now = 0
        self.max_open = 0
        self.requests: list[tuple[int, str]] = []  # (connection number, request line)
        self.closed_by_client: set[int] = set()
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self._server: asyncio.Server | None = None

    async def start(self, rcvbuf: int | None = None) -> ScriptedServer:
        listener = socket.socket()
        if rcvbuf is not None:  # set before listen(): accepted sockets inherit it
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        listener.bind(("127.0.0.1", 0))
        self._server = await asyncio.start_server(self._accept, sock=listener)
        self.origin = Origin("http", "127.0.0.1", listener.getsockname()[1])
        return self

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self.open_now += 1
        self.max_open = max(self.max_open, self.open_now)
        try:
            await self.handler(Peer(self, self.accepted, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception as error:  # a broken script: reported by the fixture
            self.errors.append(error)
        finally:
            self.open_now -= 1
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            self._tasks.discard(task)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


def answering(*responses: bytes | list[bytes]) -> Handler:
    """Answer each request on a connection with the next response (the last one repeats).

    A response given as a list of pieces is written piece by piece.
    """

    async def handler(peer: Peer) -> None:
        script = list(responses)
        while await peer.read_request() is not None:
            response = script.pop(0) if len(script) > 1 else script[0]
            await peer.send(*([response] if isinstance(response, bytes) else response))

    return handler


def first_connection(script: Handler, then: Handler | None = None) -> Handler:
    """Connection 1 runs ``script``; later ones run ``then`` (answer ``ok()`` by default)."""
    later = then or answering(ok())

    async def handler(peer: Peer) -> None:
        await (script if peer.number == 1 else later)(peer)

    return handler


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    """Wait until ``check()`` holds (the other end of a socket needs a moment to see things)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.005)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def unaccepting_listener() -> Iterator[int]:
    """A port whose accept queue is full, so new connections hang in the handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# -- fixtures -----------------------------------------------------------------------------

Serve = Callable[..., Awaitable[ScriptedServer]]
MakePool = Callable[..., HttpPool]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """``await serve(handler)``: a started :class:`ScriptedServer`, stopped after the test."""
    servers: list[ScriptedServer] = []

    async def start(handler: Handler, rcvbuf: int | None = None) -> ScriptedServer:
        server = await ScriptedServer(handler).start(rcvbuf)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
    for server in servers:
        assert not server.errors, server.errors


@pytest.fixture
async def make_pool() -> AsyncIterator[MakePool]:
    """``make_pool(**settings)``: an :class:`HttpPool` (short timeouts), closed after the test."""
    pools: list[HttpPool] = []

    def make(
        limit: int = 4,
        connect_timeout: float | None = 2.0,
        read_timeout: float | None = 2.0,
        keepalive: float = 12.0,
    ) -> HttpPool:
        pool = HttpPool(
            limit=limit,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            keepalive=keepalive,
        )
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.aclose()


@pytest.fixture
def pool(make_pool: MakePool) -> HttpPool:
    """A pool with the default test settings."""
    return make_pool()


async def get(pool: HttpPool, server: ScriptedServer, path: str = "/") -> HttpResponse:
    return await pool.request(server.origin, request(path))


# -- Content-Length -----------------------------------------------------------------------


async def test_a_response_gives_status_lowercase_headers_and_body(
    serve: Serve, pool: HttpPool
) -> None:
    raw = (
        b'HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nETag:  "abc"  \r\n'
        b"X-Amz-Meta-A: 1\r\nx-amz-meta-a: 2\r\n\r\nhello"
    )
    server = await serve(answering(raw))
    response = await get(pool, server)
    assert response.status == 206
    assert response.body == b"hello"
    assert response.headers == {
        "content-length": "5",
        "etag": '"abc"',  # values are stripped
        "x-amz-meta-a": "1, 2",  # repeated headers are joined
    }


async def test_a_status_line_without_reason_phrase_is_accepted(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(ok(b"x", status_line="HTTP/1.1 200")))
    assert (await get(pool, server)).status == 200


async def test_an_empty_body_by_content_length_zero(serve: Serve, pool: HttpPool) -> None:
    server = await serve(answering(ok(b"")))
    assert (await get(pool, server)).body == b""
    assert (await get(pool, server)).body == b""
    assert server.accepted == 1


SMALL = ok(b"hello, world", "X-A: b")
SMALL_HEAD_END = SMALL.index(b"\r\n\r\n")


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param(every(SMALL, 1), id="one-byte-at-a-time"),
        pytest.param(
            split(
                SMALL,
                5,  # in "HTTP/1.1"
                SMALL.index(b"Length") + 2,  # in a header name
                SMALL.index(b"\r\nX-A") + 1,  # between the CR and LF ending a line
                SMALL_HEAD_END + 2,  # between the two CRLFs of the blank line
                SMALL_HEAD_END + 3,  # before the blank line's LF
                SMALL_HEAD_END + 4,  # right after the head
                SMALL_HEAD_END + 9,  # in the body
            ),
            id="mid-line-and-mid-blank-line",
        ),
        pytest.param(split(SMALL, SMALL_HEAD_END + 3), id="final-LF-with-the-body"),
    ],
)
async def test_a_response_in_many_small_writes_is_put_back_together(
    serve: Serve, pool: HttpPool, pieces: list[bytes]
) -> None:
    server = await serve(answering(pieces, ok(b"next")))
    response = await get(pool, server)
    assert response.status == 200
    assert response.headers == {"content-length": "12", "x-a": "b"}
    assert response.body == b"hello, world"
    assert (await get(pool, server)).body == b"next"  # the stream stayed in step
    assert server.accepted == 1


@pytest.mark.parametrize(
    ("size", "piece"),
    [
        pytest.param(64 * 1024 - 1, None, id="just-under-64KiB-one-write"),
        pytest.param(64 * 1024, None, id="64KiB-one-write"),
        pytest.param(64 * 1024, 1000, id="64KiB-1000-byte-writes"),
        pytest.param(1024 * 1024 + 3, None, id="1MiB-one-write"),
        pytest.param(1024 * 1024 + 3, 21 * 1024, id="1MiB-21KiB-writes"),
        pytest.param(1024 * 1024 + 3, 1024 * 1024 + 2, id="1MiB-last-byte-alone"),
    ],
)
async def test_large_bodies_arrive_byte_exact(
    serve: Serve, pool: HttpPool, size: int, piece: int | None
) -> None:
    body = noise(size)[:-1] + b"\xff"  # not a zero: a byte never received would show
    whole = ok(body)
    head_end = len(whole) - size
    # One write, or the head alone and then the body in pieces of ``piece`` bytes.
    pieces = [whole] if piece is None else [whole[:head_end], *every(whole[head_end:], piece)]
    server = await serve(answering(pieces, ok(b"small")))
    response = await get(pool, server)
    assert len(response.body) == size
    assert response.body == body
    # The large body did not leave the connection (or the shared read buffer) out of step.
    assert (await get(pool, server)).body == b"small"
    assert server.accepted == 1


async def test_a_large_body_is_received_into_one_buffer_of_its_size(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(512 * 1024)
    whole = ok(body)
    server = await serve(answering(every(whole, 32 * 1024)))
    response = await get(pool, server)
    assert isinstance(response.body, bytearray)
    assert len(response.body) == len(body)
    assert response.body == body


async def test_a_large_body_is_received_into_a_buffer_handed_in_when_the_size_fits(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(256 * 1024)
    server = await serve(answering(ok(body), ok(body), ok(b"small")))
    spare = bytearray(len(body))
    reused = await pool.request(server.origin, request("/"), into=spare)
    assert reused.body is spare and spare == body
    too_big = bytearray(len(body) + 1)
    other = await pool.request(server.origin, request("/"), into=too_big)
    assert other.body is not too_big and other.body == body  # wrong size: a buffer of its own
    assert (await pool.request(server.origin, request("/"), into=spare)).body == b"small"


async def test_concurrent_large_bodies_do_not_mix(serve: Serve, make_pool: MakePool) -> None:
    async def handler(peer: Peer) -> None:
        while (head := await peer.read_request()) is not None:
            seed = int(head.split(b" ")[1].strip(b"/"))
            body = noise(200_000 + seed, seed)
            whole = chunked(*every(body, 50_000)) if seed % 2 else ok(body)
            await peer.send(*every(whole, 16 * 1024), pause=0)

    server = await serve(handler)
    pool = make_pool(limit=3)
    responses = await asyncio.gather(*(get(pool, server, f"/{seed}") for seed in range(9)))
    for seed, response in enumerate(responses):
        assert response.body == noise(200_000 + seed, seed)
    assert server.accepted == 3


async def test_bytes_beyond_content_length_are_dropped_and_the_connection_not_reused(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(ok(b"hi") + b"EXTRA"))
    assert (await get(pool, server)).body == b"hi"
    assert (await get(pool, server)).body == b"hi"
    assert server.accepted == 2


async def test_an_interim_100_continue_is_skipped(serve: Serve, pool: HttpPool) -> None:
    server = await serve(answering(split(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"done"), 10, 27)))
    response = await get(pool, server)
    assert (response.status, response.body) == (200, b"done")


async def test_a_request_body_is_sent_whole(serve: Serve, pool: HttpPool) -> None:
    async def handler(peer: Peer) -> None:
        while True:
            head = await peer.reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            received = await peer.reader.readexactly(length)
            await peer.send(ok(hashlib.sha256(received).hexdigest().encode()))

    server = await serve(handler)
    payload = noise(300 * 1024)
    for body in (payload, bytearray(payload), memoryview(payload)):
        response = await pool.request(server.origin, request("/", "PUT", len(payload)), body)
        assert response.body == hashlib.sha256(payload).hexdigest().encode()
    assert server.accepted == 1


# -- chunked transfer-coding ----------------------------------------------------------------

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n"  # a chunk extension
    b"1\r\n,\r\n"
    b"A\r\n world!!!!\r\n"  # upper-case hex
    b"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"  # trailers
)
CHUNKED_BODY = b"hello, world!!!!"


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([CHUNKED], id="one-write"),
        pytest.param(every(CHUNKED, 1), id="one-byte-at-a-time"),
        pytest.param(every(CHUNKED, 7), id="seven-byte-writes"),
        pytest.param(
            split(
                CHUNKED,
                CHUNKED.index(b"5;") + 1,  # in the size line, before the extension
                CHUNKED.index(b"=value") + 2,  # in the extension
                CHUNKED.index(b"hello") + 2,  # in the data
                CHUNKED.index(b"hello") + 6,  # between CR and LF after the data
                CHUNKED.index(b"A\r\n") + 2,  # between CR and LF of a size line
                CHUNKED.index(b"0\r\n") + 1,  # after the last-chunk size
                CHUNKED.index(b"X-Other") + 3,  # in a trailer
                len(CHUNKED) - 1,  # before the final LF
            ),
            id="awkward-places",
        ),
    ],
)
async def test_a_chunked_body_is_put_back_together(
    serve: Serve, pool: HttpPool, pieces: list[bytes]
) -> None:
    server = await serve(answering(pieces, ok(b"next")))
    response = await get(pool, server)
    assert response.body == CHUNKED_BODY
    assert response.headers == {"transfer-encoding": "chunked"}  # trailers are not headers
    assert (await get(pool, server)).body == b"next"
    assert server.accepted == 1  # the connection is reused after the trailers


async def test_a_large_chunked_body_arrives_byte_exact(serve: Serve, pool: HttpPool) -> None:
    body = noise(700_000)
    server = await serve(answering(every(chunked(*every(body, 300_000)), 10_000)))
    assert (await get(pool, server)).body == body


async def test_chunked_wins_over_content_length(serve: Serve, pool: HttpPool) -> None:
    raw = CHUNKED.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\n", 1)
    server = await serve(answering(raw))
    assert (await get(pool, server)).body == CHUNKED_BODY


# -- bodies delimited by the end of the connection --------------------------------------------


async def test_a_body_without_length_is_read_until_close_and_the_connection_not_reused(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(100_000)

    async def handler(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n", *every(body, 9_000))
        peer.close()

    server = await serve(handler)
    assert (await get(pool, server)).body == body
    assert (await get(pool, server)).body == body
    assert server.accepted == 2
    assert pool.open_connections == 0


# -- responses without a body -----------------------------------------------------------------


async def test_a_head_response_has_no_body_despite_its_content_length(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", ok()))
    response = await pool.request(server.origin, request("/", "HEAD"), head_request=True)
    assert response.status == 200
    assert response.headers["content-length"] == "1000"
    assert response.body == b""
    assert (await get(pool, server)).body == b"ok"  # not mistaken for the HEAD's body
    assert server.accepted == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b'HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\nETag: "x"\r\n\r\n',
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ids=["204", "304-with-length", "304-chunked"],
)
async def test_204_and_304_have_no_body(serve: Serve, pool: HttpPool, raw: bytes) -> None:
    server = await serve(answering(raw, ok()))
    response = await get(pool, server)
    assert response.status in (204, 304)
    assert response.body == b""
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 1


# -- keep-alive ---------------------------------------------------------------------------


async def test_sequential_requests_share_one_connection(serve: Serve, pool: HttpPool) -> None:
    server = await serve(answering(ok(b"a"), ok(b"b"), ok(b"c")))
    bodies = [(await get(pool, server, f"/{n}")).body for n in range(5)]
    assert bodies == [b"a", b"b", b"c", b"c", b"c"]
    assert server.accepted == 1
    assert [number for number, _ in server.requests] == [1] * 5
    assert pool.open_connections == 1


@pytest.mark.parametrize(
    "raw",
    [
        ok(b"x", "Connection: close"),
        ok(b"x", "connection: Close"),
        ok(b"x", status_line="HTTP/1.0 200 OK"),
        ok(b"x", "Connection: keep-alive", status_line="HTTP/1.0 200 OK"),
    ],
    ids=["connection-close", "connection-close-any-case", "http-1.0", "http-1.0-keep-alive"],
)
async def test_connection_close_and_http_1_0_answers_end_the_connection(
    serve: Serve, pool: HttpPool, raw: bytes
) -> None:
    # The server would answer more requests on each connection: only the client ends them.
    server = await serve(answering(raw))
    for _ in range(3):
        assert (await get(pool, server)).body == b"x"
    assert server.accepted == 3
    await eventually(lambda: server.closed_by_client == {1, 2, 3})
    assert pool.open_connections == 0


async def test_limit_caps_concurrent_connections(serve: Serve, make_pool: MakePool) -> None:
    async def handler(peer: Peer) -> None:
        while (head := await peer.read_request()) is not None:
            await asyncio.sleep(0.02)  # slow enough that the requests overlap
            await peer.send(ok(head.split(b" ")[1]))

    server = await serve(handler)
    pool = make_pool(limit=2)
    paths = [f"/{n}" for n in range(10)]
    responses = await asyncio.gather(*(get(pool, server, path) for path in paths))
    assert [r.body.decode() for r in responses] == paths
    assert server.accepted == 2
    assert server.max_open == 2
    assert pool.open_connections == 2


async def test_an_idle_connection_older_than_keepalive_is_closed_and_replaced(
    serve: Serve, make_pool: MakePool
) -> None:
    server = await serve(answering(ok()))
    pool = make_pool(keepalive=0.1)
    await get(pool, server)
    await asyncio.sleep(0.15)
    await get(pool, server)
    assert server.accepted == 2
    await eventually(lambda: server.closed_by_client == {1})


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    serve: Serve, pool: HttpPool
) -> None:
    async def answer_once_then_close(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok(f"on {peer.number}".encode()))
        peer.close()

    server = await serve(answer_once_then_close)
    assert (await get(pool, server)).body == b"on 1"
    await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
    assert (await get(pool, server)).body == b"on 2"
    assert server.accepted == 2


async def test_a_kept_alive_connection_dropped_before_answering_is_retried_once(
    serve: Serve, pool: HttpPool
) -> None:
    async def answer_then_drop_the_next_request(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok(b"first"))
        await peer.read_request()  # the server reads the next request, then goes away

    server = await serve(first_connection(answer_then_drop_the_next_request))
    assert (await get(pool, server, "/a")).body == b"first"
    assert (await get(pool, server, "/b")).body == b"ok"
    assert server.requests == [
        (1, "GET /a HTTP/1.1"),
        (1, "GET /b HTTP/1.1"),
        (2, "GET /b HTTP/1.1"),  # sent again, once, on a new connection
    ]


async def test_a_new_connection_dropped_before_answering_is_not_retried(
    serve: Serve, pool: HttpPool
) -> None:
    async def drop(peer: Peer) -> None:
        await peer.read_request()

    server = await serve(drop)
    with pytest.raises(HttpConnectionError):
        await get(pool, server)
    assert server.accepted == 1


# -- connections that break ---------------------------------------------------------------

BIG = 1024 * 1024


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="before-any-byte"),
        pytest.param(b"HTTP/1.1 20", id="in-the-status-line"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Len", id="in-the-headers"),
        pytest.param(ok(b"0123456789")[:-4], id="in-a-small-body"),
        pytest.param(ok(noise(BIG))[: BIG // 2], id="in-a-large-body"),
        pytest.param(CHUNKED[: CHUNKED.index(b"hello") + 2], id="in-a-chunk"),
        pytest.param(CHUNKED[: CHUNKED.index(b"0\r\n")], id="before-the-last-chunk"),
    ],
)
async def test_a_response_cut_short_is_a_connection_error_and_the_pool_recovers(
    serve: Serve, pool: HttpPool, partial: bytes
) -> None:
    async def cut(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(partial)
        peer.close()

    server = await serve(first_connection(cut))
    with pytest.raises(HttpConnectionError) as caught:
        await get(pool, server)
    assert not isinstance(caught.value, HttpTimeoutError)
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", id="not-http"),
        pytest.param(b"HTTP/1.1 OK 200\r\n\r\n", id="bad-status-code"),
        pytest.param(b"HTTP/2 200\r\n\r\n", id="http-2"),
        pytest.param(b"X-" + b"a" * 70_000, id="headers-over-64KiB"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", id="negative-length"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", id="bad-length"),
        pytest.param(chunked()[:-5] + b"zz\r\n", id="bad-chunk-size"),
        pytest.param(chunked()[:-5] + b"3\r\nabcXY\r\n", id="chunk-longer-than-its-size"),
    ],
)
async def test_bytes_that_are_not_an_http_response_are_a_connection_error(
    serve: Serve, pool: HttpPool, garbage: bytes
) -> None:
    # The server keeps the connection open: the client must see the problem and hang up.
    async def send_garbage(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(garbage)
        await peer.until_closed()

    server = await serve(first_connection(send_garbage))
    with pytest.raises(HttpConnectionError) as caught:
        await get(pool, server)
    assert not isinstance(caught.value, HttpTimeoutError)
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"ok"


# -- timeouts -----------------------------------------------------------------------------


async def test_no_answer_within_the_read_timeout_is_a_timeout_error(
    serve: Serve, make_pool: MakePool
) -> None:
    async def silent(peer: Peer) -> None:
        await peer.read_request()
        await peer.until_closed()

    server = await serve(first_connection(silent))
    pool = make_pool(read_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(HttpTimeoutError) as caught:
        await asyncio.wait_for(get(pool, server), 3)  # a plain TimeoutError if it never fires
    assert 0.18 < time.monotonic() - started < 1.0
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, HttpConnectionError)  # one except clause catches both
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"ok"


async def test_a_pause_mid_body_longer_than_the_read_timeout_is_a_timeout_error(
    serve: Serve, make_pool: MakePool
) -> None:
    async def stall(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(ok(b"0123456789")[:-5])
        await peer.until_closed()

    server = await serve(stall)
    pool = make_pool(read_timeout=0.2)
    with pytest.raises(HttpTimeoutError):
        await asyncio.wait_for(get(pool, server), 3)
    await eventually(lambda: 1 in server.closed_by_client)


async def test_a_slow_but_steady_response_longer_than_the_read_timeout_succeeds(
    serve: Serve, make_pool: MakePool
) -> None:
    whole = ok(b"slow body")
    # The head in three pieces, then the body's last six bytes one at a time: 0.1 s apart.
    pieces = split(whole, 10, 30, *range(len(whole) - 6, len(whole)))

    async def trickle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(*pieces, pause=0.1)
        await peer.until_closed()

    server = await serve(trickle)
    pool = make_pool(read_timeout=0.2)
    started = time.monotonic()
    response = await get(pool, server)
    assert time.monotonic() - started > 0.6  # three read timeouts' worth, in 0.1 s gaps
    assert response.body == b"slow body"


async def test_a_steady_upload_longer_than_the_read_timeout_succeeds(
    serve: Serve, make_pool: MakePool
) -> None:
    # Progress is what the kernel takes from the transport's buffer; the kernel wakes a
    # writer only when a good part of its send buffer is free (as for botocore's blocking
    # sends), so the trickle is fast enough for that to happen well within the timeout.
    size = 32 * 1024 * 1024

    async def read_slowly_then_answer(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        started, received = time.monotonic(), 0
        while received < size:
            received += len(await peer.reader.read(64 * 1024))
            if time.monotonic() - started < 1.5:
                await asyncio.sleep(0.01)  # ~6 MB/s for 1.5 s (three read timeouts), then fast
        await peer.send(ok(str(received).encode()))
        await peer.until_closed()

    server = await serve(read_slowly_then_answer, rcvbuf=64 * 1024)
    pool = make_pool(read_timeout=0.5)
    started = time.monotonic()
    response = await pool.request(server.origin, request("/", "PUT", size), bytes(size))
    assert response.body == str(size).encode()
    assert time.monotonic() - started > 1.5


async def test_an_upload_the_server_stops_taking_times_out(
    serve: Serve, make_pool: MakePool
) -> None:
    async def stop_reading(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await asyncio.Event().wait()  # takes no body, sends no answer

    server = await serve(stop_reading, rcvbuf=64 * 1024)
    pool = make_pool(read_timeout=0.2)
    size = 32 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(HttpTimeoutError):
        await asyncio.wait_for(
            pool.request(server.origin, request("/", "PUT", size), bytes(size)), 5
        )
    assert time.monotonic() - started < 2


async def test_an_early_answer_to_a_stalled_upload_is_returned(
    serve: Serve, make_pool: MakePool
) -> None:
    async def refuse_without_reading(peer: Peer) -> None:
        await peer.reader.readuntil(b"\r\n\r\n")
        await peer.send(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await asyncio.Event().wait()  # neither reads the body nor closes

    server = await serve(refuse_without_reading, rcvbuf=64 * 1024)
    pool = make_pool(read_timeout=0.2)
    size = 32 * 1024 * 1024
    response = await asyncio.wait_for(
        pool.request(server.origin, request("/", "PUT", size), bytes(size)), 0.5
    )
    assert response.status == 413
    assert pool.open_connections == 0


# -- connecting -----------------------------------------------------------------------------


async def test_a_refused_connection_is_a_connection_error(pool: HttpPool) -> None:
    port = closed_port()
    with pytest.raises(HttpConnectionError, match=str(port)) as caught:
        await pool.request(Origin("http", "127.0.0.1", port), request())
    assert not isinstance(caught.value, TimeoutError)
    assert pool.open_connections == 0


async def test_no_connection_within_the_connect_timeout_is_a_connect_timeout_error(
    make_pool: MakePool,
) -> None:
    pool = make_pool(connect_timeout=0.2)
    with unaccepting_listener() as port:
        started = time.monotonic()
        with pytest.raises(HttpConnectTimeoutError) as caught:
            await pool.request(Origin("http", "127.0.0.1", port), request())
        assert 0.18 < time.monotonic() - started < 1.0
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, HttpConnectionError)
    assert pool.open_connections == 0


@pytest.mark.parametrize("failure", ["refused", "connect-timeout"])
async def test_a_failed_connect_lets_the_queued_requests_try(
    make_pool: MakePool, failure: str
) -> None:
    pool = make_pool(limit=1, connect_timeout=0.2)
    with contextlib.ExitStack() as stack:
        if failure == "refused":
            port = closed_port()
        else:
            port = stack.enter_context(unaccepting_listener())
        origin = Origin("http", "127.0.0.1", port)
        tasks = [asyncio.ensure_future(pool.request(origin, request())) for _ in range(2)]
        done, pending = await asyncio.wait(tasks, timeout=0.5)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert not pending, "a queued request was still waiting for a connection slot"
    assert all(isinstance(task.exception(), HttpConnectionError) for task in done)


async def test_an_https_origin_never_goes_out_in_plain_text(serve: Serve, pool: HttpPool) -> None:
    first_bytes: list[bytes] = []

    async def record(peer: Peer) -> None:
        first_bytes.append(await peer.reader.read(5))
        await peer.send(ok())  # answer as if it were plain HTTP
        await peer.until_closed()

    server = await serve(record)
    https = Origin("https", "127.0.0.1", server.origin.port)
    assert https.secure and not server.origin.secure
    with contextlib.suppress(HttpConnectionError, ValueError):
        await pool.request(https, request())
    assert not any(data.startswith(b"GET") for data in first_bytes)


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "partial",
    [
        pytest.param(b"", id="before-the-answer"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="in-the-headers"),
        pytest.param(ok(b"0123456789")[:-3], id="in-a-small-body"),
        pytest.param(ok(noise(BIG))[: BIG // 3], id="in-a-large-body"),
        pytest.param(CHUNKED[: CHUNKED.index(b"world")], id="in-a-chunked-body"),
        pytest.param(b"HTTP/1.1 200 OK\r\n\r\nuntil close", id="in-a-body-until-close"),
    ],
)
async def test_a_cancelled_request_closes_its_connection(
    serve: Serve, pool: HttpPool, partial: bytes
) -> None:
    sent = asyncio.Event()

    async def answer_part(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(partial)
        sent.set()
        await peer.until_closed()

    server = await serve(first_connection(answer_part))
    task = asyncio.ensure_future(get(pool, server))
    await sent.wait()
    await asyncio.sleep(0.05)  # the partial answer reaches the client
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2
    assert pool.open_connections == 1


async def test_a_request_cancelled_while_queued_gives_up_its_turn(
    serve: Serve, make_pool: MakePool
) -> None:
    async def slow(peer: Peer) -> None:
        while (head := await peer.read_request()) is not None:
            await asyncio.sleep(0.1)
            await peer.send(ok(head.split(b" ")[1]))

    server = await serve(slow)
    pool = make_pool(limit=1)
    first = asyncio.ensure_future(get(pool, server, "/first"))
    queued = asyncio.ensure_future(get(pool, server, "/queued"))
    third = asyncio.ensure_future(get(pool, server, "/third"))
    await asyncio.sleep(0.02)
    queued.cancel()
    assert (await first).body == b"/first"
    assert (await third).body == b"/third"
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert [line for _, line in server.requests] == ["GET /first HTTP/1.1", "GET /third HTTP/1.1"]
    assert server.accepted == 1


# -- closing the pool -------------------------------------------------------------------------


async def test_aclose_closes_idle_connections_and_later_requests_fail(
    serve: Serve, make_pool: MakePool
) -> None:
    async def handler(peer: Peer) -> None:
        while await peer.read_request() is not None:
            await asyncio.sleep(0.02)
            await peer.send(ok())

    server = await serve(handler)
    pool = make_pool(limit=2)
    await asyncio.gather(get(pool, server), get(pool, server))
    assert pool.open_connections == 2
    await pool.aclose()
    assert pool.open_connections == 0
    await eventually(lambda: server.closed_by_client == {1, 2})
    with pytest.raises(HttpConnectionError, match="closed"):
        await get(pool, server)
    assert server.accepted == 2
    await pool.aclose()  # twice is fine


async def test_aclose_fails_running_and_queued_requests(serve: Serve, make_pool: MakePool) -> None:
    async def silent(peer: Peer) -> None:
        await peer.read_request()
        await peer.until_closed()

    server = await serve(silent)
    pool = make_pool(limit=1)
    running = asyncio.ensure_future(get(pool, server))
    queued = asyncio.ensure_future(get(pool, server))
    await eventually(lambda: len(server.requests) == 1)
    await pool.aclose()
    results = await asyncio.wait_for(asyncio.gather(running, queued, return_exceptions=True), 1)
    assert all(isinstance(result, HttpConnectionError) for result in results)
    await eventually(lambda: server.closed_by_client == {1})
    assert server.accepted == 1


async def test_aclose_during_a_body_read_until_close_fails_the_request(
    serve: Serve, pool: HttpPool
) -> None:
    sent = asyncio.Event()

    async def partial_until_close(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(b"HTTP/1.1 200 OK\r\n\r\nthe first part")
        sent.set()
        await peer.until_closed()

    server = await serve(partial_until_close)
    task = asyncio.ensure_future(get(pool, server))
    await sent.wait()
    await asyncio.sleep(0.05)
    await pool.aclose()
    with pytest.raises(HttpConnectionError):
        await task


@pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10's asyncio.wait_for has the flaw")
async def test_a_cancellation_that_meets_a_finished_connect_is_not_lost() -> None:
    """The connect timeout wrapper: cancelled as what it awaits finishes, it still raises."""
    loop = asyncio.get_running_loop()
    connected: asyncio.Future[str] = loop.create_future()
    task = asyncio.ensure_future(_within(connected, 5))
    await asyncio.sleep(0)  # the task now waits for the connection
    connected.set_result("connection")
    task.cancel()  # in the same turn of the loop
    with pytest.raises(asyncio.CancelledError):
        await task
