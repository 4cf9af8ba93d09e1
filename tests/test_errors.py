"""Errors speak Python (FileNotFoundError, PermissionError, ValueError, …), name the s3:// path,
and stay catchable as botocore's ClientError where s3path let that escape."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aios3path import AsyncS3Path, S3Error, S3FileNotFoundError, S3Path, S3PermissionError

from ._helpers import put


async def test_missing_object(bucket: AsyncS3Path) -> None:
    path = bucket / "no" / "such" / "key"
    with pytest.raises(FileNotFoundError) as raised:
        await path.read_bytes()
    error = raised.value
    assert isinstance(error, ClientError) and isinstance(error, S3Error)
    assert error.response["Error"]["Code"] == "NoSuchKey"
    assert f"s3://{bucket.bucket}/no/such/key" in str(error)
    assert error.errno == 2


async def test_missing_bucket(s3: Any) -> None:
    path = AsyncS3Path("/t-missing-bucket-aios3path/key")
    with pytest.raises(FileNotFoundError, match="bucket does not exist"):
        await path.read_bytes()
    with pytest.raises(ClientError):  # s3path raised ClientError here too
        await path.exists()
    with pytest.raises(ClientError):
        await path.is_dir()
    assert not await AsyncS3Path("/t-missing-bucket-aios3path").exists()


def test_missing_bucket_through_the_sync_api(s3: Any) -> None:
    with pytest.raises(FileNotFoundError):
        S3Path("/t-missing-bucket-aios3path/key").write_text("x")


@pytest.mark.parametrize("name", ["bad/../name", "spaces in name", "ünïcode", "a" * 300])
async def test_bad_bucket_names_are_value_errors_naming_the_bucket(s3: Any, name: str) -> None:
    path = AsyncS3Path.from_bucket_key(name.replace("/", "_"), "key")
    with pytest.raises(ValueError, match="invalid bucket name"):
        await path.read_bytes()


async def test_bucket_name_the_server_rejects_is_a_value_error(s3: Any) -> None:
    with pytest.raises(ValueError) as raised:
        await AsyncS3Path("/ab").mkdir()  # too short for S3's naming rules
    assert isinstance(raised.value, ClientError)


async def test_relative_paths_cannot_do_io(s3: Any) -> None:
    with pytest.raises(ValueError, match="relative path have no bucket, key specification"):
        await AsyncS3Path("bucket/key").read_bytes()
    with pytest.raises(ValueError, match="relative path"):
        await AsyncS3Path("key").exists()


async def test_object_operations_need_a_key(bucket: AsyncS3Path) -> None:
    with pytest.raises(ValueError, match="names a bucket"):
        await bucket.read_bytes()
    with pytest.raises(ValueError, match="names a bucket"):
        await bucket.write_bytes(b"x")
    with pytest.raises(ValueError, match="names no bucket"):
        await AsyncS3Path("/").read_text()


@pytest.mark.needs("bucket-policy")
async def test_access_denied_is_a_permission_error(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "secret/data", "x")
    put(boto3_client, bucket.bucket, "public/data", "x")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:GetObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{bucket.bucket}/secret/*",
            }
        ],
    }
    boto3_client.put_bucket_policy(Bucket=bucket.bucket, Policy=json.dumps(policy))
    try:
        with pytest.raises(PermissionError) as raised:
            await (bucket / "secret" / "data").read_bytes()
        assert isinstance(raised.value, ClientError)
        assert isinstance(raised.value, S3PermissionError)
        assert f"s3://{bucket.bucket}/secret/data" in str(raised.value)
        assert await (bucket / "public" / "data").read_text() == "x"
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket.bucket)


def test_errors_pickle_with_their_type_message_and_response() -> None:
    error = S3FileNotFoundError(
        "s3://b/k: no such object", {"Error": {"Code": "NoSuchKey"}}, "GetObject"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is S3FileNotFoundError
    assert str(copy) == "s3://b/k: no such object"
    assert copy.response == error.response and copy.operation_name == "GetObject"
    assert copy.code == "NoSuchKey"


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "botocore"])
async def test_a_connection_error_keeps_its_type_and_names_the_path(
    s3_server: Any, lean: bool
) -> None:
    """Nothing listens at the endpoint: botocore's error, with the path as a note (3.11+)."""
    import socket
    import sys

    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    from aios3path import PureS3Path, register_configuration_parameter

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = dict(s3_server.client_settings(), endpoint_url=f"http://127.0.0.1:{port}")
    settings["config"] = Config(retries={"max_attempts": 1}, connect_timeout=2)
    register_configuration_parameter(
        PureS3Path("/"), resource=settings, parameters={"lean_requests": lean}
    )
    with pytest.raises(EndpointConnectionError) as raised:
        await AsyncS3Path("/nowhere/some/key.txt").read_bytes()
    if sys.version_info >= (3, 11):
        assert raised.value.__notes__ == ["while accessing s3://nowhere/some/key.txt"]


async def test_writes_send_their_body_without_waiting_for_100_continue(
    bucket: AsyncS3Path, counter: Any
) -> None:
    await (bucket / "small").write_bytes(b"x" * 10)
    await (bucket / "text").write_text("hello")
    puts = [r for r in counter.requests if r.operation == "PutObject"]
    assert len(puts) == 2
    assert not any("expect" in r.headers for r in puts)


async def test_a_write_to_a_server_that_never_answers_times_out(s3_server: Any) -> None:
    """It used to wait forever for a "100 Continue" (aiohttp has no timeout for that)."""
    import asyncio

    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError

    from aios3path import PureS3Path, register_configuration_parameter

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.read(65536):
                pass  # takes everything, answers nothing
        finally:
            writer.close()

    silent = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = dict(s3_server.client_settings(), endpoint_url=f"http://127.0.0.1:{port}")
    settings["config"] = Config(read_timeout=1, connect_timeout=1, retries={"max_attempts": 1})
    register_configuration_parameter(PureS3Path("/"), resource=settings)
    try:
        with pytest.raises(ReadTimeoutError):
            await asyncio.wait_for(AsyncS3Path("/silent/a.txt").write_bytes(b"x"), 30)
    finally:
        silent.close()
