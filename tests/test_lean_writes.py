"""UploadPart and CopyObject on the lean path: the same objects and errors as through botocore.

Parts go as ``UNSIGNED-PAYLOAD`` with the CRC32 the upload declared (botocore would hash
every byte with SHA-256 over plain HTTP); copies are one signed ``PUT`` with
``x-amz-copy-source``. Each test does the same thing through both paths and compares.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import pytest

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3FileExistsError,
    S3FileNotFoundError,
    TransferConfig,
    register_configuration_parameter,
)

from ._proxy import CountingProxy, http_response

MiB = 1024 * 1024
LEAN = "aios3path-lean"


def _small_parts(bucket: AsyncS3Path, **settings: Any) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket),
        parameters={
            "transfer_config": TransferConfig(
                multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB
            ),
            **settings,
        },
    )


def _lean_requests(counter: CountingProxy, operation: str) -> list[Any]:
    return [
        r
        for r in counter.requests
        if r.operation == operation and r.headers.get("user-agent", "").startswith(LEAN)
    ]


async def test_parts_go_unsigned_with_their_crc32_and_make_the_same_object(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    _small_parts(bucket)
    data = bytes(range(256)) * (12 * MiB // 256)
    await (bucket / "lean.bin").write_bytes(data)
    parts = _lean_requests(counter, "UploadPart")
    assert len(parts) == 3  # 5 + 5 + 2 MiB, all on the lean path
    first = data[: 5 * MiB]
    expected_crc = base64.b64encode(zlib.crc32(first).to_bytes(4, "big")).decode()
    by_number = {r.query["partNumber"]: r for r in parts}
    assert by_number["1"].headers["x-amz-checksum-crc32"] == expected_crc
    assert all(r.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD" for r in parts)

    _small_parts(bucket, lean_requests=False)
    await (bucket / "botocore.bin").write_bytes(data)
    lean_head = boto3_client.head_object(Bucket=bucket.bucket, Key="lean.bin")
    botocore_head = boto3_client.head_object(Bucket=bucket.bucket, Key="botocore.bin")
    assert lean_head["ETag"] == botocore_head["ETag"]  # same parts, same multipart ETag
    assert await (bucket / "lean.bin").read_bytes() == data


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_copies_keep_content_and_metadata(
    bucket: AsyncS3Path, boto3_client: Any, lean: bool
) -> None:
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"lean_requests": lean}
    )
    source = bucket / "src dir/ünï+code.txt"
    await source.write_text("payload", content_type="text/x-test", metadata={"colour": "blue"})
    copy = await source.copy(bucket / "dst/copy.txt")
    head = boto3_client.head_object(Bucket=bucket.bucket, Key=copy.key)
    assert head["ContentType"] == "text/x-test"
    assert head["Metadata"] == {"colour": "blue"}
    assert await copy.read_text() == "payload"


async def test_copies_go_through_the_lean_path(bucket: AsyncS3Path, counter: CountingProxy) -> None:
    await (bucket / "a").write_text("x")
    counter.clear()
    await (bucket / "a").rename(bucket / "b")
    copies = [
        r
        for r in counter.requests
        if r.operation == "PutObject" and "x-amz-copy-source" in r.headers
    ]
    assert len(copies) == 1
    assert copies[0].headers["user-agent"].startswith(LEAN)
    assert copies[0].headers["x-amz-copy-source"] == f"{bucket.bucket}/a"
    assert copies[0].headers["x-amz-metadata-directive"] == "COPY"
    assert await (bucket / "b").read_text() == "x"


async def test_copy_errors_are_the_same_on_both_paths(bucket: AsyncS3Path) -> None:
    from aios3path import _s3

    await (bucket / "src").write_text("x")
    target = await (bucket / "dst")._request()
    outcomes = []
    for client in (target.client, target.client.without_lean()):
        outcome = []
        for source, etag in (("missing", None), ("src", '"0000"'), ("src", None)):
            try:
                await _s3.copy_object(
                    client,
                    target.uri,
                    bucket.bucket,
                    "dst",
                    bucket.bucket,
                    source,
                    {},
                    source_etag=etag,
                )
                outcome.append("ok")
            except (S3FileNotFoundError, S3FileExistsError) as error:
                outcome.append(f"{type(error).__name__}: {error.code}")
        outcomes.append(outcome)
    lean, botocore = outcomes
    assert lean == botocore
    assert lean[0] == "S3FileNotFoundError: NoSuchKey"
    assert lean[1] in ("S3FileExistsError: PreconditionFailed", "ok")  # moto ignores If-Match


async def test_a_copy_answered_200_with_an_error_inside_is_retried(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    await (bucket / "a").write_text("x")
    failed: list[str] = []
    error = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message>"
        b"</Error>"
    )

    def inject(request: Any) -> bytes | None:
        if "x-amz-copy-source" in request.headers and not failed:
            failed.append(request.path)
            return http_response(200, "OK", error)
        return None

    counter.inject = inject
    counter.clear()
    await (bucket / "a").copy(bucket / "b")
    assert failed  # the first copy "succeeded" with an error body ...
    copies = [r for r in counter.requests if "x-amz-copy-source" in r.headers]
    assert len(copies) == 2  # ... and was sent again
    assert await (bucket / "b").read_text() == "x"


async def test_a_part_cancelled_while_its_checksum_is_computed_is_just_cancelled(
    bucket: AsyncS3Path,
) -> None:
    import asyncio

    from aios3path import _s3

    target = await (bucket / "cancelled.bin")._request()
    upload_id = await _s3.create_multipart_upload(
        target.client, target.uri, bucket.bucket, "cancelled.bin"
    )
    part = asyncio.ensure_future(
        _s3.upload_part(
            target.client,
            target.uri,
            bucket.bucket,
            "cancelled.bin",
            upload_id,
            1,
            bytes(64 * MiB),
        )
    )
    await asyncio.sleep(0.001)  # the CRC32 of 64 MiB is being computed in a thread
    part.cancel()
    with pytest.raises(asyncio.CancelledError):  # not a BufferError from releasing the view
        await part
    await _s3.abort_multipart_upload(
        target.client, target.uri, bucket.bucket, "cancelled.bin", upload_id
    )


async def test_a_copy_answered_200_without_a_result_is_retried(
    bucket: AsyncS3Path, counter: CountingProxy
) -> None:
    await (bucket / "a").write_text("x")
    answered: list[str] = []

    def inject(request: Any) -> bytes | None:
        if "x-amz-copy-source" in request.headers and not answered:
            answered.append(request.path)
            return http_response(200, "OK", b"")  # the connection died into an empty 200
        return None

    counter.inject = inject
    counter.clear()
    await (bucket / "a").copy(bucket / "b")
    assert len([r for r in counter.requests if "x-amz-copy-source" in r.headers]) == 2
    assert await (bucket / "b").read_text() == "x"


async def test_a_conditional_get_answered_304_raises_on_both_paths(bucket: AsyncS3Path) -> None:
    from aios3path import S3Error, _s3

    path = bucket / "etagged"
    await path.write_text("x")
    etag = (await path.stat()).etag  # type: ignore[union-attr]
    target = await path._request()
    outcomes = []
    for client in (target.client, target.client.without_lean()):
        try:
            await _s3.get_object(client, target.uri, bucket.bucket, path.key, {"IfNoneMatch": etag})
            outcomes.append("ok")
        except S3Error as error:
            outcomes.append(
                f"{type(error).__name__} {error.response['ResponseMetadata']['HTTPStatusCode']}"
            )
    assert outcomes[0] == outcomes[1] == "S3Error 304"


@pytest.mark.filterwarnings("ignore:aiobotocore's httpx backend:DeprecationWarning")
def test_other_http_backends_are_left_to_botocore() -> None:
    pytest.importorskip("httpx")
    import asyncio

    from aiobotocore.config import AioConfig
    from aiobotocore.httpxsession import HttpxSession
    from aiobotocore.session import get_session

    from aios3path._lean import LeanClient

    async def check() -> LeanClient | None:
        config = AioConfig(http_session_cls=HttpxSession)
        async with get_session().create_client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
            config=config,
        ) as client:
            return LeanClient.for_client(client)

    assert asyncio.run(check()) is None


async def test_a_cancelled_checksum_keeps_its_buffer_until_the_thread_is_done() -> None:
    """A loop shutting down cancels every task, twice if need be: the caller may release or
    resize the part's buffer only once the worker thread stopped reading it."""
    import asyncio

    from aios3path._lean import crc32_base64

    body = bytearray(256 * 1024 * 1024)
    with memoryview(body) as view:
        task = asyncio.ensure_future(crc32_base64(view))
        await asyncio.sleep(0.001)  # the thread is reading
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()  # as a loop's shutdown cancels what is still pending
        with pytest.raises(asyncio.CancelledError):
            await task
    body.clear()  # BufferError if the thread still held the buffer
    assert len(body) == 0
