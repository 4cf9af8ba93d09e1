"""``AsyncS3Path.open`` and ``S3Path.open``: streamed reads and writes against a real server."""

from __future__ import annotations

import asyncio
import codecs
import csv
import gc
import io
import json
import os
import random
import re
import shutil
import tarfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3Path,
    TransferConfig,
    register_configuration_parameter,
)
from aios3path import _file as file_module
from aios3path import _sync_io as sync_io
from aios3path._file import S3ObjectChangedError, S3ObjectReader, S3ObjectWriter
from aios3path._transfer_config import MiB

from ._helpers import keys_of, put
from ._proxy import CountingProxy

PART = 5 * MiB


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` reproducible pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def uploads_of(client: Any, bucket: str) -> list[Any]:
    """The multipart uploads in progress in ``bucket`` (boto3, not aios3path)."""
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def small_parts(bucket: str, **overrides: Any) -> TransferConfig:
    """Register 5 MiB parts (S3's minimum) for ``bucket`` so that multipart is quick on moto."""
    settings: dict[str, Any] = {
        "multipart_threshold": PART,
        "multipart_chunksize": PART,
        "read_ahead": 2,
        "max_concurrency": 4,
    }
    settings.update(overrides)
    config = TransferConfig(**settings)
    register_configuration_parameter(
        PureS3Path(f"/{bucket}/"), parameters={"transfer_config": config}
    )
    return config


@pytest.fixture
def parts(bucket: AsyncS3Path) -> TransferConfig:
    """5 MiB parts, read-ahead 2, concurrency 4 for the test bucket."""
    return small_parts(bucket.bucket)


@pytest.fixture(scope="module")
def big() -> bytes:
    """Two full parts and a short last one (10 MiB + 123 bytes)."""
    return payload(2 * PART + 123, seed=1)


# -- modes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode",
    ["r+", "rb+", "w+", "a+b", "x+", "+"],
)
def test_update_modes_are_refused_naming_the_mode(mode: str) -> None:
    with pytest.raises(ValueError, match=r"\+"):
        AsyncS3Path("/b/k").open(mode)
    with pytest.raises(ValueError, match=r"\+"):
        S3Path("/b/k").open(mode)


@pytest.mark.parametrize("mode", ["", "z", "rw", "rr", "rbt", "bt", "t", "b", "wa"])
def test_invalid_modes(mode: str) -> None:
    with pytest.raises(ValueError, match="mode"):
        AsyncS3Path("/b/k").open(mode)


def test_argument_checks_happen_at_the_call(counter: CountingProxy) -> None:
    path = AsyncS3Path("/b/k")
    with pytest.raises(ValueError, match="encoding"):
        path.open("rb", encoding="utf-8")
    with pytest.raises(ValueError, match="newline"):
        path.open("r", newline="\n\n")
    with pytest.raises(ValueError, match="unbuffered"):
        path.open("r", buffering=0)
    with pytest.raises(LookupError):
        path.open("r", encoding="no-such-codec")
    with pytest.raises(ValueError):
        AsyncS3Path("/b").open("rb")  # a bucket is not an object
    assert counter.count() == 0


@pytest.mark.parametrize(
    "arguments",
    [{"errors": 1}, {"encoding": 1}, {"encoding": b"utf-8"}, {"newline": 1}, {"encoding": "hex"}],
    ids=repr,
)
def test_text_arguments_open_refuses_leave_the_object_untouched(
    sync_bucket: S3Path, boto3_client: Any, tmp_path: Any, arguments: dict[str, Any]
) -> None:
    """Both APIs raise what open() raises (``hex`` is a codec, but not a text encoding), before
    anything is opened: an existing object keeps its bytes, and no object is created."""
    with pytest.raises((TypeError, LookupError)) as expected:
        open(tmp_path / "local.txt", "w", **arguments)  # noqa: SIM115 - it raises
    message = re.escape(str(expected.value))
    precious = sync_bucket / "precious.txt"
    precious.write_bytes(b"precious data")
    for mode in ["w", "a", "x"]:
        for path in [precious, sync_bucket / "new.txt"]:
            with pytest.raises(expected.type, match=message):
                path.open(mode, **arguments)
            with pytest.raises(expected.type, match=message):
                AsyncS3Path(path).open(mode, **arguments)
    gc.collect()  # a writer a failed open dropped would be closed by now
    assert precious.read_bytes() == b"precious data"
    assert keys_of(boto3_client, sync_bucket.bucket) == ["precious.txt"]


async def test_missing_object_raises_at_open(bucket: AsyncS3Path) -> None:
    path = bucket / "missing.txt"
    with pytest.raises(FileNotFoundError, match=f"s3://{bucket.bucket}/missing.txt"):
        async with path.open("rb"):
            pass
    with pytest.raises(FileNotFoundError):
        await path.open()
    with pytest.raises(FileNotFoundError):
        S3Path.from_uri(f"s3://{bucket.bucket}/missing.txt").open()


async def test_await_open_then_close_and_reuse_rules(bucket: AsyncS3Path) -> None:
    await (bucket / "k").write_bytes(b"data")
    opener = (bucket / "k").open("rb")
    f = await opener
    assert isinstance(f, S3ObjectReader)
    assert (f.name, f.mode, f.size, f.closed) == (f"s3://{bucket.bucket}/k", "rb", 4, False)
    assert f.readable() and f.seekable() and not f.writable()
    assert await f.read() == b"data"
    await f.close()
    assert f.closed
    with pytest.raises(ValueError, match="closed file"):
        await f.read()
    with pytest.raises(RuntimeError):
        await opener
    w = await (bucket / "w").open("wb")
    async with w:
        await w.write(b"via await")
    assert await (bucket / "w").read_bytes() == b"via await"


# -- binary reads -----------------------------------------------------------------------------


async def test_binary_reads(bucket: AsyncS3Path) -> None:
    await (bucket / "lines").write_bytes(b"one\ntwo\n\nthree")
    async with (bucket / "lines").open("rb") as f:
        assert await f.read(2) == b"on"
        assert await f.readline() == b"e\n"
        assert await f.readline(2) == b"tw"
        assert await f.readlines() == [b"o\n", b"\n", b"three"]
        assert await f.read() == b""
        assert await f.readline() == b""
        await f.seek(0)
        assert [line async for line in f] == [b"one\n", b"two\n", b"\n", b"three"]
        await f.seek(0)
        buffer = bytearray(5)
        assert await f.readinto(buffer) == 5 and buffer == b"one\nt"
        assert await f.read1(100) == b"wo\n\nthree"
        await f.seek(0)
        assert await f.readlines(5) == [b"one\n", b"two\n"]


async def test_reads_straddling_part_boundaries(
    bucket: AsyncS3Path, parts: TransferConfig, big: bytes
) -> None:
    path = bucket / "big.bin"
    await path.write_bytes(big)
    async with path.open("rb") as f:
        chunks = []
        while chunk := await f.read(MiB + 7):  # never aligned with the 5 MiB parts
            chunks.append(chunk)
        assert b"".join(chunks) == big
        await f.seek(PART - 10)
        assert await f.read(20) == big[PART - 10 : PART + 10]
        await f.seek(2 * PART - 1)
        assert await f.read(10) == big[2 * PART - 1 : 2 * PART + 9]  # into the short last part
        await f.seek(0)
        assert await f.read() == big
        await f.seek(PART - 3)
        view = bytearray(2 * PART)
        count = await f.readinto(memoryview(view))
        assert count == len(big) - (PART - 3)
        assert view[:count] == big[PART - 3 :]
        assert await f.read1() == b""


async def test_seek_and_tell(bucket: AsyncS3Path, parts: TransferConfig, big: bytes) -> None:
    path = bucket / "seek.bin"
    await path.write_bytes(big)
    size = len(big)
    async with path.open("rb") as f:
        assert await f.tell() == 0
        assert await f.seek(PART + 5) == PART + 5  # forward
        assert await f.read(4) == big[PART + 5 : PART + 9]
        assert await f.tell() == PART + 9
        assert await f.seek(-PART, os.SEEK_CUR) == 9  # back, relative
        assert await f.read(3) == big[9:12]
        assert await f.seek(7, os.SEEK_CUR) == 19  # forward, relative
        assert await f.read(1) == big[19:20]
        assert await f.seek(-50, os.SEEK_END) == size - 50  # from the end
        assert await f.read() == big[-50:]
        assert await f.tell() == size
        assert await f.seek(10, os.SEEK_END) == size + 10  # past the end reads nothing
        assert await f.read(5) == b""
        await f.seek(3)
        assert await f.read(2) == big[3:5]  # back to the start after the end
        with pytest.raises(OSError):
            await f.seek(-1)
        with pytest.raises(ValueError):
            await f.seek(0, 3)


async def test_first_bytes_arrive_without_downloading_the_object(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, big: bytes
) -> None:
    small_parts(bucket.bucket, read_ahead=1)
    boto3_client.put_object(Bucket=bucket.bucket, Key="big", Body=big)
    etag = boto3_client.head_object(Bucket=bucket.bucket, Key="big")["ETag"]
    counter.clear()
    async with (bucket / "big").open("rb") as f:
        assert await f.read(1) == big[:1]
        gets = [r for r in counter.requests if r.operation == "GetObject"]
        assert counter.count("HeadObject") == 1
        assert 1 <= len(gets) <= 2  # the first part and at most one part of read-ahead
        assert f"bytes=0-{PART - 1}" in [r.headers["range"] for r in gets]
        assert all(r.headers["if-match"] == etag for r in gets)
    counter.clear()
    async with (bucket / "big").open("rb") as f:  # random access: only the part it lands in
        await f.seek(2 * PART + 100)
        assert await f.read(5) == big[2 * PART + 100 : 2 * PART + 105]
        await asyncio.sleep(0.05)
    gets = [r for r in counter.requests if r.operation == "GetObject"]
    assert [r.headers["range"] for r in gets] == [f"bytes={2 * PART}-{len(big) - 1}"]


async def test_sequential_read_keeps_a_window_of_parts(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    small_parts(bucket.bucket, read_ahead=2)
    data = payload(5 * PART, seed=2)
    boto3_client.put_object(Bucket=bucket.bucket, Key="five", Body=data)
    counter.clear()
    async with (bucket / "five").open("rb") as f:
        await f.read(10)
        for _ in range(100):  # the read-ahead requests are on their way
            if counter.count("GetObject") >= 3:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        assert counter.count("GetObject") == 3  # the current part and two ahead
        rest = await f.read()
    assert data[:10] + rest == data
    assert counter.count("GetObject") == 5  # each part once


async def test_a_reader_keeps_the_version_it_opened_or_fails(
    bucket: AsyncS3Path, boto3_client: Any, big: bytes
) -> None:
    """Bytes on their way belong to the version opened; a new GET finds the overwrite."""
    boto3_client.put_object(Bucket=bucket.bucket, Key="k", Body=big)
    async with (bucket / "k").open("rb") as f:
        put(boto3_client, bucket.bucket, "k", "version two!")
        assert await f.read(10) == big[:10]  # from the stream opened before the overwrite
        await f.seek(0)
        assert await f.read(10) == big[:10]  # still there: no new request
        await f.seek(len(big) - 10)
        with pytest.raises(S3ObjectChangedError, match="changed"):
            await f.read()  # a new GET, pinned to the ETag seen at open


async def test_concurrent_overwrite_is_detected_with_parallel_parts(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    put(boto3_client, bucket.bucket, "k", "version one")
    async with (bucket / "k").open("rb") as f:
        put(boto3_client, bucket.bucket, "k", "version two!")
        with pytest.raises(S3ObjectChangedError, match="changed"):
            await f.read()


async def test_empty_object_is_one_request_per_open(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    put(boto3_client, bucket.bucket, "empty", b"")
    counter.clear()
    async with (bucket / "empty").open("rb") as f:
        assert await f.read() == b""
        assert await f.readline() == b""
        assert [line async for line in f] == []
    async with (bucket / "empty").open() as t:
        assert await t.read() == ""
    assert counter.operations() == {"GetObject": 2}
    small_parts(bucket.bucket)  # parallel parts: opening is a HEAD, and no GET follows
    counter.clear()
    async with (bucket / "empty").open("rb") as f:
        assert await f.read() == b""
    assert counter.operations() == {"HeadObject": 1}


# -- binary writes ----------------------------------------------------------------------------


async def test_small_write_is_one_put_with_registered_parameters(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, parts: TransferConfig
) -> None:
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/typed/"),
        parameters={"ContentType": "text/csv", "Metadata": {"origin": "test"}},
    )
    counter.clear()
    async with (bucket / "typed" / "a.csv").open("wb") as f:
        assert f.writable() and not f.readable() and not f.seekable()
        assert await f.write(b"a,b\n") == 4
        await f.writelines([b"1,2\n", memoryview(b"3,4\n")])
        await f.flush()
        assert await f.tell() == 12
        assert keys_of(boto3_client, bucket.bucket) == []  # nothing visible before close
    assert counter.operations() == {"PutObject": 1}
    head = boto3_client.head_object(Bucket=bucket.bucket, Key="typed/a.csv")
    assert head["ContentType"] == "text/csv" and head["Metadata"] == {"origin": "test"}
    assert await (bucket / "typed" / "a.csv").read_bytes() == b"a,b\n1,2\n3,4\n"


async def test_big_write_is_a_multipart_upload_with_parameters(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, parts: TransferConfig
) -> None:
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/"),
        parameters={
            "transfer_config": parts,
            "ContentType": "application/x-test",
            "Metadata": {"kind": "multipart"},
        },
    )
    data = payload(2 * PART + 3 * MiB, seed=3)
    counter.clear()
    async with (bucket / "mp.bin").open("wb") as f:
        for start in range(0, len(data), 3 * MiB + 1):  # writes straddle the part edges
            await f.write(data[start : start + 3 * MiB + 1])
    ops = counter.operations()
    assert ops["CreateMultipartUpload"] == 1 and ops["CompleteMultipartUpload"] == 1
    assert ops["UploadPart"] == 3 and "PutObject" not in ops
    sizes = sorted(
        int(r.headers["content-length"]) for r in counter.requests if r.operation == "UploadPart"
    )
    assert sizes[-2:] == [PART, PART]  # two full parts and a short last one
    head = boto3_client.head_object(Bucket=bucket.bucket, Key="mp.bin")
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"kind": "multipart"}
    assert head["ContentLength"] == len(data)
    assert await (bucket / "mp.bin").read_bytes() == data


async def test_threshold_edges(
    bucket: AsyncS3Path, counter: CountingProxy, parts: TransferConfig
) -> None:
    exact = payload(PART, seed=4)
    counter.clear()
    async with (bucket / "exact").open("wb") as f:
        await f.write(exact)
    assert counter.operations() == {"PutObject": 1}  # == threshold: still one PutObject
    counter.clear()
    async with (bucket / "over").open("wb") as f:
        await f.write(exact)
        await f.write(b"!")
    ops = counter.operations()
    assert (ops["CreateMultipartUpload"], ops["UploadPart"]) == (1, 2)
    assert await (bucket / "exact").read_bytes() == exact
    assert await (bucket / "over").read_bytes() == exact + b"!"
    async with (bucket / "empty").open("wb"):
        pass
    assert await (bucket / "empty").read_bytes() == b""


async def test_exclusive_mode(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    put(boto3_client, bucket.bucket, "taken", "old")
    with pytest.raises(FileExistsError, match="taken"):
        async with (bucket / "taken").open("xb"):
            pass
    with pytest.raises(FileExistsError):
        S3Path("/", bucket.bucket, "taken").open("x")
    async with (bucket / "new").open("x") as f:
        await f.write("created")
    assert await (bucket / "new").read_text() == "created"
    # created by someone else between open and close: the conditional write refuses
    with pytest.raises(FileExistsError):
        async with (bucket / "race").open("xb") as f:
            await f.write(b"mine")
            put(boto3_client, bucket.bucket, "race", "theirs")
    assert await (bucket / "race").read_text() == "theirs"
    with pytest.raises(FileExistsError):
        async with (bucket / "race-mp").open("xb") as f:
            await f.write(payload(PART + 10))
            put(boto3_client, bucket.bucket, "race-mp", "theirs")
    assert await (bucket / "race-mp").read_text() == "theirs"
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_append(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, parts: TransferConfig
) -> None:
    async with (bucket / "log").open("a") as f:  # a missing object is created
        await f.write("one\n")
    async with (bucket / "log").open("a") as f:
        assert await f.tell() == 4
        await f.write("two\n")
    async with (bucket / "log").open("ab") as b:
        await b.write(b"three\n")
    assert await (bucket / "log").read_text() == "one\ntwo\nthree\n"
    base = payload(PART + 100, seed=5)  # past the threshold: copied server-side
    put(boto3_client, bucket.bucket, "big-log", base)
    counter.clear()
    async with (bucket / "big-log").open("ab") as b:
        await b.write(b"tail")
    ops = counter.operations()
    assert "GetObject" not in ops and ops["CompleteMultipartUpload"] == 1
    assert any("x-amz-copy-source" in r.headers for r in counter.requests)
    assert await (bucket / "big-log").read_bytes() == base + b"tail"
    with pytest.raises(S3ObjectChangedError):  # changed meanwhile: the append fails
        async with (bucket / "log").open("a") as f:
            await f.write("lost?\n")
            put(boto3_client, bucket.bucket, "log", "rewritten\n")
    assert await (bucket / "log").read_text() == "rewritten\n"


async def test_exception_inside_async_with_leaves_nothing(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    data = payload(2 * PART + 1, seed=6)
    for name, body in [("small", b"tiny"), ("multipart", data)]:
        with pytest.raises(RuntimeError, match="boom"):
            async with (bucket / name).open("wb") as f:
                await f.write(body)
                raise RuntimeError("boom")
    with pytest.raises(KeyError):
        async with (bucket / "text").open("w") as t:
            await t.write("x" * (PART + 1))
            raise KeyError("boom")
    assert keys_of(boto3_client, bucket.bucket) == []
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_cancellation_mid_write_leaves_nothing(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    chunk = payload(MiB, seed=7)
    started = asyncio.Event()

    async def writer() -> None:
        async with (bucket / "cancelled").open("wb") as f:
            while True:
                await f.write(chunk)
                if f._upload_id is not None:
                    started.set()

    task = asyncio.ensure_future(writer())
    await asyncio.wait_for(started.wait(), 30)
    await asyncio.sleep(0.05)  # let part uploads be in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert keys_of(boto3_client, bucket.bucket) == []
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_a_writer_dropped_unclosed_aborts_its_upload(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    """Garbage collection cannot wait for a close, so it publishes nothing: the upload goes."""
    f = await (bucket / "forgotten").open("wb")
    await f.write(payload(PART + 1, seed=9))  # past the threshold: a multipart upload started
    await f.write(b"more")
    assert f._upload_id is not None
    if f._inflight:
        await asyncio.wait(f._inflight, timeout=30)  # its first part may still be on its way
    with pytest.warns(ResourceWarning, match="never closed"):
        del f
        gc.collect()
    for _ in range(100):
        if not uploads_of(boto3_client, bucket.bucket):
            break
        await asyncio.sleep(0.05)
    assert uploads_of(boto3_client, bucket.bucket) == []
    assert keys_of(boto3_client, bucket.bucket) == []


def _open_a_big_upload(bucket: AsyncS3Path) -> Any:
    """A coroutine opening a writer of ``bucket/left`` past its threshold (an upload begun)."""

    async def opening() -> S3ObjectWriter:
        f = await (bucket / "left").open("wb")
        assert isinstance(f, S3ObjectWriter)
        await f.write(payload(PART + 1, seed=10))
        assert f._upload_id is not None
        return f

    return opening()


def test_a_writer_left_open_when_its_asyncio_run_ends_has_its_upload_aborted(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    """Its finalizer would run too late (the loop closed): the end of the loop aborts it."""
    kept = []

    async def main() -> None:
        kept.append(await _open_a_big_upload(bucket))

    with pytest.warns(ResourceWarning, match="never closed.*its multipart upload is aborted"):
        asyncio.run(main())
    assert uploads_of(boto3_client, bucket.bucket) == []
    assert keys_of(boto3_client, bucket.bucket) == []


def test_a_writer_whose_loop_is_closed_says_so_and_leaves_no_upload(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    loop = asyncio.new_event_loop()
    f = loop.run_until_complete(_open_a_big_upload(bucket))
    loop.run_until_complete(f.flush())
    loop.close()  # without closing the writer

    async def use_elsewhere() -> None:
        with pytest.raises(RuntimeError, match="opened in an event loop that is closed now"):
            await f.write(b"more")
        with pytest.raises(RuntimeError, match="its upload was aborted: nothing was written"):
            await f.close()

    asyncio.run(use_elsewhere())
    assert uploads_of(boto3_client, bucket.bucket) == []
    assert keys_of(boto3_client, bucket.bucket) == []


def test_a_writer_closed_from_another_loop_completes_in_its_own(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    """Its own loop still runs (in another thread): the close is carried out there."""
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        f = asyncio.run_coroutine_threadsafe(_open_a_big_upload(bucket), loop).result(60)

        async def close_here() -> None:
            with pytest.raises(RuntimeError, match="opened in another event loop"):
                await f.write(b"more")
            await f.close()

        asyncio.run(close_here())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
    assert keys_of(boto3_client, bucket.bucket) == ["left"]
    assert boto3_client.head_object(Bucket=bucket.bucket, Key="left")["ContentLength"] == PART + 1


async def test_explicit_abort(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig
) -> None:
    f = await (bucket / "aborted").open("wb")
    assert isinstance(f, S3ObjectWriter)
    await f.write(payload(PART + 1))
    await f.flush()
    await f.abort()
    assert f.closed
    with pytest.raises(ValueError):
        await f.write(b"x")
    await f.close()  # closing after abort does nothing
    assert keys_of(boto3_client, bucket.bucket) == []
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_write_rejects_str_in_binary_mode_and_bytes_in_text_mode(
    bucket: AsyncS3Path,
) -> None:
    async with (bucket / "b").open("wb") as f:
        with pytest.raises(TypeError):
            await f.write("text")
        await f.write(b"ok")
    async with (bucket / "t").open("w") as t:
        with pytest.raises(TypeError):
            await t.write(b"bytes")  # type: ignore[arg-type]
        await t.write("ok")
    assert await (bucket / "b").read_bytes() == b"ok"


async def test_modes_are_normalised_as_open_names_them(bucket: AsyncS3Path) -> None:
    """Binary files are named by ``rb``/``wb``/``xb``/``ab`` whatever the order of the mode's
    letters; a text file keeps the mode it was opened with, and its ``buffer`` is binary."""
    await (bucket / "k").write_bytes(b"data")
    async with (bucket / "k").open("br") as reader:
        assert reader.mode == "rb"
    async with (bucket / "k").open("tr") as text_reader:
        assert (text_reader.mode, text_reader.buffer.mode) == ("tr", "rb")
    async with (bucket / "w").open("bw") as writer:
        assert writer.mode == "wb"
    async with (bucket / "a").open("a") as text_writer:
        assert (text_writer.mode, text_writer.buffer.mode) == ("a", "ab")


async def test_readers_and_writers_refuse_the_other_side_as_io_files_do(
    bucket: AsyncS3Path,
) -> None:
    """A reader's ``flush`` does nothing; what a file cannot do (write to a reader, read from or
    seek in a writer, truncate, ``fileno``) raises ``io.UnsupportedOperation``, not
    ``AttributeError``."""
    await (bucket / "k").write_bytes(b"data")
    for mode, data in [("rb", b"data"), ("r", "data")]:
        async with (bucket / "k").open(mode) as reader:
            await reader.flush()
            with pytest.raises(io.UnsupportedOperation):
                await reader.write(data)
            with pytest.raises(io.UnsupportedOperation):
                await reader.writelines([data])
            await reader.writelines([])  # nothing to write, nothing refused (as io's)
            with pytest.raises(io.UnsupportedOperation):
                await reader.truncate()
            with pytest.raises(io.UnsupportedOperation):
                reader.fileno()
            assert not reader.isatty()
            assert await reader.read() == data
    for mode in ["wb", "w"]:
        async with (bucket / "w").open(mode) as writer:
            for refused in [
                lambda: writer.read(),
                lambda: writer.readline(),
                lambda: writer.readlines(),
                lambda: writer.seek(0),
                lambda: writer.truncate(),
            ]:
                with pytest.raises(io.UnsupportedOperation):
                    await refused()
            with pytest.raises(io.UnsupportedOperation):
                writer.fileno()
    assert await (bucket / "k").read_bytes() == b"data"


async def test_closed_files_raise_value_error_as_io_files_do(bucket: AsyncS3Path) -> None:
    """Once closed, ``readable``, ``writable``, ``seekable``, ``flush``, ``tell`` and
    ``writelines`` (even of nothing) raise ``ValueError``, as on a closed local file."""
    await (bucket / "k").write_bytes(b"data")
    files = [await (bucket / "k").open(mode) for mode in ["rb", "r"]]
    files += [await (bucket / f"w{mode}").open(mode) for mode in ["wb", "w", "ab", "a"]]
    for file in files:
        await file.close()
        for method in [file.readable, file.writable, file.seekable, file.isatty]:
            with pytest.raises(ValueError, match="closed file"):
                method()
        for call in [file.flush, file.tell]:
            with pytest.raises(ValueError, match="closed file"):
                await call()
        with pytest.raises(ValueError, match="closed file"):
            await file.writelines([])


# -- text -------------------------------------------------------------------------------------

TEXTS = [
    "a\r\nb\rc\nd",
    "\r\n\r\n\r",
    "no newline at all",
    "ünïcödé ✓ 日本語\r\nsecond ✓\rthird\n",
    "trailing\r",
    "",
]


@pytest.fixture
def tiny_text_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Decode 3 bytes at a time, so that CRLF pairs and characters straddle chunks."""
    monkeypatch.setattr(file_module, "TEXT_CHUNK", 3)
    yield


@pytest.mark.parametrize("newline", [None, "", "\n", "\r", "\r\n"])
async def test_text_reads_follow_open_newline_rules(
    bucket: AsyncS3Path, tiny_text_chunks: None, newline: str | None
) -> None:
    for index, text in enumerate(TEXTS):
        data = text.encode("utf-8")
        await (bucket / f"t{index}").write_bytes(data)

        def reference(data: bytes = data) -> io.TextIOWrapper:
            return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=newline)

        async with (bucket / f"t{index}").open("r", newline=newline) as f:
            assert [line async for line in f] == reference().readlines()
        async with (bucket / f"t{index}").open("r", newline=newline) as f:
            assert await f.read() == reference().read()
        async with (bucket / f"t{index}").open("r", newline=newline) as f:
            ref = reference()
            assert await f.read(2) == ref.read(2)
            assert await f.readline(3) == ref.readline(3)
            assert await f.readlines() == ref.readlines()


async def test_text_encodings_and_errors(bucket: AsyncS3Path, tiny_text_chunks: None) -> None:
    text = "héllo wörld ✓\nzweite Zeile\n"
    await (bucket / "utf16").write_bytes(text.encode("utf-16"))
    async with (bucket / "utf16").open(encoding="utf-16") as f:
        assert await f.read() == text
    await (bucket / "latin").write_bytes("café".encode("latin-1"))
    async with (bucket / "latin").open(encoding="ascii", errors="replace") as f:
        assert await f.read() == "caf\ufffd"
    async with (bucket / "latin").open() as f:
        with pytest.raises(UnicodeDecodeError):
            await f.read()
    async with (bucket / "w16").open("w", encoding="utf-16") as w:
        await w.write("a")
        await w.write("b\n")
    assert await (bucket / "w16").read_bytes() == "ab\n".encode("utf-16")


async def test_text_tell_and_seek_cookies(bucket: AsyncS3Path, tiny_text_chunks: None) -> None:
    text = "première ligne\r\nzweite ✓\rthird 日本\nlast"
    await (bucket / "t").write_bytes(text.encode("utf-8"))
    async with (bucket / "t").open() as f:
        cookies, lines = [], []
        while True:
            cookie = await f.tell()
            line = await f.readline()
            if not line:
                break
            cookies.append(cookie)
            lines.append(line)
        assert "".join(lines) == text.replace("\r\n", "\n").replace("\r", "\n")
        for cookie, line in reversed(list(zip(cookies, lines, strict=True))):
            await f.seek(cookie)
            assert await f.readline() == line
        await f.seek(0)
        await f.read(5)
        middle = await f.tell()
        rest = await f.read()
        await f.seek(middle)
        assert await f.read() == rest
        assert await f.seek(0, os.SEEK_END) == await f.tell()
        assert await f.read() == ""
        with pytest.raises(io.UnsupportedOperation):
            await f.seek(3, os.SEEK_CUR)


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8-sig", codecs.BOM_UTF8 + "héllo ✓\nwörld\r\nend".encode()),
        ("utf-16", codecs.BOM_LE + "héllo ✓\nwörld\r\nend".encode("utf-16-le")),
        ("utf-16", codecs.BOM_BE + "héllo ✓\nwörld\r\nend".encode("utf-16-be")),
    ],
    ids=["utf-8-sig", "utf-16-le", "utf-16-be"],
)
async def test_text_seeks_to_the_start_read_the_byte_order_mark_again(
    bucket: AsyncS3Path, tiny_text_chunks: None, encoding: str, data: bytes
) -> None:
    """After ``seek(0)``, or a seek to what ``tell()`` gave before the first read (0, as on
    a local file), the byte-order mark is read as a mark again, not as text, and the text
    keeps its byte order; cookies further on resume in the byte order the mark chose."""
    text = "héllo ✓\nwörld\nend"
    await (bucket / "t").write_bytes(data)
    async with (bucket / "t").open(encoding=encoding) as f:
        start = await f.tell()
        assert start == 0
        assert await f.read() == text
        await f.seek(0)
        assert await f.read() == text
        await f.seek(start)
        cookies, lines = [], []
        while line := await f.readline():
            lines.append(line)
            cookies.append(await f.tell())
        assert "".join(lines) == text
        for cookie, rest in reversed(list(zip(cookies, lines[1:], strict=False))):
            await f.seek(cookie)
            assert await f.readline() == rest


async def test_readlines_stops_once_the_lines_exceed_the_hint(bucket: AsyncS3Path) -> None:
    """``readlines(hint)`` reads lines until their total length is more than ``hint``, as io's
    ``readlines`` does; a hint of None, 0 or less means all the lines."""
    data = b"a\nbb\nccc\nd"
    await (bucket / "lines").write_bytes(data)
    async with (bucket / "lines").open("rb") as binary, (bucket / "lines").open() as text:
        for hint in [None, -1, 0, 1, 2, 3, 4, 5, 6, 9, 10, 100]:
            await binary.seek(0)
            await text.seek(0)
            # What open() gives (BytesIO's own readlines stops at the hint, not past it).
            local = io.BufferedReader(io.BytesIO(data))
            assert await binary.readlines(hint) == local.readlines(hint)
            reference = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
            assert await text.readlines(hint) == reference.readlines(hint)


@pytest.mark.parametrize(
    ("newline", "expected"),
    [
        (None, f"a{os.linesep}b{os.linesep}".encode()),
        ("", b"a\nb\n"),
        ("\n", b"a\nb\n"),
        ("\r", b"a\rb\r"),
        ("\r\n", b"a\r\nb\r\n"),
    ],
)
async def test_text_writes_translate_newlines(
    bucket: AsyncS3Path, newline: str | None, expected: bytes
) -> None:
    async with (bucket / "w").open("w", newline=newline) as f:
        assert await f.write("a\n") == 2
        await f.writelines(["b", "\n"])
    assert await (bucket / "w").read_bytes() == expected


def written_by_open(
    local: Any, initial: bytes | None, mode: str, encoding: str, writes: list[str]
) -> bytes:
    """The bytes of a local file holding ``initial`` (None: no file) after ``writes`` to it
    with ``open(local, mode, encoding=encoding)``."""
    if initial is not None:
        local.write_bytes(initial)
    with open(local, mode, encoding=encoding) as f:
        for piece in writes:
            f.write(piece)
    return bytes(local.read_bytes())


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
@pytest.mark.parametrize(
    ("mode", "before"),
    [("w", None), ("a", None), ("a", "old")],
    ids=["write", "append-to-nothing", "append"],
)
@pytest.mark.parametrize(
    "writes", [["hé", "llo\n"], [""], []], ids=["text", "empty-string", "nothing"]
)
async def test_text_writers_write_byte_order_marks_where_open_does(
    bucket: AsyncS3Path,
    tmp_path: Any,
    encoding: str,
    mode: str,
    before: str | None,
    writes: list[str],
) -> None:
    """Sync and async text writers write the bytes open() writes to a local file: a byte-order
    mark at the start of the stream (once anything is written, even ""), none when appending
    to an object that has bytes, and nothing at all when nothing was written."""
    initial = before.encode(encoding) if before is not None else None
    expected = written_by_open(tmp_path / "local.txt", initial, mode, encoding, writes)

    sync_path = S3Path(bucket / "sync.txt")
    if initial is not None:
        sync_path.write_bytes(initial)
    with sync_path.open(mode, encoding=encoding) as s:
        for piece in writes:
            s.write(piece)
    assert sync_path.read_bytes() == expected

    async_path = bucket / "async.txt"
    if initial is not None:
        await async_path.write_bytes(initial)
    async with async_path.open(mode, encoding=encoding) as a:
        for piece in writes:
            await a.write(piece)
    assert await async_path.read_bytes() == expected


# -- read_bytes / write_bytes use the parts ---------------------------------------------------


async def test_read_and_write_bytes_use_parts_past_the_threshold(
    bucket: AsyncS3Path, counter: CountingProxy, parts: TransferConfig, big: bytes
) -> None:
    counter.clear()
    assert await (bucket / "big").write_bytes(bytearray(big)) == len(big)
    ops = counter.operations()
    assert (ops["CreateMultipartUpload"], ops["UploadPart"]) == (1, 3)
    counter.clear()
    assert await (bucket / "big").read_bytes() == big
    ranges = sorted(r.headers["range"] for r in counter.requests if r.operation == "GetObject")
    assert ranges == sorted(
        [f"bytes=0-{PART - 1}", f"bytes={PART}-{2 * PART - 1}", f"bytes={2 * PART}-{len(big) - 1}"]
    )
    counter.clear()
    await (bucket / "small").write_bytes(b"small")
    assert await (bucket / "small").read_bytes() == b"small"
    assert counter.operations() == {"PutObject": 1, "GetObject": 1}


# -- memory -----------------------------------------------------------------------------------


async def test_memory_stays_bounded_by_parts_times_window(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    """Writing and reading 40 MiB with 5 MiB parts and a window of 2 stays under 30 MiB."""
    window = 2
    small_parts(bucket.bucket, read_ahead=window, max_concurrency=window)
    bound = 3 * PART * window
    block = payload(MiB, seed=8)
    blocks = 40
    assert blocks * MiB > bound
    path = bucket / "forty"
    await (bucket / "warm-up").write_bytes(b"")  # the loop's client (botocore's models) first
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        async with path.open("wb") as f:
            for i in range(blocks):
                await f.write(block[i:] + block[:i])
        write_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        total = 0
        matches = True
        async with path.open("rb") as r:
            i = 0
            while chunk := await r.read(MiB):
                matches = matches and chunk == block[i:] + block[:i]
                total += len(chunk)
                i += 1
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == blocks * MiB and matches
    print(f"peaks: write {write_peak / MiB:.1f} MiB, read {read_peak / MiB:.1f} MiB")
    assert write_peak < bound, f"write peak {write_peak / MiB:.1f} MiB"
    assert read_peak < bound, f"read peak {read_peak / MiB:.1f} MiB"
    assert uploads_of(boto3_client, bucket.bucket) == []


# -- the synchronous API: standard io objects -------------------------------------------------


def test_sync_open_returns_io_objects(sync_bucket: S3Path) -> None:
    path = sync_bucket / "io.bin"
    with path.open("wb") as w:
        assert isinstance(w, io.BufferedWriter)
        w.write(b"0123456789")
    with path.open("rb") as r:
        assert isinstance(r, io.BufferedReader)
        assert r.read(3) == b"012"
        r.seek(-2, os.SEEK_END)
        assert r.read() == b"89"
        assert r.tell() == 10
    with path.open("rb", buffering=0) as raw:
        assert isinstance(raw, io.RawIOBase)
        assert raw.read(4) == b"0123"
        assert raw.readall() == b"456789"
    with path.open() as t:
        assert isinstance(t, io.TextIOWrapper)
        assert t.read() == "0123456789"
        assert t.name == f"s3://{sync_bucket.bucket}/io.bin"
        assert t.mode == "r"


def test_sync_text_lines_seek_and_tell(sync_bucket: S3Path) -> None:
    path = sync_bucket / "lines.txt"
    with path.open("w", newline="\r\n") as f:
        f.writelines(["ä\n", "ö\n", "ü\n"])
    with path.open() as f:
        assert f.readline() == "ä\n"
        mark = f.tell()
        assert list(f) == ["ö\n", "ü\n"]
        f.seek(mark)
        assert f.read() == "ö\nü\n"
    with path.open(newline="") as f:
        assert f.readlines() == ["ä\r\n", "ö\r\n", "ü\r\n"]


def test_sync_big_round_trip_through_parts(
    sync_bucket: S3Path, boto3_client: Any, big: bytes
) -> None:
    small_parts(sync_bucket.bucket)
    with (sync_bucket / "big").open("wb") as w:
        for start in range(0, len(big), 300_001):
            w.write(big[start : start + 300_001])
    assert uploads_of(boto3_client, sync_bucket.bucket) == []
    with (sync_bucket / "big").open("rb") as r:
        assert r.read(10) == big[:10]
        r.seek(PART - 5)
        assert r.read(10) == big[PART - 5 : PART + 5]
        r.seek(0)
        assert r.read() == big


def test_sync_exception_inside_with_aborts(
    sync_bucket: S3Path, boto3_client: Any, big: bytes
) -> None:
    small_parts(sync_bucket.bucket)
    for mode, body in [("wb", big), ("w", "text")]:
        with pytest.raises(ZeroDivisionError), (sync_bucket / "aborted").open(mode) as f:
            f.write(body)
            _ = 1 / 0
    with pytest.raises(ZeroDivisionError), (sync_bucket / "raw").open("wb", buffering=0) as raw:
        raw.write(big)
        _ = 1 / 0
    assert keys_of(boto3_client, sync_bucket.bucket) == []
    assert uploads_of(boto3_client, sync_bucket.bucket) == []


@pytest.mark.parametrize("mode", ["w", "a", "x"])
def test_an_open_failing_after_the_writer_exists_leaves_the_object_as_it_was(
    sync_bucket: S3Path,
    boto3_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    big: bytes,
    mode: str,
) -> None:
    """Whatever fails once the binary writer exists (here the text layer's constructor), the
    writer is aborted, not left to be closed: an object keeps its bytes (an append's copied
    parts are aborted too), and none is created."""
    small_parts(sync_bucket.bucket)

    class FailingTextLayer(sync_io.S3TextIOWrapper):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            raise RuntimeError("the text layer failed")

    existing = sync_bucket / "existing"
    existing.write_bytes(big)  # past the threshold: appending starts by copying its parts
    monkeypatch.setattr(sync_io, "S3TextIOWrapper", FailingTextLayer)
    with pytest.raises(RuntimeError, match="text layer"):
        (sync_bucket / "new" if mode == "x" else existing).open(mode)
    gc.collect()  # what the failed open dropped is collected (and would have been closed)
    assert existing.read_bytes() == big
    assert keys_of(boto3_client, sync_bucket.bucket) == ["existing"]
    assert uploads_of(boto3_client, sync_bucket.bucket) == []


def test_a_sync_text_writer_tells_bytes_written_but_does_not_seek(sync_bucket: S3Path) -> None:
    """A text writer is not seekable; its ``tell()`` is the bytes written so far, as a local
    file's (those already there when appending), and ``seek`` raises
    ``io.UnsupportedOperation``."""
    path = sync_bucket / "t.txt"
    with path.open("w", encoding="utf-16") as f:
        assert not f.seekable()
        assert f.tell() == 0
        f.write("hi")
        assert f.tell() == len("hi".encode("utf-16"))
        for whence in [os.SEEK_SET, os.SEEK_CUR, os.SEEK_END]:
            with pytest.raises(io.UnsupportedOperation):
                f.seek(0, whence)
        f.write("!")
    with path.open("a", encoding="utf-16") as f:
        assert f.tell() == len("hi!".encode("utf-16"))
        f.write("?")
    assert path.read_text(encoding="utf-16") == "hi!?"


def test_sync_unbuffered_read_of_none_reads_the_rest(sync_bucket: S3Path) -> None:
    """As ``FileIO.read``: ``read(None)`` (like ``read()`` or ``read(-1)``) returns the rest."""
    path = sync_bucket / "raw.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb", buffering=0) as raw:
        assert raw.read(2) == b"01"
        assert raw.read(None) == b"23456789"
        assert raw.read(None) == b""
        raw.seek(8)
        assert raw.read(100) == b"89"


def test_sync_files_refuse_what_their_mode_does_not_allow_as_io_files_do(
    sync_bucket: S3Path,
) -> None:
    """Unbuffered files raise ``io.UnsupportedOperation`` for the other side's operations; once
    closed, what a file answers from its raw object (``readable``, ``writable``,
    ``seekable``) raises ``ValueError``, as a closed local file does."""
    path = sync_bucket / "k"
    path.write_bytes(b"data")
    with path.open("rb", buffering=0) as raw_reader, pytest.raises(io.UnsupportedOperation):
        raw_reader.write(b"x")
    with (sync_bucket / "w").open("wb", buffering=0) as raw_writer:
        for refused in [
            lambda: raw_writer.read(1),
            lambda: raw_writer.read(),
            lambda: raw_writer.readall(),
            lambda: raw_writer.readinto(bytearray(1)),
            lambda: raw_writer.readline(),
        ]:
            with pytest.raises(io.UnsupportedOperation):
                refused()
        raw_writer.write(b"written")
    assert (sync_bucket / "w").read_bytes() == b"written"
    checked = {
        path.open("rb", buffering=0): ["readable", "writable", "seekable"],
        (sync_bucket / "w").open("wb", buffering=0): ["readable", "writable", "seekable"],
        path.open("rb"): ["readable", "seekable"],
        path.open("r"): ["readable", "seekable"],
        (sync_bucket / "w").open("wb"): ["writable", "seekable"],
        (sync_bucket / "w").open("w"): ["writable", "seekable"],
    }
    for file, methods in checked.items():
        file.close()
        for method in methods:
            with pytest.raises(ValueError, match="closed file"):
                getattr(file, method)()


def test_csv(sync_bucket: S3Path) -> None:
    rows = [["name", "value"], ["a, with comma", "1"], ['quote "q"', "2"], ["line\nbreak", "3"]]
    with (sync_bucket / "data.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with (sync_bucket / "data.csv").open(newline="") as f:
        assert list(csv.reader(f)) == rows


def test_json(sync_bucket: S3Path) -> None:
    document = {"name": "ünïcode ✓", "numbers": list(range(100)), "nested": {"a": [None, True]}}
    with (sync_bucket / "doc.json").open("w") as f:
        json.dump(document, f)
    with (sync_bucket / "doc.json").open() as f:
        assert json.load(f) == document


def test_zipfile(sync_bucket: S3Path) -> None:
    members = {f"dir/member{i}.txt": payload(50_000 + i, seed=i) for i in range(5)}
    with (sync_bucket / "archive.zip").open("wb") as f, zipfile.ZipFile(f, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    with (sync_bucket / "archive.zip").open("rb") as r, zipfile.ZipFile(r) as archive:
        assert sorted(archive.namelist()) == sorted(members)
        for name in reversed(list(members)):  # random access: seek back and forth
            assert archive.read(name) == members[name]
        assert archive.testzip() is None


def test_tarfile(sync_bucket: S3Path) -> None:
    members = {f"m{i}.bin": payload(30_000 * (i + 1), seed=i) for i in range(3)}
    with (
        (sync_bucket / "archive.tar").open("wb") as f,
        tarfile.open(fileobj=f, mode="w") as archive,
    ):
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with (sync_bucket / "archive.tar").open("rb") as r, tarfile.open(fileobj=r) as archive:
        assert archive.getnames() == list(members)
        for name, data in reversed(members.items()):
            extracted = archive.extractfile(name)
            assert extracted is not None and extracted.read() == data
    with (
        (sync_bucket / "archive.tar.gz").open("wb") as f,
        tarfile.open(fileobj=f, mode="w|gz") as stream,
    ):
        info = tarfile.TarInfo("streamed")
        info.size = 5
        stream.addfile(info, io.BytesIO(b"hello"))
    with (
        (sync_bucket / "archive.tar.gz").open("rb") as r,
        tarfile.open(fileobj=r, mode="r|gz") as stream,
    ):
        member = stream.next()
        assert member is not None and member.name == "streamed"


def test_shutil_copyfileobj_both_ways(sync_bucket: S3Path, tmp_path: Any, big: bytes) -> None:
    small_parts(sync_bucket.bucket)
    local = tmp_path / "source.bin"
    local.write_bytes(big)
    with local.open("rb") as source, (sync_bucket / "copied").open("wb") as target:
        shutil.copyfileobj(source, target)
    back = tmp_path / "back.bin"
    with (sync_bucket / "copied").open("rb") as source, back.open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    assert back.read_bytes() == big


async def test_sync_open_works_inside_a_running_loop(sync_bucket: S3Path) -> None:
    """A FastAPI-style handler (a thread with its own loop) can use the sync API."""
    with (sync_bucket / "in-loop").open("w") as f:
        f.write("fine")
    with (sync_bucket / "in-loop").open() as f:
        assert f.read() == "fine"


@pytest.mark.needs("versioning")
async def test_a_versioned_path_opens_its_version(
    bucket: AsyncS3Path, boto3_client: Any, parts: TransferConfig, big: bytes
) -> None:
    from aios3path import AsyncVersionedS3Path, VersionedS3Path

    boto3_client.put_bucket_versioning(
        Bucket=bucket.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    first = boto3_client.put_object(Bucket=bucket.bucket, Key="k", Body=big)["VersionId"]
    put(boto3_client, bucket.bucket, "k", "the latest")
    old = AsyncVersionedS3Path("/", bucket.bucket, "k", version_id=first)
    async with old.open("rb") as f:
        await f.seek(PART - 1)
        assert await f.read(2) == big[PART - 1 : PART + 1]
    assert await old.read_bytes() == big
    with VersionedS3Path("/", bucket.bucket, "k", version_id=first).open("rb") as r:
        assert r.read(3) == big[:3]
    async with (bucket / "k").open() as latest:
        assert await latest.read() == "the latest"
