"""rename, replace, move, copy, copy_into, move_into and rmdir: objects and whole prefixes.

Objects are copied server-side (``CopyObject``; multipart ``UploadPartCopy`` past
``TransferConfig.multipart_copy_threshold``) when both ends share an endpoint and streamed
through the process otherwise. A copy keeps the source's content type and user metadata and
takes the storage parameters registered for the target. Prefix operations stop exactly at
``prefix/``, copy concurrently, delete 1,000 keys per ``DeleteObjects`` and only after the copies
succeeded: when S3 refuses part of the work, an error names the keys and every key is still at
its source, its target or both, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aios3path import (
    AsyncS3Path,
    PureS3Path,
    S3DeleteError,
    S3ObjectChangedError,
    S3Path,
    S3TransferError,
    TransferConfig,
    register_configuration_parameter,
)
from aios3path.testing import MotoServer, S3Server

from ._helpers import keys_of, new_bucket_name, put
from ._proxy import CountingProxy, Request, http_response

MiB = 1024 * 1024


# -- helpers --------------------------------------------------------------------------------


class Api:
    """One of the two public APIs: paths of its class and a way to await their methods."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.cls: type[AsyncS3Path] | type[S3Path] = AsyncS3Path if kind == "async" else S3Path

    def path(self, *parts: str) -> Any:
        return self.cls("/", *parts)

    async def call(self, path: Any, method: str, *args: Any) -> Any:
        """``await path.method(*args)``, or ``path.method(*args)`` in a worker thread."""
        if self.kind == "sync":
            return await asyncio.to_thread(getattr(path, method), *args)
        return await getattr(path, method)(*args)


@pytest.fixture(params=["async", "sync"])
def api(request: pytest.FixtureRequest, s3: S3Server) -> Api:
    return Api(request.param)


def _read(client: Any, bucket: str, key: str) -> bytes:
    body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def _put_many(s3_server: S3Server, bucket: str, objects: dict[str, bytes]) -> None:
    """Create objects with boto3 from 16 threads (moto spends a few ms per object)."""
    client = boto3.client(
        "s3", config=Config(max_pool_connections=16), **s3_server.client_settings()
    )
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda item: client.put_object(Bucket=bucket, Key=item[0], Body=item[1]),
                objects.items(),
            )
        )


def _operation(request: Request) -> str:
    """The proxy's operation name, telling server-side copies from uploads."""
    if request.method == "PUT" and "x-amz-copy-source" in request.headers:
        return "UploadPartCopy" if "partNumber" in request.query else "CopyObject"
    return request.operation


def _operations(counter: CountingProxy) -> Counter[str]:
    return Counter(_operation(r) for r in counter.requests)


def _deny(client: Any, bucket: str, *statements: tuple[str, str]) -> None:
    """A bucket policy denying ``(action, key pattern)`` pairs to everyone (moto enforces it)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": action,
                "Resource": f"arn:aws:s3:::{bucket}/{pattern}",
            }
            for action, pattern in statements
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


@pytest.fixture(scope="module")
def second_server() -> Iterator[S3Server]:
    """Another S3 server process, standing for a MinIO next to AWS."""
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def remote_bucket(s3: S3Server, second_server: S3Server) -> tuple[str, Any]:
    """A fresh bucket on the second server, registered so that paths in it go there."""
    name = new_bucket_name()
    client = boto3.client("s3", **second_server.client_settings())
    client.create_bucket(Bucket=name)
    register_configuration_parameter(
        PureS3Path("/", name), resource=second_server.client_settings()
    )
    return name, client


# -- one object -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["rename", "replace", "move"])
async def test_moving_an_object_within_a_bucket(
    api: Api, bucket_name: str, boto3_client: Any, method: str
) -> None:
    put(boto3_client, bucket_name, "old/name.txt", "content")
    source = api.path(bucket_name, "old", "name.txt")
    target = await api.call(source, method, api.path(bucket_name, "new", "name.txt"))
    assert type(target) is api.cls
    assert target == api.path(bucket_name, "new", "name.txt")
    assert keys_of(boto3_client, bucket_name) == ["new/name.txt"]
    assert _read(boto3_client, bucket_name, "new/name.txt") == b"content"


async def test_copy_keeps_the_source(api: Api, bucket_name: str, boto3_client: Any) -> None:
    put(boto3_client, bucket_name, "a", "content")
    target = await api.call(api.path(bucket_name, "a"), "copy", api.path(bucket_name, "b"))
    assert type(target) is api.cls and target.key == "b"
    assert keys_of(boto3_client, bucket_name) == ["a", "b"]
    assert _read(boto3_client, bucket_name, "b") == b"content"


async def test_copy_into_and_move_into_keep_the_name(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "inbox/report.csv", "1,2")
    put(boto3_client, bucket_name, "inbox/other.csv", "3,4")
    copied = await api.call(
        api.path(bucket_name, "inbox", "report.csv"), "copy_into", "/" + bucket_name + "/backup"
    )
    assert copied == api.path(bucket_name, "backup", "report.csv")
    moved = await api.call(
        api.path(bucket_name, "inbox", "other.csv"), "move_into", api.path(bucket_name, "done")
    )
    assert type(moved) is api.cls
    assert moved == api.path(bucket_name, "done", "other.csv")
    assert keys_of(boto3_client, bucket_name) == [
        "backup/report.csv",
        "done/other.csv",
        "inbox/report.csv",
    ]


async def test_a_string_target_is_an_s3_path(api: Api, bucket_name: str, boto3_client: Any) -> None:
    put(boto3_client, bucket_name, "a", "x")
    target = await api.call(api.path(bucket_name, "a"), "rename", f"/{bucket_name}/b")
    assert type(target) is api.cls and str(target) == f"/{bucket_name}/b"
    assert keys_of(boto3_client, bucket_name) == ["b"]


async def test_rename_overwrites_an_existing_target(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "a", "new")
    put(boto3_client, bucket_name, "b", "old")
    await api.call(api.path(bucket_name, "a"), "rename", api.path(bucket_name, "b"))
    assert keys_of(boto3_client, bucket_name) == ["b"]
    assert _read(boto3_client, bucket_name, "b") == b"new"


async def test_renaming_onto_itself_keeps_the_object(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "a", "x")
    path = api.path(bucket_name, "a")
    assert await api.call(path, "rename", path) == path
    assert await api.call(path, "copy", path) == path
    assert keys_of(boto3_client, bucket_name) == ["a"]


async def test_renaming_a_missing_path_onto_itself_is_file_not_found(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    path = api.path(bucket_name, "missing")
    for method in ("rename", "replace", "copy"):
        with pytest.raises(FileNotFoundError, match="missing"):
            await api.call(path, method, path)
    assert keys_of(boto3_client, bucket_name) == []


async def test_moving_an_object_across_buckets(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    other = new_bucket_name()
    boto3_client.create_bucket(Bucket=other)
    put(boto3_client, bucket_name, "k", "payload")
    await api.call(api.path(bucket_name, "k"), "move", api.path(other, "dir", "k"))
    assert keys_of(boto3_client, bucket_name) == []
    assert _read(boto3_client, other, "dir/k") == b"payload"


async def test_a_missing_source_raises_and_creates_nothing(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "nothing2/x", "look-alike")
    for method in ("rename", "copy"):
        with pytest.raises(FileNotFoundError, match=f"s3://{bucket_name}/nothing"):
            await api.call(api.path(bucket_name, "nothing"), method, api.path(bucket_name, "t"))
    assert keys_of(boto3_client, bucket_name) == ["nothing2/x"]


@pytest.mark.needs("copy-to-missing-bucket-404")
async def test_a_rename_into_a_missing_bucket_raises_and_leaves_the_source(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "a", "x")
    with pytest.raises(FileNotFoundError):
        await api.call(api.path(bucket_name, "a"), "rename", api.path(new_bucket_name(), "a"))
    assert keys_of(boto3_client, bucket_name) == ["a"]


@pytest.mark.needs("bucket-policy")
async def test_a_refused_delete_leaves_the_object_in_both_places(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "locked", "x")
    _deny(boto3_client, bucket.bucket, ("s3:DeleteObject", "locked"))
    try:
        with pytest.raises(PermissionError, match=f"s3://{bucket.bucket}/locked"):
            await (bucket / "locked").rename(bucket / "moved")
        assert keys_of(boto3_client, bucket.bucket) == ["locked", "moved"]
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket.bucket)


async def test_renaming_an_object_is_one_head_one_server_side_copy_and_one_delete(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    put(boto3_client, bucket.bucket, "a", b"x" * 100_000)
    await (bucket / "a").rename(bucket / "b")
    assert _operations(counter) == {"HeadObject": 1, "CopyObject": 1, "DeleteObject": 1}


@pytest.mark.needs("storage-class")
async def test_rename_keeps_content_type_and_metadata_and_applies_the_target_parameters(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    boto3_client.put_object(
        Bucket=bucket_name,
        Key="in/data.csv",
        Body=b"a,b\n",
        ContentType="text/csv",
        Metadata={"origin": "sensor-7"},
    )
    register_configuration_parameter(
        PureS3Path("/", bucket_name, "archive/"),
        parameters={
            "StorageClass": "STANDARD_IA",
            "ServerSideEncryption": "AES256",
            # Content parameters are for new writes: a copy keeps the source's.
            "ContentType": "application/octet-stream",
            "Metadata": {"origin": "registered"},
        },
    )
    await api.call(
        api.path(bucket_name, "in", "data.csv"), "rename", api.path(bucket_name, "archive", "d.csv")
    )
    head = boto3_client.head_object(Bucket=bucket_name, Key="archive/d.csv")
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"] == {"origin": "sensor-7"}
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    assert keys_of(boto3_client, bucket_name) == ["archive/d.csv"]


# -- big objects: multipart UploadPartCopy ----------------------------------------------------


@pytest.fixture
def multipart_copies(bucket_name: str) -> TransferConfig:
    """Copies in ``bucket_name`` go multipart past 5 MiB, in 5 MiB parts."""
    config = TransferConfig(multipart_copy_threshold=5 * MiB, multipart_copy_chunksize=5 * MiB)
    register_configuration_parameter(
        PureS3Path("/", bucket_name), parameters={"transfer_config": config}
    )
    return config


def _big_payload(size: int = 12 * MiB) -> bytes:
    block = bytes(range(256)) * 4096  # 1 MiB with a pattern, so misplaced parts show
    return b"".join(bytes([i]) + block[1:] for i in range(size // MiB)) + b"tail"


async def test_a_big_object_is_copied_with_upload_part_copy(
    bucket_name: str,
    boto3_client: Any,
    multipart_copies: TransferConfig,
    counter: CountingProxy,
) -> None:
    payload = _big_payload()
    boto3_client.put_object(
        Bucket=bucket_name,
        Key="big.bin",
        Body=payload,
        ContentType="application/x-big",
        Metadata={"kind": "big"},
    )
    bucket = AsyncS3Path("/", bucket_name)
    await (bucket / "big.bin").rename(bucket / "moved" / "big.bin")
    assert keys_of(boto3_client, bucket_name) == ["moved/big.bin"]
    assert _read(boto3_client, bucket_name, "moved/big.bin") == payload
    head = boto3_client.head_object(Bucket=bucket_name, Key="moved/big.bin")
    assert head["ContentType"] == "application/x-big"
    assert head["Metadata"] == {"kind": "big"}
    operations = _operations(counter)
    assert operations["UploadPartCopy"] == 3  # 12 MiB + 4 bytes in 5 MiB parts
    assert operations["CreateMultipartUpload"] == 1
    assert operations["CompleteMultipartUpload"] == 1
    assert operations["CopyObject"] == 0
    assert operations["GetObject"] == 0 and operations["UploadPart"] == 0  # no data through us
    ranges = sorted(
        r.headers["x-amz-copy-source-range"]
        for r in counter.requests
        if _operation(r) == "UploadPartCopy"
    )
    size = len(payload)
    assert ranges == [
        f"bytes=0-{5 * MiB - 1}",
        f"bytes={10 * MiB}-{size - 1}",
        f"bytes={5 * MiB}-{10 * MiB - 1}",
    ]


@pytest.mark.needs("storage-class")
def test_sync_multipart_copy_applies_the_target_parameters(
    sync_bucket: S3Path, boto3_client: Any, multipart_copies: TransferConfig
) -> None:
    payload = _big_payload(6 * MiB)
    boto3_client.put_object(
        Bucket=sync_bucket.bucket, Key="src", Body=payload, ContentType="text/plain"
    )
    register_configuration_parameter(
        PureS3Path("/", sync_bucket.bucket, "cold/"),
        parameters={
            "transfer_config": multipart_copies,
            "StorageClass": "STANDARD_IA",
            "ServerSideEncryption": "AES256",
        },
    )
    copied = (sync_bucket / "src").copy(sync_bucket / "cold" / "src")
    assert type(copied) is S3Path
    head = boto3_client.head_object(Bucket=sync_bucket.bucket, Key="cold/src")
    assert head["ContentType"] == "text/plain"
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    assert _read(boto3_client, sync_bucket.bucket, "cold/src") == payload
    assert boto3_client.list_multipart_uploads(Bucket=sync_bucket.bucket).get("Uploads", []) == []


# -- across endpoints: streamed --------------------------------------------------------------


async def test_moving_an_object_to_another_endpoint_streams_it(
    api: Api, bucket_name: str, boto3_client: Any, remote_bucket: tuple[str, Any]
) -> None:
    remote_name, remote_client = remote_bucket
    boto3_client.put_object(
        Bucket=bucket_name, Key="k", Body=b"local data", ContentType="text/x", Metadata={"a": "1"}
    )
    target = await api.call(api.path(bucket_name, "k"), "rename", api.path(remote_name, "k2"))
    assert target == api.path(remote_name, "k2")
    assert keys_of(boto3_client, bucket_name) == []
    assert _read(remote_client, remote_name, "k2") == b"local data"
    head = remote_client.head_object(Bucket=remote_name, Key="k2")
    assert head["ContentType"] == "text/x" and head["Metadata"] == {"a": "1"}
    # And back, as a copy.
    await api.call(api.path(remote_name, "k2"), "copy", api.path(bucket_name, "back"))
    assert _read(boto3_client, bucket_name, "back") == b"local data"
    assert keys_of(remote_client, remote_name) == ["k2"]


async def test_a_big_object_crosses_endpoints_in_parts(
    s3: S3Server, bucket_name: str, boto3_client: Any, remote_bucket: tuple[str, Any]
) -> None:
    remote_name, remote_client = remote_bucket
    register_configuration_parameter(
        PureS3Path("/", remote_name),
        parameters={
            "transfer_config": TransferConfig(
                multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB
            ),
            "ServerSideEncryption": "AES256",
        },
    )
    payload = _big_payload(11 * MiB)
    boto3_client.put_object(Bucket=bucket_name, Key="big", Body=payload, Metadata={"m": "v"})
    await AsyncS3Path("/", bucket_name, "big").rename(AsyncS3Path("/", remote_name, "big"))
    assert keys_of(boto3_client, bucket_name) == []
    assert _read(remote_client, remote_name, "big") == payload
    head = remote_client.head_object(Bucket=remote_name, Key="big")
    # A multipart upload's ETag ends with its number of parts: 11 MiB in 5 MiB parts.
    assert head["ETag"].endswith('-3"')
    assert head["Metadata"] == {"m": "v"} and head["ServerSideEncryption"] == "AES256"
    assert remote_client.list_multipart_uploads(Bucket=remote_name).get("Uploads", []) == []


# -- prefixes -------------------------------------------------------------------------------


PREFIX_TREE = {
    "docs/a.txt": b"a",
    "docs/sub/b.txt": b"b",
    "docs/docs/c.txt": b"c",  # a nested folder of the same name
    "docs2/x": b"look-alike",
    "docsX": b"look-alike",
    "docs-old/y": b"look-alike",
    "other/docs/z": b"elsewhere",
}
LOOK_ALIKES = ["docs-old/y", "docs2/x", "docsX", "other/docs/z"]


@pytest.mark.parametrize("method", ["rename", "replace", "move"])
async def test_moving_a_prefix_stops_exactly_at_the_prefix(
    api: Api, bucket_name: str, boto3_client: Any, method: str
) -> None:
    for key, body in PREFIX_TREE.items():
        put(boto3_client, bucket_name, key, body)
    target = await api.call(api.path(bucket_name, "docs"), method, api.path(bucket_name, "new"))
    assert type(target) is api.cls and target.key == "new"
    assert sorted(keys_of(boto3_client, bucket_name)) == sorted(
        [*LOOK_ALIKES, "new/a.txt", "new/docs/c.txt", "new/sub/b.txt"]
    )
    assert _read(boto3_client, bucket_name, "new/docs/c.txt") == b"c"
    for key in LOOK_ALIKES:
        assert _read(boto3_client, bucket_name, key) == PREFIX_TREE[key]


async def test_nested_same_named_folders_keep_their_names(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "data/data/f", "1")
    put(boto3_client, bucket_name, "data/x/data/g", "2")
    await api.call(api.path(bucket_name, "data"), "rename", api.path(bucket_name, "new"))
    assert keys_of(boto3_client, bucket_name) == ["new/data/f", "new/x/data/g"]


async def test_copying_a_prefix_keeps_the_source(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    for key, body in PREFIX_TREE.items():
        put(boto3_client, bucket_name, key, body)
    await api.call(api.path(bucket_name, "docs"), "copy", api.path(bucket_name, "copy", "of"))
    keys = set(keys_of(boto3_client, bucket_name))
    assert keys == {
        *PREFIX_TREE,
        "copy/of/a.txt",
        "copy/of/sub/b.txt",
        "copy/of/docs/c.txt",
    }


MARKED_TREE = ["docs/", "docs/a.txt", "docs/empty/", "docs/sub/", "docs/sub/b.txt"]


@pytest.mark.parametrize("method", ["rename", "copy"])
async def test_marker_objects_of_a_prefix_go_with_it(
    api: Api, bucket_name: str, boto3_client: Any, method: str
) -> None:
    """Zero-byte ``dir/`` markers, the prefix's own and those of (empty) subfolders, are keys
    like any other."""
    for key in MARKED_TREE:
        put(boto3_client, bucket_name, key, "" if key.endswith("/") else key)
    await api.call(api.path(bucket_name, "docs"), method, api.path(bucket_name, "new"))
    moved = ["new/", "new/a.txt", "new/empty/", "new/sub/", "new/sub/b.txt"]
    kept = MARKED_TREE if method == "copy" else []
    assert sorted(keys_of(boto3_client, bucket_name)) == sorted([*kept, *moved])
    assert _read(boto3_client, bucket_name, "new/sub/b.txt") == b"docs/sub/b.txt"


@pytest.mark.parametrize("method", ["rename", "copy"])
async def test_a_path_ending_in_a_slash_moves_the_directory_not_just_its_marker(
    api: Api, bucket_name: str, boto3_client: Any, method: str
) -> None:
    for key in ("dir/", "dir/f.txt"):
        put(boto3_client, bucket_name, key, "" if key.endswith("/") else "data")
    source = api.cls.from_uri(f"s3://{bucket_name}/dir/")
    await api.call(source, method, api.cls.from_uri(f"s3://{bucket_name}/new/"))
    kept = ["dir/", "dir/f.txt"] if method == "copy" else []
    assert sorted(keys_of(boto3_client, bucket_name)) == sorted([*kept, "new/", "new/f.txt"])


@pytest.mark.needs("double-slash-keys", "marker-metadata")
async def test_a_directory_renamed_onto_its_own_key_spelt_otherwise_stays(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    """``k//x``'s parent and ``s3://b/k/`` both have the key ``k/``: the same directory."""
    put(boto3_client, bucket.bucket, "k/", "marker with content")
    put(boto3_client, bucket.bucket, "k//x", "data")
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket), parameters={"Metadata": {"changed": "yes"}}
    )
    child = AsyncS3Path.from_bucket_key(bucket.bucket, "k//x").parent
    assert child.key == "k/"
    await child.rename(AsyncS3Path.from_uri(f"s3://{bucket.bucket}/k/"))
    assert sorted(keys_of(boto3_client, bucket.bucket)) == ["k/", "k//x"]
    assert _read(boto3_client, bucket.bucket, "k/") == b"marker with content"


async def test_copy_into_and_move_into_a_directory(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "docs/a", "1")
    put(boto3_client, bucket_name, "docs/b/c", "2")
    copied = await api.call(
        api.path(bucket_name, "docs"), "copy_into", api.path(bucket_name, "bak")
    )
    assert copied == api.path(bucket_name, "bak", "docs")
    moved = await api.call(
        api.path(bucket_name, "docs"), "move_into", api.path(bucket_name, "arch")
    )
    assert type(moved) is api.cls and moved == api.path(bucket_name, "arch", "docs")
    assert keys_of(boto3_client, bucket_name) == [
        "arch/docs/a",
        "arch/docs/b/c",
        "bak/docs/a",
        "bak/docs/b/c",
    ]


async def test_a_prefix_cannot_move_into_itself(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "docs/a", "1")
    for target in (("docs", "sub"), ("docs", "docs")):
        with pytest.raises(ValueError, match="into itself"):
            await api.call(api.path(bucket_name, "docs"), "rename", api.path(bucket_name, *target))
    # Nor onto a directory that contains it.
    put(boto3_client, bucket_name, "top/docs/b", "2")
    with pytest.raises(ValueError, match="into itself"):
        await api.call(api.path(bucket_name, "top", "docs"), "rename", api.path(bucket_name, "top"))
    assert keys_of(boto3_client, bucket_name) == ["docs/a", "top/docs/b"]


async def test_moving_a_prefix_across_buckets_keeps_metadata(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    other = new_bucket_name()
    boto3_client.create_bucket(Bucket=other)
    boto3_client.put_object(
        Bucket=bucket_name,
        Key="p/a.json",
        Body=b"{}",
        ContentType="application/json",
        Metadata={"v": "1"},
    )
    put(boto3_client, bucket_name, "p/b/c", "c")
    put(boto3_client, bucket_name, "p2", "look-alike")
    register_configuration_parameter(
        PureS3Path("/", other), parameters={"ServerSideEncryption": "AES256"}
    )
    await api.call(api.path(bucket_name, "p"), "rename", api.path(other, "q"))
    assert keys_of(boto3_client, bucket_name) == ["p2"]
    assert keys_of(boto3_client, other) == ["q/a.json", "q/b/c"]
    head = boto3_client.head_object(Bucket=other, Key="q/a.json")
    assert head["ContentType"] == "application/json" and head["Metadata"] == {"v": "1"}
    assert head["ServerSideEncryption"] == "AES256"


async def test_moving_a_prefix_to_another_endpoint(
    api: Api, bucket_name: str, boto3_client: Any, remote_bucket: tuple[str, Any]
) -> None:
    remote_name, remote_client = remote_bucket
    objects = {f"tree/{i}/f{i}.txt": f"file {i}".encode() for i in range(12)}
    objects["tree/empty"] = b""
    for key, body in objects.items():
        boto3_client.put_object(Bucket=bucket_name, Key=key, Body=body, ContentType="text/plain")
    put(boto3_client, bucket_name, "tree2", "look-alike")
    await api.call(api.path(bucket_name, "tree"), "move", api.path(remote_name, "in", "tree"))
    assert keys_of(boto3_client, bucket_name) == ["tree2"]
    assert sorted(keys_of(remote_client, remote_name)) == sorted(f"in/{k}" for k in objects)
    for key, body in objects.items():
        assert _read(remote_client, remote_name, f"in/{key}") == body
    head = remote_client.head_object(Bucket=remote_name, Key="in/tree/3/f3.txt")
    assert head["ContentType"] == "text/plain"


async def test_a_prefix_rename_of_2000_keys_then_rmdir_delete_1000_keys_per_request(
    bucket: AsyncS3Path, s3_server: S3Server, boto3_client: Any, counter: CountingProxy
) -> None:
    keys = {f"src/{i // 100:02d}/{i:04d}": b"" for i in range(2000)}
    _put_many(s3_server, bucket.bucket, keys)
    counter.clear()
    await (bucket / "src").rename(bucket / "dst")
    operations = _operations(counter)
    assert operations["DeleteObjects"] == 2
    assert operations["CopyObject"] == 2000
    assert operations["ListObjectsV2"] == 2  # the source listing, page by page
    assert operations["HeadObject"] == 1  # is "src" an object? (not one per key)
    assert operations["DeleteObject"] == 0
    assert len(keys_of(boto3_client, bucket.bucket, "dst/")) == 2000
    assert keys_of(boto3_client, bucket.bucket, "src/") == []

    counter.clear()
    await (bucket / "dst").rmdir()
    assert _operations(counter) == {"ListObjectsV2": 2, "DeleteObjects": 2}
    assert keys_of(boto3_client, bucket.bucket) == []


# -- failures part-way: nothing is lost ------------------------------------------------------


def _assert_nothing_lost(
    client: Any, bucket: str, objects: dict[str, bytes], source: str, target: str
) -> dict[str, str]:
    """Every object is at its source key or its target key (or both), intact; returns where."""
    present = set(keys_of(client, bucket))
    where = {}
    for key, body in objects.items():
        moved_key = target + key[len(source) :]
        places = [k for k in (key, moved_key) if k in present]
        assert places, f"{key} is neither at its source nor at {moved_key}"
        for place in places:
            assert _read(client, bucket, place) == body
        where[key] = "both" if len(places) == 2 else ("source" if places[0] == key else "target")
    return where


@pytest.mark.needs("bucket-policy", "per-key-delete-policy")
async def test_sources_s3_refuses_to_delete_are_named_and_stay_in_both_places(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    objects = {f"src/{name}": name.encode() for name in ("a", "b", "locked1", "locked2", "z")}
    for key, body in objects.items():
        put(boto3_client, bucket_name, key, body)
    _deny(boto3_client, bucket_name, ("s3:DeleteObject", "src/locked*"))
    try:
        with pytest.raises(S3TransferError) as raised:
            await api.call(api.path(bucket_name, "src"), "rename", api.path(bucket_name, "dst"))
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket_name)
    error = raised.value
    assert isinstance(error, OSError)
    assert sorted(error.not_deleted) == ["src/locked1", "src/locked2"]
    assert error.failed == {}
    assert error.moved == 3
    assert "src/locked1" in str(error) and "src/locked2" in str(error)
    where = _assert_nothing_lost(boto3_client, bucket_name, objects, "src/", "dst/")
    assert where == {
        "src/a": "target",
        "src/b": "target",
        "src/locked1": "both",
        "src/locked2": "both",
        "src/z": "target",
    }


@pytest.mark.needs("bucket-policy")
async def test_targets_s3_refuses_to_write_are_named_and_no_key_is_lost(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    objects = {f"src/{i:03d}": f"body {i}".encode() for i in range(60)}
    objects.update({"src/bad1": b"bad 1", "src/sub/bad2": b"bad 2"})
    for key, body in objects.items():
        put(boto3_client, bucket_name, key, body)
    _deny(boto3_client, bucket_name, ("s3:PutObject", "dst/bad1"), ("s3:PutObject", "dst/sub/*"))
    try:
        with pytest.raises(S3TransferError) as raised:
            await api.call(api.path(bucket_name, "src"), "rename", api.path(bucket_name, "dst"))
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket_name)
    error = raised.value
    # The first refused copy stops new copies; what was copied is moved, the rest stays.
    assert set(error.failed) <= {"src/bad1", "src/sub/bad2"}
    assert error.failed
    assert all(isinstance(e, PermissionError) for e in error.failed.values())
    for key in error.failed:
        assert repr(key) in str(error)
    assert error.not_deleted == []
    where = _assert_nothing_lost(boto3_client, bucket_name, objects, "src/", "dst/")
    assert where["src/bad1"] == "source" and where["src/sub/bad2"] == "source"
    assert "both" not in where.values()  # every copy that succeeded was deleted at the source
    assert error.moved == list(where.values()).count("target")


@pytest.mark.needs("bucket-policy")
async def test_a_copy_of_a_prefix_that_fails_part_way_names_the_keys(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    objects = {"src/a": b"a", "src/b": b"b", "src/c": b"c"}
    for key, body in objects.items():
        put(boto3_client, bucket.bucket, key, body)
    _deny(boto3_client, bucket.bucket, ("s3:PutObject", "dst/b"))
    try:
        with pytest.raises(S3TransferError, match="src/b") as raised:
            await (bucket / "src").copy(bucket / "dst")
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket.bucket)
    assert list(raised.value.failed) == ["src/b"]
    assert set(keys_of(boto3_client, bucket.bucket, "src/")) == set(objects)


async def test_a_cancelled_prefix_rename_loses_nothing_and_stops(
    bucket: AsyncS3Path, s3_server: S3Server, boto3_client: Any
) -> None:
    objects = {f"src/{i:03d}": f"body {i}".encode() for i in range(300)}
    _put_many(s3_server, bucket.bucket, objects)
    register_configuration_parameter(
        PureS3Path("/", bucket.bucket, "dst/"),
        parameters={"transfer_config": TransferConfig(max_concurrency=2)},
    )
    # Cancelled part-way, while copying: 300 keys two at a time take well over 0.3 s, so the one
    # DeleteObjects after the last copy has not been sent (a slow machine may not have started).
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for((bucket / "src").rename(bucket / "dst"), timeout=0.3)
    where = _assert_nothing_lost(boto3_client, bucket.bucket, objects, "src/", "dst/")
    # Nothing keeps copying or deleting behind the caller's back. Only the copies whose requests
    # were on their way when the call was cancelled (at most max_concurrency) may still be
    # carried out by the server: HTTP cannot take back a request the server has received.
    await asyncio.sleep(0.5)
    later = _assert_nothing_lost(boto3_client, bucket.bucket, objects, "src/", "dst/")
    changed = {key: (where[key], later[key]) for key in objects if later[key] != where[key]}
    assert set(changed.values()) <= {("source", "both")}
    assert len(changed) <= 2


@pytest.mark.parametrize("count", [3, 1_100], ids=["one-batch", "batch-while-copying"])
async def test_a_failed_delete_request_is_reported_with_what_moved_and_nothing_is_lost(
    bucket: AsyncS3Path, s3_server: S3Server, boto3_client: Any, counter: CountingProxy, count: int
) -> None:
    """DeleteObjects refused as a whole: the copies stay, the sources stay, the call returns.

    Past 1,000 copied keys the first batch is deleted while copies go on; its failure must stop
    the copies and end the call (it once waited forever on a full queue).
    """
    objects = {f"src/{i:04d}": f"body {i}".encode() for i in range(count)}
    _put_many(s3_server, bucket.bucket, objects)
    denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"

    def refuse_deletes(request: Request) -> bytes | None:
        if request.operation == "DeleteObjects":
            return http_response(403, "Forbidden", denied, Content_Type="application/xml")
        return None

    counter.inject = refuse_deletes
    with pytest.raises(S3TransferError, match="deleting sources failed") as raised:
        await asyncio.wait_for((bucket / "src").rename(bucket / "dst"), timeout=120)
    error = raised.value
    assert error.failed == {}
    assert error.moved == 0
    assert error.not_deleted and set(error.not_deleted) <= set(objects)
    where = _assert_nothing_lost(boto3_client, bucket.bucket, objects, "src/", "dst/")
    assert {where[key] for key in error.not_deleted} == {"both"}
    assert "target" not in where.values()  # no source was deleted


# -- sources changed by someone else during a move ---------------------------------------------


def _meanwhile(operation: str, action: Callable[[], Any]) -> Callable[[Request], None]:
    """A proxy hook: at the first ``operation`` request, ``action`` runs (straight against the
    server), then the request goes on: another writer acting at the worst moment."""
    seen: list[Request] = []

    def hook(request: Request) -> None:
        if not seen and _operation(request) == operation:
            seen.append(request)
            action()

    return hook


def _etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


@pytest.mark.parametrize("to_local", [False, True], ids=["to-s3", "to-a-local-file"])
async def test_a_source_written_again_before_its_delete_is_kept_and_the_move_fails(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, tmp_path: Path, to_local: bool
) -> None:
    put(boto3_client, bucket.bucket, "report.csv", "old")
    counter.inject = _meanwhile(
        "DeleteObject", lambda: put(boto3_client, bucket.bucket, "report.csv", "new")
    )
    target = tmp_path / "report.csv" if to_local else bucket / "moved.csv"
    with pytest.raises(S3TransferError, match="written again during the move") as raised:
        await (bucket / "report.csv").rename(target)
    assert raised.value.not_deleted == ["report.csv"]
    assert _read(boto3_client, bucket.bucket, "report.csv") == b"new"  # the newer data stays
    moved = target.read_bytes() if isinstance(target, Path) else await target.read_bytes()
    assert moved == b"old"
    deletes = [r for r in counter.requests if r.operation == "DeleteObject"]
    assert [r.headers.get("if-match") for r in deletes] == [_etag(b"old")]


@pytest.mark.needs("conditional-batch-delete")
async def test_a_prefix_move_keeps_each_source_written_again_before_its_delete(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    for name in "abc":
        put(boto3_client, bucket.bucket, f"src/{name}", name)
    counter.inject = _meanwhile(
        "DeleteObjects", lambda: put(boto3_client, bucket.bucket, "src/b", "newer")
    )
    with pytest.raises(S3TransferError) as raised:
        await (bucket / "src").rename(bucket / "dst")
    assert (raised.value.moved, raised.value.not_deleted) == (2, ["src/b"])
    assert keys_of(boto3_client, bucket.bucket) == ["dst/a", "dst/b", "dst/c", "src/b"]
    assert _read(boto3_client, bucket.bucket, "src/b") == b"newer"
    assert _read(boto3_client, bucket.bucket, "dst/b") == b"b"


@pytest.mark.needs("conditional-batch-delete")
async def test_a_prefix_moved_to_local_files_keeps_each_source_written_again(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy, tmp_path: Path
) -> None:
    for name in "abc":
        put(boto3_client, bucket.bucket, f"src/{name}", name)
    counter.inject = _meanwhile(
        "DeleteObjects", lambda: put(boto3_client, bucket.bucket, "src/b", "newer")
    )
    with pytest.raises(S3TransferError) as raised:
        await (bucket / "src").rename(tmp_path / "dst")
    assert raised.value.not_deleted == ["src/b"]
    assert raised.value.moved == 2
    assert keys_of(boto3_client, bucket.bucket) == ["src/b"]
    assert _read(boto3_client, bucket.bucket, "src/b") == b"newer"
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == ["a", "b", "c"]


async def test_a_prefix_move_whose_source_someone_else_deleted_meanwhile_succeeds(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    for name in "abc":
        put(boto3_client, bucket.bucket, f"src/{name}", name)
    counter.inject = _meanwhile(
        "DeleteObjects", lambda: boto3_client.delete_object(Bucket=bucket.bucket, Key="src/b")
    )
    await (bucket / "src").rename(bucket / "dst")
    assert keys_of(boto3_client, bucket.bucket) == ["dst/a", "dst/b", "dst/c"]


async def test_a_move_whose_source_someone_else_deleted_meanwhile_succeeds(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    put(boto3_client, bucket.bucket, "a", "content")
    counter.inject = _meanwhile(
        "DeleteObject", lambda: boto3_client.delete_object(Bucket=bucket.bucket, Key="a")
    )
    moved = await (bucket / "a").rename(bucket / "b")
    assert await moved.read_text() == "content"
    assert keys_of(boto3_client, bucket.bucket) == ["b"]


@pytest.mark.needs("copy-source-conditions")
async def test_a_source_written_again_before_its_copy_fails_the_move_and_nothing_moves(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    put(boto3_client, bucket.bucket, "a", "old")
    counter.inject = _meanwhile("CopyObject", lambda: put(boto3_client, bucket.bucket, "a", "new"))
    with pytest.raises(S3ObjectChangedError, match="changed while it was being copied"):
        await (bucket / "a").rename(bucket / "b")
    assert keys_of(boto3_client, bucket.bucket) == ["a"]
    assert _read(boto3_client, bucket.bucket, "a") == b"new"


_NOT_IMPLEMENTED = b"<Error><Code>NotImplemented</Code><Message>not implemented</Message></Error>"


async def test_a_store_without_conditional_deletes_gets_plain_ones(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    """Some S3-compatible stores answer 501 to a DELETE with If-Match: the move still ends."""

    def refuse_conditions(request: Request) -> bytes | None:
        if request.operation == "DeleteObject" and "if-match" in request.headers:
            return http_response(501, "Not Implemented", _NOT_IMPLEMENTED)
        return None

    put(boto3_client, bucket.bucket, "a", "content")
    counter.inject = refuse_conditions
    await (bucket / "a").rename(bucket / "b")
    assert keys_of(boto3_client, bucket.bucket) == ["b"]
    deletes = [r for r in counter.requests if r.operation == "DeleteObject"]
    assert [r.headers.get("if-match") for r in deletes] == [_etag(b"content"), None]


async def test_keys_a_store_will_not_delete_conditionally_are_deleted_plainly(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    keys = [f"src/{name}" for name in "abc"]
    for key in keys:
        put(boto3_client, bucket.bucket, key, key)
    errors = "".join(
        f"<Error><Key>{key}</Key><Code>NotImplemented</Code><Message>no</Message></Error>"
        for key in keys[:2]
    )
    refused = f'<?xml version="1.0" encoding="UTF-8"?><DeleteResult>{errors}</DeleteResult>'

    def refuse_first_batch(request: Request) -> bytes | None:
        if request.operation == "DeleteObjects" and counter.count("DeleteObjects") == 1:
            return http_response(200, "OK", refused.encode(), Content_Type="application/xml")
        return None

    counter.inject = refuse_first_batch
    await (bucket / "src").rename(bucket / "dst")
    assert counter.count("DeleteObjects") == 2
    assert keys_of(boto3_client, bucket.bucket) == ["dst/a", "dst/b", "dst/c", "src/c"]


# -- rmdir ----------------------------------------------------------------------------------


async def test_rmdir_deletes_everything_below_and_stops_at_the_prefix(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    for key, body in {**PREFIX_TREE, "docs/": b""}.items():  # with a marker object
        put(boto3_client, bucket_name, key, body)
    await api.call(api.path(bucket_name, "docs"), "rmdir")
    assert sorted(keys_of(boto3_client, bucket_name)) == LOOK_ALIKES


async def test_rmdir_of_an_object_or_nothing(api: Api, bucket_name: str, boto3_client: Any) -> None:
    put(boto3_client, bucket_name, "file", "x")
    put(boto3_client, bucket_name, "nothing2/x", "look-alike")
    with pytest.raises(NotADirectoryError):
        await api.call(api.path(bucket_name, "file"), "rmdir")
    with pytest.raises(FileNotFoundError):
        await api.call(api.path(bucket_name, "nothing"), "rmdir")
    assert keys_of(boto3_client, bucket_name) == ["file", "nothing2/x"]


@pytest.mark.needs("bucket-policy", "per-key-delete-policy")
async def test_rmdir_names_the_keys_s3_refuses_to_delete(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    for name in ("a", "keep/1", "keep/2", "b"):
        put(boto3_client, bucket_name, f"dir/{name}", name)
    _deny(boto3_client, bucket_name, ("s3:DeleteObject", "dir/keep/*"))
    try:
        with pytest.raises(S3DeleteError) as raised:
            await api.call(api.path(bucket_name, "dir"), "rmdir")
    finally:
        boto3_client.delete_bucket_policy(Bucket=bucket_name)
    error = raised.value
    assert isinstance(error, OSError)
    assert sorted(f.key for f in error.failures) == ["dir/keep/1", "dir/keep/2"]
    assert {f.code for f in error.failures} == {"AccessDenied"}
    assert error.deleted == 2
    assert "'dir/keep/1'" in str(error) and "'dir/keep/2'" in str(error)
    assert f"s3://{bucket_name}/dir" in str(error)
    assert keys_of(boto3_client, bucket_name) == ["dir/keep/1", "dir/keep/2"]


async def test_rmdir_of_a_bucket_deletes_its_keys_and_the_bucket(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    put(boto3_client, bucket_name, "a/b", "1")
    put(boto3_client, bucket_name, "c", "2")
    await api.call(api.path(bucket_name), "rmdir")
    assert bucket_name not in [b["Name"] for b in boto3_client.list_buckets()["Buckets"]]


# -- awkward keys -----------------------------------------------------------------------------

AWKWARD = [
    "with space.txt",
    "ü日本/データ.txt",
    "k=v/x=1.csv",
    "a+b&c.txt",
    "percent%20.txt",
    "q?x#y",
]


async def test_objects_with_awkward_names_are_moved_intact(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    for name in AWKWARD:
        put(boto3_client, bucket_name, f"src dir/{name}", name)
    # One object at a time...
    for name in AWKWARD:
        await api.call(
            api.path(bucket_name, "src dir", name),
            "copy",
            api.path(bucket_name, "one=by+one", name),
        )
    # ...and the whole prefix.
    await api.call(api.path(bucket_name, "src dir"), "rename", api.path(bucket_name, "dst ü=1"))
    expected = {f"one=by+one/{n}" for n in AWKWARD} | {f"dst ü=1/{n}" for n in AWKWARD}
    assert set(keys_of(boto3_client, bucket_name)) == expected
    for key in expected:
        assert _read(boto3_client, bucket_name, key) == key.split("/", 1)[1].encode()


@pytest.mark.needs("double-slash-keys")
async def test_empty_segments_inside_a_prefix_are_kept(
    api: Api, bucket_name: str, boto3_client: Any
) -> None:
    for key in ("src/a//b", "src/sub/c", "src//d"):
        put(boto3_client, bucket_name, key, key)
    await api.call(api.path(bucket_name, "src"), "rename", api.path(bucket_name, "dst"))
    assert sorted(keys_of(boto3_client, bucket_name)) == ["dst//d", "dst/a//b", "dst/sub/c"]
    assert _read(boto3_client, bucket_name, "dst/a//b") == b"src/a//b"


async def test_a_big_object_in_a_prefix_is_part_copied_and_the_rest_copied_whole(
    bucket_name: str,
    boto3_client: Any,
    multipart_copies: TransferConfig,
    counter: CountingProxy,
) -> None:
    payload = _big_payload(7 * MiB)
    boto3_client.put_object(
        Bucket=bucket_name, Key="p/big", Body=payload, ContentType="x/big", Metadata={"b": "1"}
    )
    for i in range(3):
        put(boto3_client, bucket_name, f"p/small{i}", f"s{i}")
    counter.clear()
    await AsyncS3Path("/", bucket_name, "p").rename(AsyncS3Path("/", bucket_name, "q"))
    operations = _operations(counter)
    assert operations["UploadPartCopy"] == 2
    assert operations["CopyObject"] == 3
    assert operations["DeleteObjects"] == 1
    assert _read(boto3_client, bucket_name, "q/big") == payload
    head = boto3_client.head_object(Bucket=bucket_name, Key="q/big")
    assert head["ContentType"] == "x/big" and head["Metadata"] == {"b": "1"}
    assert keys_of(boto3_client, bucket_name) == ["q/big", "q/small0", "q/small1", "q/small2"]


async def test_buckets_cannot_be_renamed_or_copied(api: Api, bucket_name: str) -> None:
    for method in ("rename", "copy"):
        with pytest.raises(ValueError, match="bucket"):
            await api.call(api.path(bucket_name), method, api.path(new_bucket_name()))
        with pytest.raises(ValueError, match="bucket"):
            await api.call(api.path(bucket_name, "k"), method, api.path(new_bucket_name()))


async def test_copies_between_prefixes_registered_separately_for_one_store_stay_server_side(
    s3_server: S3Server, bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    settings = dict(s3_server.client_settings(), endpoint_url=counter.url)
    register_configuration_parameter(PureS3Path("/", bucket.bucket, "a/"), resource=dict(settings))
    register_configuration_parameter(PureS3Path("/", bucket.bucket, "b/"), resource=dict(settings))
    put(boto3_client, bucket.bucket, "a/k", "x")
    counter.clear()
    await (bucket / "a" / "k").copy(bucket / "b" / "k")
    assert counter.count("GetObject") == 0  # a CopyObject, not a download and an upload
    assert boto3_client.get_object(Bucket=bucket.bucket, Key="b/k")["Body"].read() == b"x"
