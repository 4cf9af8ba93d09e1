"""Streamed response bodies (``stream=True``) of the lean path's HTTP/1.1 client.

As in ``test_http``, each test starts a real TCP server on 127.0.0.1 whose handler writes raw
response bytes in the pieces and with the pauses the test asks for, and records what a client
cannot hide (connections accepted, requests per connection, connections the client closed).
Nothing in asyncio or the socket layer is mocked. A few tests look at the stream's private
receiving side (``stream._reception``) to show how much it buffers.

What the tests document:

* ``pool.request(..., stream=True)`` returns once the head of a 2xx answer with a
  ``Content-Length`` is in: ``body`` is empty and ``stream`` a :class:`BodyStream`, read with
  ``peek``/``consume`` or ``read``, byte-exact however the body was cut; answers with another
  status, an empty body or to HEAD are read whole as without ``stream``, and a 2xx answer
  without a length (chunked, or until close) is an :class:`UnframedStreamError`;
* the connection goes back to the pool as soon as the body has all arrived (read or not); a
  stream closed or garbage-collected before that closes its connection and frees its slot;
  a request waiting for a connection takes the one of a stream nobody has read for a second
  (what had arrived stays readable), never that of a stream a reader waits on;
* flow control: while 4 MiB wait unread the socket is not read (the server cannot send more)
  and reading starts again at 2 MiB;
* failures: a connection dropped mid-body, silence while a reader waits longer than the read
  timeout and ``aclose`` fail the reads with :class:`HttpConnectionError` (once the bytes that
  did arrive are read); a reader that just does not read is never timed out; a cancelled read
  leaves the stream usable.

"""

from __future__ import annotations

import asyncio
import gc
import random
import time

import pytest

from aios3path._http import (
    STREAM_CHUNK,
    STREAM_IDLE_SECONDS,
    BodyStream,
    HttpConnectionError,
    HttpPool,
    HttpResponse,
    HttpTimeoutError,
    StreamPreemptedError,
    UnframedStreamError,
)

from . import test_http as scripted
from .test_http import (
    Handler,
    MakePool,
    Peer,
    ScriptedServer,
    Serve,
    answering,
    chunked,
    eventually,
    every,
    first_connection,
    noise,
    ok,
    request,
    split,
)

MiB = 1024 * 1024

# -- fixtures: test_http's (a scripted server, a pool closed after the test) ------------------

serve = scripted.serve
make_pool = scripted.make_pool
pool = scripted.pool


# -- helpers --------------------------------------------------------------------------------


def head_of(length: int, *headers: str, status_line: str = "HTTP/1.1 200 OK") -> bytes:
    """The head of an answer announcing a body of ``length`` bytes."""
    lines = [status_line, f"Content-Length: {length}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def get(pool: HttpPool, server: ScriptedServer, path: str = "/") -> HttpResponse:
    """A plain (not streamed) request."""
    return await pool.request(server.origin, request(path))


async def open_stream(pool: HttpPool, server: ScriptedServer, path: str = "/") -> BodyStream:
    """A streamed request: the answer's body stream (checked to be one)."""
    response = await pool.request(server.origin, request(path), stream=True)
    assert response.body == b""
    assert response.stream is not None
    return response.stream


async def read_by_peeking(stream: BodyStream, seed: int = 0) -> bytes:
    """The rest of the body by ``peek`` and ``consume``, checking what ``peek`` promises.

    Asks for varied amounts and consumes a varied part of what is shown.
    """
    rng = random.Random(seed)
    wants = [1, 100, 4096, 65536, 300_000, STREAM_CHUNK, 3 * STREAM_CHUNK]
    out = bytearray()
    while True:
        want = rng.choice(wants)
        remaining = stream.remaining
        buffer, start, end = await stream.peek(want)
        if start == end:  # the end of the body
            assert remaining == 0
            assert await stream.read(10) == b""
            return bytes(out)
        assert 0 <= start < end <= len(buffer)
        # At least ``want`` bytes, fewer only where the body or this buffer ends.
        assert end - start >= min(want, remaining, len(buffer) - start)
        assert end - start <= remaining
        # Peeking consumes nothing: the same bytes are shown again, perhaps with more after.
        again, again_start, again_end = await stream.peek(1)
        assert again is buffer
        assert again_start == start
        assert again_end >= end
        count = rng.randint(1, end - start)
        out += buffer[start : start + count]
        stream.consume(count)
        assert stream.remaining == remaining - count


async def read_by_reading(stream: BodyStream, seed: int = 0) -> bytes:
    """The rest of the body by ``read`` of varied sizes."""
    rng = random.Random(seed)
    out = bytearray()
    while True:
        size = rng.choice([1, 7, 1000, 65536, STREAM_CHUNK, 3 * STREAM_CHUNK])
        remaining = stream.remaining
        data = await stream.read(size)
        if not data:
            assert remaining == 0
            _, start, end = await stream.peek(1)
            assert start == end
            return bytes(out)
        assert 1 <= len(data) <= size
        out += data
        assert stream.remaining == remaining - len(data)


def held_back(first: bytes, rest: bytes, go: asyncio.Event) -> Handler:
    """Answer the first request with ``first``, and ``rest`` once ``go`` is set.

    Later requests on the same connection are answered ``ok()``.
    """

    async def handler(peer: Peer) -> None:
        if await peer.read_request() is None:
            return
        await peer.send(first)
        await go.wait()
        await peer.send(rest)
        while await peer.read_request() is not None:
            await peer.send(ok())

    return handler


def part_then_wait(first: bytes) -> Handler:
    """Connection 1 gets ``first`` (a cut answer) and waits for the client to close it; later
    connections answer ``ok()``."""

    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(first)
        await peer.until_closed()

    return first_connection(script)


# -- reading a streamed body ----------------------------------------------------------------


@pytest.mark.parametrize("status_line", ["HTTP/1.1 200 OK", "HTTP/1.1 206 Partial Content"])
async def test_a_2xx_answer_with_a_length_returns_at_its_head_with_a_stream(
    serve: Serve, pool: HttpPool, status_line: str
) -> None:
    go = asyncio.Event()
    body = noise(10_000)
    head = head_of(len(body), "ETag: abc", status_line=status_line)
    server = await serve(held_back(head, body, go))
    response = await asyncio.wait_for(
        pool.request(server.origin, request(), stream=True), 2
    )  # returns although no byte of the body was sent
    assert response.status == int(status_line.split()[1])
    assert response.headers == {"content-length": "10000", "etag": "abc"}
    assert response.body == b""
    stream = response.stream
    assert stream is not None
    assert (stream.length, stream.remaining) == (10_000, 10_000)
    go.set()
    assert await read_by_reading(stream) == body
    assert (stream.length, stream.remaining) == (10_000, 0)


CUTS = {
    # (body size, piece size, whether the first piece of the body comes with the head)
    "small-body-in-97-byte-pieces": (5000, 97, False),
    "first-piece-with-the-head": (5000, 97, True),
    "2MiB-in-300KB-pieces-across-buffers": (2 * MiB + 3, 300_001, False),
    "buffer-sized-body-in-one-piece": (STREAM_CHUNK, STREAM_CHUNK, False),
}


@pytest.mark.parametrize("reader", ["peek-consume", "read"])
@pytest.mark.parametrize(("size", "piece", "with_head"), CUTS.values(), ids=CUTS.keys())
async def test_a_streamed_body_arriving_in_pieces_reads_back_byte_exact(
    serve: Serve, pool: HttpPool, reader: str, size: int, piece: int, with_head: bool
) -> None:
    body = noise(size, seed=size)
    pieces = every(body, piece)
    if with_head:
        pieces[0] = head_of(size) + pieces[0]
    else:
        pieces.insert(0, head_of(size))

    async def trickle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(*pieces, pause=0.003)
        await answering(ok(b"next"))(peer)

    server = await serve(trickle)
    stream = await open_stream(pool, server)
    read = read_by_peeking if reader == "peek-consume" else read_by_reading
    assert await read(stream) == body
    # The connection stayed in step and went back to the pool: the next request reuses it.
    assert (await get(pool, server)).body == b"next"
    assert server.accepted == 1
    assert [number for number, _ in server.requests] == [1, 1]


async def test_a_streamed_answer_after_an_interim_100_continue(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(3000)
    raw = b"HTTP/1.1 100 Continue\r\n\r\n" + head_of(len(body)) + body
    server = await serve(answering(split(raw, 10, 40, 200)))
    stream = await open_stream(pool, server)
    assert await read_by_peeking(stream) == body


async def test_peek_waits_until_the_bytes_wanted_are_in(serve: Serve, pool: HttpPool) -> None:
    go = asyncio.Event()
    body = noise(100)
    server = await serve(held_back(head_of(len(body)) + body[:10], body[10:], go))
    stream = await open_stream(pool, server)
    buffer, start, end = await stream.peek(5)  # there already: no wait
    assert buffer[start:end] == body[:10]
    peeking = asyncio.ensure_future(stream.peek(15))
    await asyncio.sleep(0.05)
    assert not peeking.done()  # 10 bytes are in, 15 wanted
    go.set()
    buffer, start, end = await asyncio.wait_for(peeking, 2)
    assert end - start >= 15
    assert buffer[start:end] == body[: end - start]


async def test_concurrent_streams_do_not_mix(serve: Serve, make_pool: MakePool) -> None:
    async def handler(peer: Peer) -> None:
        while (head := await peer.read_request()) is not None:
            seed = int(head.split(b" ")[1].strip(b"/"))
            body = noise(300_000 + seed, seed)
            await peer.send(*every(head_of(len(body)) + body, 20_000), pause=0.001)

    server = await serve(handler)
    pool = make_pool(limit=3)

    async def fetch(seed: int) -> bytes:
        stream = await open_stream(pool, server, f"/{seed}")
        return await read_by_peeking(stream, seed)

    bodies = await asyncio.gather(*(fetch(seed) for seed in range(6)))
    for seed, body in enumerate(bodies):
        assert body == noise(300_000 + seed, seed)
    assert server.accepted == 3


async def test_a_stream_over_bytes_already_here() -> None:
    data = noise(STREAM_CHUNK + 10)
    stream = BodyStream.of(data)
    assert (stream.length, stream.remaining) == (len(data), len(data))
    assert await read_by_peeking(stream) == data
    empty = BodyStream.of(b"")
    assert (empty.length, empty.remaining) == (0, 0)
    _, start, end = await empty.peek(1)
    assert start == end
    assert await empty.read(10) == b""


async def test_a_negative_read_size_is_refused_and_zero_reads_nothing() -> None:
    body = b"abcdef"
    stream = BodyStream.of(body)
    with pytest.raises(ValueError, match="-1"):
        await stream.read(-1)
    assert await stream.read(0) == b""
    assert stream.remaining == len(body)
    assert await stream.read(100) == body


# -- answers read whole despite stream=True, and 2xx answers that cannot be streamed ---------

ERROR_XML = b"<Error><Code>NoSuchKey</Code></Error>"
WHOLE = {
    "404": (ok(ERROR_XML, status_line="HTTP/1.1 404 Not Found"), 404, ERROR_XML),
    "large-500": (ok(b"e" * 100_000, status_line="HTTP/1.1 500 Oops"), 500, b"e" * 100_000),
    "301": (ok(b"moved", status_line="HTTP/1.1 301 Moved"), 301, b"moved"),
    "chunked-404": (
        chunked(b"<Error>", b"</Error>").replace(b"200 OK", b"404 Not Found"),
        404,
        b"<Error></Error>",
    ),
    "content-length-0": (ok(b""), 200, b""),
    "204": (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
}


@pytest.mark.parametrize(("raw", "status", "body"), WHOLE.values(), ids=WHOLE.keys())
async def test_error_and_empty_answers_are_read_whole(
    serve: Serve, pool: HttpPool, raw: bytes, status: int, body: bytes
) -> None:
    # The head alone first: the choice is made before any of the body is there.
    pieces = split(raw, raw.index(b"\r\n\r\n") + 4)
    server = await serve(answering(pieces, ok(b"next")))
    response = await pool.request(server.origin, request(), stream=True)
    assert response.stream is None
    assert response.status == status
    assert response.body == body
    assert (await get(pool, server)).body == b"next"
    assert server.accepted == 1


UNFRAMED = {
    "chunked": chunked(b"hello, ", b"world"),
    "until-close": b"HTTP/1.1 200 OK\r\n\r\nuntil close",
    "length-and-chunked": chunked(b"hello").replace(b"OK\r\n", b"OK\r\nContent-Length: 5\r\n"),
}


@pytest.mark.parametrize("raw", UNFRAMED.values(), ids=UNFRAMED.keys())
async def test_a_2xx_answer_without_a_length_cannot_be_streamed(
    serve: Serve, pool: HttpPool, raw: bytes
) -> None:
    # Its body could only be read whole: the request fails and its connection is closed.
    async def script(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(raw)
        await peer.until_closed()

    server = await serve(first_connection(script))
    with pytest.raises(UnframedStreamError):
        await pool.request(server.origin, request(), stream=True)
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2


async def test_a_head_request_has_no_stream(serve: Serve, pool: HttpPool) -> None:
    server = await serve(answering(head_of(10_000), ok(b"next")))
    response = await pool.request(
        server.origin, request("/", "HEAD"), head_request=True, stream=True
    )
    assert response.stream is None
    assert (response.status, response.body) == (200, b"")
    assert response.headers["content-length"] == "10000"
    assert (await get(pool, server)).body == b"next"


# -- the connection: back to the pool, or closed ---------------------------------------------


async def test_a_small_body_sent_with_its_head_gives_the_connection_back_at_once(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(100)
    server = await serve(answering(ok(body), ok(b"next")))
    pool = make_pool(limit=1)
    stream = await open_stream(pool, server)
    # Not a byte read yet, and the only connection serves the next request.
    assert (await asyncio.wait_for(get(pool, server), 2)).body == b"next"
    assert server.accepted == 1
    assert await stream.read(1000) == body
    assert await stream.read(1000) == b""


async def test_the_connection_goes_back_once_the_body_has_arrived_unread(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(300_000)
    server = await serve(answering([head_of(len(body)), *every(body, 100_000)], ok(b"next")))
    pool = make_pool(limit=1)
    stream = await open_stream(pool, server)
    # The next request waits for the body to arrive (not to be read), then takes the connection.
    assert (await asyncio.wait_for(get(pool, server), 2)).body == b"next"
    assert server.accepted == 1
    assert await read_by_reading(stream) == body  # the body stayed in the stream's buffers


async def test_closing_a_half_read_stream_closes_its_connection(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:4000]))
    stream = await open_stream(pool, server)
    assert await stream.read(1000) == body[:1000]
    stream.close()
    await eventually(lambda: 1 in server.closed_by_client)
    with pytest.raises(HttpConnectionError):
        await stream.read(1)
    stream.close()  # twice is fine
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2
    assert pool.open_connections == 1


async def test_closing_a_stream_fails_a_read_waiting_in_another_task(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:1000]))
    stream = await open_stream(pool, server)
    assert await stream.read(1000) == body[:1000]
    waiting = asyncio.ensure_future(stream.read(10))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    stream.close()
    with pytest.raises(HttpConnectionError):
        await asyncio.wait_for(waiting, 2)
    await eventually(lambda: 1 in server.closed_by_client)


async def test_closing_a_stream_whose_body_has_arrived_keeps_the_connection(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(ok(noise(100)), ok(b"next")))
    stream = await open_stream(pool, server)
    stream.close()
    assert (await get(pool, server)).body == b"next"
    assert server.accepted == 1
    assert not server.closed_by_client


async def test_a_read_after_close_never_looks_like_the_end_of_the_body(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(ok(noise(100))))
    stream = await open_stream(pool, server)  # the whole body came with the head
    stream.close()
    assert stream.remaining == 100
    with pytest.raises(HttpConnectionError):
        await stream.read(10)  # as after closing a stream whose body had not all arrived


async def test_an_answer_longer_than_its_length_is_read_whole_and_its_connection_dropped(
    serve: Serve, pool: HttpPool
) -> None:
    server = await serve(answering(ok(b"hello") + b"EXTRA"))
    response = await pool.request(server.origin, request(), stream=True)
    assert response.stream is None
    assert response.body == b"hello"
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"hello"
    assert server.accepted == 2


async def test_a_stream_answered_with_connection_close_ends_its_connection(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(5000)
    close_after = answering([head_of(len(body), "Connection: close"), body])
    server = await serve(first_connection(close_after))
    stream = await open_stream(pool, server)
    assert await read_by_reading(stream) == body
    await eventually(lambda: 1 in server.closed_by_client)
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2


async def test_a_stream_dropped_without_close_frees_its_connection_slot(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:1000]))
    pool = make_pool(limit=1)
    response = await pool.request(server.origin, request(), stream=True)
    stream = response.stream
    assert stream is not None
    first = await stream.read(100)
    del response, stream
    gc.collect()
    # The only connection slot is free again (a request would wait forever otherwise).
    assert (await asyncio.wait_for(get(pool, server), 2)).body == b"ok"
    assert first == body[:100]
    await eventually(lambda: 1 in server.closed_by_client)
    assert server.accepted == 2


async def test_dropping_a_stream_whose_body_has_arrived_leaves_its_connection_alone(
    serve: Serve, make_pool: MakePool
) -> None:
    server = await serve(answering(ok(noise(100)), ok(b"next")))
    pool = make_pool(limit=1)
    response = await pool.request(server.origin, request(), stream=True)
    assert response.stream is not None
    assert (await get(pool, server)).body == b"next"  # the connection went back already
    del response
    gc.collect()
    await asyncio.sleep(0.02)
    # The connection, now idle in the pool, was not closed with the stream.
    assert (await get(pool, server)).body == b"next"
    assert server.accepted == 1
    assert not server.closed_by_client


# -- flow control -------------------------------------------------------------------------------


async def test_a_reader_that_does_not_read_stops_the_server_and_then_gets_everything(
    serve: Serve, make_pool: MakePool
) -> None:
    size = 32 * MiB
    body = noise(size)
    all_written = asyncio.Event()

    async def flood(peer: Peer) -> None:
        await peer.read_request()
        peer.writer.write(head_of(size) + body)
        await peer.writer.drain()  # done once the client took all but a little of the body
        all_written.set()
        await peer.until_closed()

    server = await serve(flood)
    pool = make_pool(read_timeout=0.3)
    stream = await open_stream(pool, server)
    reception = stream._reception

    def paused() -> bool:  # whether the socket is not being read
        return reception.paused

    # Twice the read timeout without reading: no timeout, since nobody waits for bytes.
    await asyncio.sleep(0.6)
    assert not all_written.is_set()  # the server is blocked: the client stopped reading
    assert paused()
    assert 4 * MiB <= reception.buffered <= 5 * MiB  # the client holds a bounded amount
    received = reception.received
    assert received < size

    # Reading down to just over 2 MiB unread does not start the socket again...
    out = bytearray()
    while reception.buffered > 2 * MiB + 1:
        buffer, start, end = await stream.peek(STREAM_CHUNK)
        count = min(end - start, reception.buffered - (2 * MiB + 1))
        out += buffer[start : start + count]
        stream.consume(count)
    await asyncio.sleep(0.05)
    assert paused()
    assert reception.received == received
    # ...one more byte does.
    out += await stream.read(1)
    assert not paused()
    await eventually(lambda: reception.received > received)

    out += await read_by_reading(stream)
    assert len(out) == size
    assert out == body
    await asyncio.wait_for(all_written.wait(), 2)
    assert server.accepted == 1


async def test_the_buffered_part_of_a_fast_body_stays_bounded_while_reading_slowly(
    serve: Serve, pool: HttpPool
) -> None:
    size = 16 * MiB
    body = noise(size, seed=3)
    server = await serve(answering(ok(body)))
    stream = await open_stream(pool, server)
    reception = stream._reception
    most = 0
    out = bytearray()
    while data := await stream.read(256 * 1024):
        out += data
        most = max(most, reception.buffered)
        await asyncio.sleep(0.001)  # slower than the server
    assert out == body
    assert most <= 5 * MiB


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["close", "abort"])
async def test_a_connection_dropped_mid_body_fails_the_read_and_the_pool_recovers(
    serve: Serve, pool: HttpPool, how: str
) -> None:
    body = noise(10_000)

    async def part_then_drop(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(head_of(len(body)) + body[:3000])
        await asyncio.sleep(0.05)
        if how == "close":
            peer.close()
        else:
            peer.writer.transport.abort()

    server = await serve(first_connection(part_then_drop))
    stream = await open_stream(pool, server)
    got = bytearray()
    with pytest.raises(HttpConnectionError) as caught:
        while True:
            data = await asyncio.wait_for(stream.read(1000), 2)
            assert data  # the body never "ends" early
            got += data
    assert not isinstance(caught.value, HttpTimeoutError)
    assert got == body[:3000]  # every byte that came, then the error
    with pytest.raises(HttpConnectionError):
        await stream.peek(1)  # and again
    assert pool.open_connections == 0
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 2


async def test_bytes_that_arrived_before_the_connection_broke_can_still_be_read(
    serve: Serve, pool: HttpPool
) -> None:
    body = noise(10_000)

    async def part_then_drop(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(head_of(len(body)) + body[:1000])
        peer.close()

    server = await serve(part_then_drop)
    stream = await open_stream(pool, server)
    await eventually(lambda: pool.open_connections == 0)  # the client saw the drop
    # A peek for more than came shows what came; the read that needs more raises.
    buffer, start, end = await stream.peek(5000)
    assert buffer[start:end] == body[:1000]
    assert await stream.read(5000) == body[:1000]
    with pytest.raises(HttpConnectionError):
        await stream.read(1)
    assert stream.remaining == 9000


async def test_silence_while_a_reader_waits_is_a_timeout_error(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:2000]))
    pool = make_pool(read_timeout=0.3)
    stream = await open_stream(pool, server)
    assert await stream.read(2000) == body[:2000]
    started = time.monotonic()
    with pytest.raises(HttpTimeoutError):
        await asyncio.wait_for(stream.peek(1), 3)  # a plain TimeoutError if it never fires
    assert 0.28 < time.monotonic() - started < 1.0
    await eventually(lambda: 1 in server.closed_by_client)
    with pytest.raises(HttpTimeoutError):
        await stream.read(1)
    assert (await get(pool, server)).body == b"ok"


async def test_the_read_timeout_counts_from_when_the_reader_starts_waiting(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:2000]))
    pool = make_pool(read_timeout=0.3)
    stream = await open_stream(pool, server)
    await asyncio.sleep(0.6)  # the last byte came twice the read timeout ago
    assert await stream.read(2000) == body[:2000]
    started = time.monotonic()
    with pytest.raises(HttpTimeoutError):
        await asyncio.wait_for(stream.peek(1), 3)
    assert 0.28 < time.monotonic() - started < 1.0  # a whole read timeout of waiting


async def test_a_reader_that_pauses_longer_than_the_read_timeout_does_not_time_out(
    serve: Serve, make_pool: MakePool
) -> None:
    go = asyncio.Event()
    body = noise(100_000)
    server = await serve(held_back(head_of(len(body)) + body[:30_000], body[30_000:], go))
    pool = make_pool(read_timeout=0.3)
    stream = await open_stream(pool, server)
    assert await stream.read(10_000) == body[:10_000]
    await asyncio.sleep(0.6)  # not reading, for twice the read timeout
    out = bytearray(await stream.read(20_000))
    assert out == body[10_000:30_000]
    go.set()
    out += await read_by_reading(stream)
    assert out == body[10_000:]
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 1


async def test_a_slow_but_steady_body_longer_than_the_read_timeout_streams(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(2000)

    async def trickle(peer: Peer) -> None:
        await peer.read_request()
        await peer.send(head_of(len(body)), *every(body, 250), pause=0.1)
        await peer.until_closed()

    server = await serve(trickle)
    pool = make_pool(read_timeout=0.3)
    stream = await open_stream(pool, server)
    started = time.monotonic()
    assert await read_by_peeking(stream) == body  # peeks wait for more than each piece
    assert time.monotonic() - started > 0.6


async def test_aclose_fails_a_half_read_stream(serve: Serve, make_pool: MakePool) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:2000]))
    pool = make_pool()
    stream = await open_stream(pool, server)
    assert await stream.read(500) == body[:500]
    await pool.aclose()
    await eventually(lambda: 1 in server.closed_by_client)
    assert pool.open_connections == 0
    # What had arrived can still be read; the read that needs more fails.
    assert await stream.read(10_000) == body[500:2000]
    with pytest.raises(HttpConnectionError):
        await asyncio.wait_for(stream.peek(1), 2)


async def test_aclose_fails_a_reader_waiting_in_peek(serve: Serve, make_pool: MakePool) -> None:
    body = noise(10_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:2000]))
    pool = make_pool()
    stream = await open_stream(pool, server)
    assert await stream.read(2000) == body[:2000]
    waiting = asyncio.ensure_future(stream.peek(1))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    await pool.aclose()
    with pytest.raises(HttpConnectionError):
        await asyncio.wait_for(waiting, 2)


@pytest.mark.parametrize("method", ["peek", "read"])
async def test_a_cancelled_read_leaves_the_stream_usable(
    serve: Serve, pool: HttpPool, method: str
) -> None:
    go = asyncio.Event()
    body = noise(5000)
    server = await serve(held_back(head_of(len(body)) + body[:1000], body[1000:], go))
    stream = await open_stream(pool, server)
    assert await stream.read(1000) == body[:1000]
    waiting = asyncio.ensure_future(stream.peek(10) if method == "peek" else stream.read(10))
    await asyncio.sleep(0.02)
    assert not waiting.done()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert stream.remaining == 4000  # nothing was consumed
    go.set()
    buffer, start, end = await asyncio.wait_for(stream.peek(10), 2)
    assert end - start >= 10
    assert buffer[start : start + 10] == body[1000:1010]
    assert await read_by_reading(stream) == body[1000:]
    # The connection was neither closed nor left out of step.
    assert (await get(pool, server)).body == b"ok"
    assert server.accepted == 1
    assert not server.closed_by_client


# -- a stream nobody reads gives its connection up to a waiting request ---------------------


async def test_a_request_takes_the_connection_of_a_stream_left_unread(
    serve: Serve, make_pool: MakePool
) -> None:
    body = noise(100_000)
    server = await serve(part_then_wait(head_of(len(body)) + body[:1000]))
    pool = make_pool(limit=1)
    stream = await open_stream(pool, server)
    assert await stream.read(10) == body[:10]
    started = time.monotonic()
    answer = await asyncio.wait_for(get(pool, server), 10)  # the only connection is the stream's
    waited = time.monotonic() - started
    assert answer.body == b"ok"
    assert STREAM_IDLE_SECONDS * 0.9 <= waited < STREAM_IDLE_SECONDS + 1.5
    assert 1 in server.closed_by_client
    assert await stream.read(2000) == body[10:1000]  # what had arrived is still there
    with pytest.raises(StreamPreemptedError):
        await stream.read(10)


async def test_a_stream_being_read_keeps_its_connection(serve: Serve, make_pool: MakePool) -> None:
    go = asyncio.Event()
    body = noise(2000)
    server = await serve(held_back(head_of(len(body)) + body[:1000], body[1000:], go))
    # The read waits twice the idle time: a read timeout well past it (2 s raced the sleep).
    pool = make_pool(limit=1, read_timeout=10.0)
    stream = await open_stream(pool, server)
    assert await stream.read(1000) == body[:1000]
    reading = asyncio.ensure_future(stream.read(1000))  # waits for bytes held back
    other = asyncio.ensure_future(get(pool, server))
    await asyncio.sleep(STREAM_IDLE_SECONDS * 2)
    assert not other.done()  # a reader waiting on its stream is not idle
    go.set()
    assert await asyncio.wait_for(reading, 5) == body[1000:]
    assert (await asyncio.wait_for(other, 5)).body == b"ok"
    assert server.accepted == 1
