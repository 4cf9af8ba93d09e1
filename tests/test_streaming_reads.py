"""Sequential reads stream one GET: ``open("rb")`` is one request however much is read.

What the tests document:

* opening sends the ``GetObject`` at once (no ``HeadObject``): size, ETag and metadata come
  from its head, and the body it starts is what sequential reads return;
* a seek away from the stream fetches only the part it lands in; reading on past that part
  opens a new stream for the rest, pinned with ``If-Match`` to the ETag seen at open;
* a stream whose connection breaks resumes where it stopped (a few times, then it raises);
* closing a half-read reader, or dropping it unclosed, gives its connection back;
* a cancelled read loses no bytes, and memory stays at a few MiB whatever the object size;
* a request that finds the pool full takes the connection of a reader nobody reads (lean);
* on a slow network (one connection slower than the reader), a reader set to judge its stream
  (``read_ahead=None``) fetches the parts after the one it streams in parallel;
  ``read_ahead=0`` (the default) keeps streaming;
* ``read_bytes`` puts every part in its place in one exact ``bytes`` object.

The behaviours of both request paths are checked through each of them (``lean`` and
``botocore`` test ids, ``lean_requests=False``); the lean path's own ones through it alone.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3Path,
    TransferConfig,
    register_configuration_parameter,
)
from aios3path._s3 import ObjectStreamError
from aios3path._transfer_config import MiB
from aios3path.testing import S3Server

from ._proxy import CountingProxy, CutResponse, Request
from .test_open import PART, payload

LEAN = "aios3path-lean"

paths = pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])


def configure(bucket: AsyncS3Path, lean: bool, **transfer: Any) -> None:
    """Choose the request path (and transfer settings) for the test bucket.

    Readers stream for good (``read_ahead=0``, the default) unless a test says otherwise;
    a reader set to judge its stream (``read_ahead=None``) has tests of its own (a slow
    network, below).
    """
    parameters: dict[str, Any] = {"lean_requests": lean}
    parameters["transfer_config"] = TransferConfig(**{"read_ahead": 0, **transfer})
    register_configuration_parameter(PureS3Path("/", bucket.bucket), parameters=parameters)


def gets(counter: CountingProxy) -> list[Request]:
    """The GetObject requests that went through the proxy."""
    return [r for r in counter.requests if r.operation == "GetObject"]


@pytest.fixture(scope="module")
def data() -> bytes:
    """Three parts of 5 MiB and a bit: big enough to outgrow any stream buffer."""
    return payload(3 * PART + 321, seed=11)


@pytest.fixture
async def stored(bucket: AsyncS3Path, boto3_client: Any, data: bytes) -> AsyncS3Path:
    """``data`` stored (by boto3) as ``bucket/data.bin``."""
    boto3_client.put_object(Bucket=bucket.bucket, Key="data.bin", Body=data)
    return bucket / "data.bin"


@paths
async def test_sequential_reading_is_one_get_started_at_open(
    stored: AsyncS3Path, boto3_client: Any, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    head = boto3_client.head_object(Bucket=stored.bucket, Key=stored.key)
    counter.clear()
    async with stored.open("rb") as f:
        assert counter.operations() == {"GetObject": 1}  # the body is on its way already
        assert f.size == len(data)
        assert f.stat is not None and f.stat.st_size == len(data)
        assert f.etag == head["ETag"]
        chunks = []
        while chunk := await f.read(MiB + 7):  # never aligned with any buffer
            chunks.append(chunk)
    assert b"".join(chunks) == data
    (get,) = gets(counter)
    assert counter.operations() == {"GetObject": 1}
    assert "range" not in get.headers
    assert get.headers["user-agent"].startswith(LEAN) is lean


@paths
async def test_every_read_method_takes_its_bytes_from_the_stream(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    counter.clear()
    async with stored.open("rb") as f:
        assert await f.read(3) == data[:3]
        assert await f.read1(5) == data[3:8]
        buffer = bytearray(100)
        assert await f.readinto(buffer) == 100 and buffer == data[8:108]
        line = await f.readline()
        assert line == data[108 : data.index(b"\n", 108) + 1]
        position = await f.tell()
        assert await f.read() == data[position:]
        assert await f.read() == b""
    assert counter.operations() == {"GetObject": 1}


@paths
async def test_a_seek_fetches_one_part_and_reading_on_streams_the_rest(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean, multipart_chunksize=PART, read_ahead=0)
    async with stored.open("rb") as f:
        etag = f.etag
        assert await f.read(10) == data[:10]
        counter.clear()
        await f.seek(PART + 100)  # far past what the stream holds: that stream is dropped
        assert await f.read(5) == data[PART + 100 : PART + 105]
        assert [r.headers["range"] for r in gets(counter)] == [f"bytes={PART}-{2 * PART - 1}"]
        counter.clear()
        assert await f.read(PART) == data[PART + 105 : 2 * PART + 105]  # the part, then on
        assert await f.read() == data[2 * PART + 105 :]
    (stream,) = gets(counter)  # one new stream for everything after the part
    assert stream.headers["range"] == f"bytes={2 * PART}-{len(data) - 1}"
    assert stream.headers["if-match"] == etag


@paths
async def test_seeking_back_within_what_arrived_needs_no_request(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    counter.clear()
    async with stored.open("rb") as f:
        assert await f.read(1000) == data[:1000]
        await f.seek(0)
        assert await f.read(1000) == data[:1000]
        await f.seek(500)
        assert await f.read() == data[500:]
    assert counter.operations() == {"GetObject": 1}


def cut_first_get(data: bytes, etag: str, keep: int) -> Any:
    """An injection that answers the first GET with the object's head and ``keep`` bytes of it,
    then drops the connection; later requests reach the server."""
    answered: list[Request] = []

    def inject(request: Request) -> bytes | None:
        if request.operation != "GetObject" or answered:
            return None
        answered.append(request)
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nETag: {etag}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        return CutResponse(head.encode() + data[:keep])

    return inject


@paths
async def test_a_broken_stream_resumes_where_it_stopped(
    stored: AsyncS3Path, boto3_client: Any, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    etag = boto3_client.head_object(Bucket=stored.bucket, Key=stored.key)["ETag"]
    counter.inject = cut_first_get(data, etag, keep=123_456)
    counter.clear()
    async with stored.open("rb") as f:
        received = await f.read()
    assert received == data
    first, resumed = gets(counter)
    assert "range" not in first.headers
    start, _, end = resumed.headers["range"].removeprefix("bytes=").partition("-")
    assert int(end) == len(data) - 1
    if lean:
        assert int(start) == 123_456  # every byte that arrived was kept
    else:
        assert int(start) <= 123_456  # aiohttp drops what it buffered when the body breaks
    assert resumed.headers["if-match"] == etag


@paths
async def test_a_stream_that_keeps_breaking_raises_naming_the_path(
    stored: AsyncS3Path, boto3_client: Any, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    etag = boto3_client.head_object(Bucket=stored.bucket, Key=stored.key)["ETag"]

    def always_cut(request: Request) -> bytes | None:
        if request.operation != "GetObject":
            return None
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nETag: {etag}\r\n\r\n"
        return CutResponse(head.encode() + data[:1000])

    counter.inject = always_cut
    async with stored.open("rb") as f:
        with pytest.raises(ObjectStreamError, match=stored.as_uri()):
            await f.read()
        assert len(gets(counter)) == 3  # the first stream and two resumptions
        counter.inject = None
        await f.seek(0)
        assert await f.read(10) == data[:10]  # the reader is still usable


@paths
async def test_closing_or_dropping_half_read_readers_gives_connections_back(
    stored: AsyncS3Path, data: bytes, lean: bool
) -> None:
    configure(stored, lean)

    async def many_half_reads() -> None:
        for _ in range(15):  # more readers than the pool has connections
            async with stored.open("rb") as f:
                assert await f.read(10) == data[:10]
        for _ in range(15):
            f = await stored.open("rb")
            assert await f.read(10) == data[:10]
            del f  # never closed
            gc.collect()
            await asyncio.sleep(0)  # the finaliser hands the connection back on the loop

    await asyncio.wait_for(many_half_reads(), timeout=60)


@paths
async def test_cancelled_reads_lose_no_bytes(stored: AsyncS3Path, data: bytes, lean: bool) -> None:
    configure(stored, lean)
    received = bytearray()
    async with stored.open("rb") as f:
        for attempt in range(200):
            task = asyncio.ensure_future(f.read(MiB // 3))
            for _ in range(attempt % 4):
                await asyncio.sleep(0)
            task.cancel()
            try:
                chunk = await task
            except asyncio.CancelledError:
                continue
            if not chunk:
                break
            received += chunk
        received += await f.read()
    assert received == data


async def test_text_mode_and_the_sync_api_stream_too(
    bucket: AsyncS3Path, sync_bucket: S3Path, counter: CountingProxy
) -> None:
    text = "".join(f"line {i}\n" for i in range(100_000))
    await (bucket / "lines.txt").write_text(text)
    counter.clear()
    async with (bucket / "lines.txt").open() as f:
        assert [line async for line in f] == text.splitlines(keepends=True)
    with (sync_bucket / "lines.txt").open() as s:
        assert s.read() == text
    assert counter.operations() == {"GetObject": 2}


@paths
async def test_a_streaming_reader_holds_a_few_mib_whatever_the_size(
    bucket: AsyncS3Path, boto3_client: Any, lean: bool
) -> None:
    configure(bucket, lean)
    block = payload(MiB, seed=12)
    blocks = 32
    boto3_client.put_object(Bucket=bucket.bucket, Key="big", Body=block * blocks)
    await (bucket / "warm-up").write_bytes(b"")  # the loop's client (botocore's models) first
    assert await (bucket / "warm-up").read_bytes() == b""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        count = 0
        matches = True
        async with (bucket / "big").open("rb") as f:
            while chunk := await f.read(MiB):
                matches = matches and chunk == block
                count += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == blocks and matches
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_a_stream_answered_without_content_length_is_asked_again_through_botocore(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes
) -> None:
    """The lean path streams only bodies of known length: a chunked answer is not read whole."""
    answered: list[Request] = []

    def chunked_once(request: Request) -> bytes | None:
        if request.operation != "GetObject" or answered:
            return None
        answered.append(request)
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"

    counter.inject = chunked_once
    counter.clear()
    async with stored.open("rb") as f:
        assert await f.read() == data
    lean, botocore = gets(counter)
    assert lean.headers["user-agent"].startswith(LEAN)
    assert not botocore.headers["user-agent"].startswith(LEAN)


async def test_readers_nobody_reads_do_not_starve_other_requests(
    stored: AsyncS3Path, s3_server: S3Server, data: bytes
) -> None:
    """An open stream holds a connection, until a request that needs it finds it idle."""
    register_configuration_parameter(
        PureS3Path("/", stored.bucket),
        resource=dict(s3_server.client_settings(), config=Config(max_pool_connections=2)),
        parameters={"lean_requests": True},
    )

    async def open_three_and_list() -> list[Any]:
        readers = []
        for _ in range(3):  # one more than the pool holds, each left with its body unread
            reader = await stored.open("rb")
            assert await reader.read(4) == data[:4]
            readers.append(reader)
        assert [p.name async for p in stored.parent.iterdir()] == ["data.bin"]
        return readers

    readers = await asyncio.wait_for(open_three_and_list(), timeout=30)
    for reader in readers:  # each reads on, where its connection was taken on a new one
        async with reader:
            assert await reader.read() == data[4:]


@paths
async def test_concurrent_reads_of_one_reader_take_turns(
    stored: AsyncS3Path, data: bytes, lean: bool
) -> None:
    configure(stored, lean)
    async with stored.open("rb") as f:
        first, second = await asyncio.wait_for(asyncio.gather(f.read(10), f.read(10)), 10)
        assert first + second == data[:20]
        lines = await asyncio.wait_for(asyncio.gather(f.readline(), f.read(5), f.read1(7)), 10)
        assert b"".join(lines) == data[20 : 20 + sum(map(len, lines))]


@paths
async def test_closing_a_reader_stops_a_waiting_read_without_a_new_request(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean)

    def head_then_silence(request: Request) -> bytes | None:
        if request.operation != "GetObject":
            return None
        return f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data[:10]

    counter.inject = head_then_silence
    counter.clear()
    f = await stored.open("rb")
    assert await f.read(10) == data[:10]
    waiting = asyncio.ensure_future(f.read(10))  # no byte will come
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await f.close()
    with pytest.raises(ValueError, match="closed file"):
        await asyncio.wait_for(waiting, 10)
    await asyncio.sleep(0.2)
    assert counter.operations() == {"GetObject": 1}


async def test_a_read_cancelled_midway_asks_again_from_where_it_started(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes
) -> None:
    """The first piece was taken from the stream, the second never came: nothing is lost,
    and reading again streams from the read's start (no part request)."""
    configure(stored, True)
    answered: list[Request] = []

    def piece_then_silence(request: Request) -> bytes | None:
        if request.operation != "GetObject" or answered:
            return None
        answered.append(request)
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        return head + data[: MiB + 10]  # a whole stream buffer and a bit, then nothing

    counter.inject = piece_then_silence
    counter.clear()
    async with stored.open("rb") as f:
        reading = asyncio.ensure_future(f.read(MiB + 100))
        await asyncio.sleep(0.3)
        assert not reading.done()
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert await f.tell() == 0
        assert await f.read() == data
    first, again = gets(counter)
    assert "range" not in first.headers
    assert again.headers["range"] == f"bytes=0-{len(data) - 1}"


@pytest.mark.parametrize(
    ("lean", "bandwidth"),
    [(True, None), (False, None), (True, 64 * MiB)],
    ids=["lean", "botocore", "limited"],
)
async def test_read_bytes_assembles_parts_into_one_exact_bytes_object(
    stored: AsyncS3Path, counter: CountingProxy, data: bytes, lean: bool, bandwidth: int | None
) -> None:
    """Parts land straight in the result's place (or are copied there): the object, exactly."""
    configure(
        stored,
        lean,
        multipart_threshold=PART,
        multipart_chunksize=PART,
        max_bandwidth=bandwidth,
    )
    counter.clear()
    result = await stored.read_bytes()
    assert type(result) is bytes
    assert result == data
    ranges = sorted(r.headers["range"] for r in gets(counter))
    assert ranges == sorted(
        f"bytes={first}-{min(first + PART, len(data)) - 1}" for first in range(0, len(data), PART)
    )


# -- a slow network: one connection slower than the reader -------------------------------------

#: Bytes a second one connection carries on the slow network: far below what one stream must
#: carry to be kept (192 MiB/s), as with S3 over the internet...
SLOW_NETWORK = 24 * MiB
#: ...with a round trip that marks a distant store (20 ms or more).
DISTANT = 0.03


@pytest.fixture
def slow_network(s3_server: S3Server) -> Iterator[CountingProxy]:
    """Every path routed through a proxy to a distant store, passing responses on slowly."""
    proxy = CountingProxy(s3_server.endpoint_url, rate=SLOW_NETWORK, latency=DISTANT)
    settings = dict(s3_server.client_settings(), endpoint_url=proxy.url)
    register_configuration_parameter(PureS3Path("/"), resource=settings)
    try:
        yield proxy
    finally:
        proxy.close()


async def _read_in_chunks(path: AsyncS3Path) -> bytes:
    chunks = []
    async with path.open("rb") as f:
        while chunk := await f.read(MiB + 7):
            chunks.append(chunk)
    return b"".join(chunks)


#: Parts of 1 MiB: a reader judges its stream after two parts, and hands over with more than
#: two left.
SLOW_PART = MiB


@paths
async def test_on_a_slow_network_the_parts_after_the_streamed_one_come_in_parallel(
    stored: AsyncS3Path, slow_network: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean, multipart_chunksize=SLOW_PART, read_ahead=None)
    slow_network.clear()
    assert await _read_in_chunks(stored) == data
    first, *parts = gets(slow_network)
    assert "range" not in first.headers  # the stream started at open served the first parts
    starts = sorted(int(r.headers["range"][len("bytes=") :].split("-")[0]) for r in parts)
    handed_over = starts[0] // SLOW_PART
    assert 2 <= handed_over <= 5  # judged two parts in, at the next part boundary
    # Every later part was fetched once, whole: contiguous ranges to the last byte.
    assert sorted(r.headers["range"] for r in parts) == sorted(
        f"bytes={first_byte}-{min(first_byte + SLOW_PART, len(data)) - 1}"
        for first_byte in range(handed_over * SLOW_PART, len(data), SLOW_PART)
    )
    etag = (await stored.stat()).etag  # type: ignore[union-attr]
    assert {r.headers["if-match"] for r in parts} == {etag}  # pinned to the object read


@paths
async def test_on_a_slow_network_a_reader_set_to_stream_keeps_its_one_get(
    stored: AsyncS3Path, slow_network: CountingProxy, data: bytes, lean: bool
) -> None:
    configure(stored, lean, multipart_chunksize=SLOW_PART, read_ahead=0)
    slow_network.clear()
    assert await _read_in_chunks(stored) == data
    assert slow_network.operations() == {"GetObject": 1}


async def test_on_a_slow_network_a_stream_with_two_parts_left_is_kept(
    bucket: AsyncS3Path, boto3_client: Any, slow_network: CountingProxy
) -> None:
    """Parallel parts need a new connection each: for the last two parts, not worth it."""
    configure(bucket, True, multipart_chunksize=SLOW_PART, read_ahead=None)
    data = payload(4 * SLOW_PART, seed=13)
    boto3_client.put_object(Bucket=bucket.bucket, Key="four-parts", Body=data)
    slow_network.clear()
    assert await _read_in_chunks(bucket / "four-parts") == data
    assert slow_network.operations() == {"GetObject": 1}


async def test_a_slow_stream_from_a_store_nearby_is_kept(
    stored: AsyncS3Path, s3_server: S3Server, data: bytes
) -> None:
    """Slow but quick to answer: a store short of CPU, which more connections would not help."""
    proxy = CountingProxy(s3_server.endpoint_url, rate=SLOW_NETWORK)
    settings = dict(s3_server.client_settings(), endpoint_url=proxy.url)
    register_configuration_parameter(PureS3Path("/"), resource=settings)
    try:
        configure(stored, True, multipart_chunksize=SLOW_PART, read_ahead=None)
        proxy.clear()
        assert await _read_in_chunks(stored) == data
        assert proxy.operations() == {"GetObject": 1}
    finally:
        proxy.close()
