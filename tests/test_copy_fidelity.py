"""Every kind of copy makes the same object: same bytes, content headers, metadata and tags.

Up to ``multipart_copy_threshold`` a copy is one ``CopyObject``, which keeps all of that on the
server. Past it, ``UploadPartCopy`` builds a new object, and a copy to another endpoint is a
new ``PutObject`` or multipart upload: those carry the source's content headers and metadata
(from its ``HeadObject``) and its tags (one ``GetObjectTagging``, sent only when the HEAD
reports tags) to the new object. Tags registered for the target (``Tagging``) replace the
source's. Part sizes configured below S3's 5 MiB minimum are raised to it, instead of failing
at ``CompleteMultipartUpload`` after all the data moved.
"""

from __future__ import annotations

from typing import Any

import pytest

from aios3path import AsyncS3Path, PureS3Path, TransferConfig, register_configuration_parameter
from aios3path.testing import S3Server

from ._proxy import CountingProxy
from .test_open import PART, payload, uploads_of

MiB = 1024 * 1024

#: Prefixes of the test bucket, by the kind of copy that writes there.
SERVER_SIDE = "plain/"  # CopyObject (below the default 5 GiB threshold)
PART_COPIES = "parts/"  # UploadPartCopy past 5 MiB
FAR = "far/"  # another endpoint: streamed, multipart past 5 MiB

#: What the source objects carry (tag characters as S3 allows them, some needing escapes).
ATTRIBUTES: dict[str, Any] = {
    "ContentType": "text/csv",
    "ContentEncoding": "identity",
    "ContentLanguage": "fr",
    "ContentDisposition": 'attachment; filename="data.csv"',
    "CacheControl": "max-age=5",
    "Metadata": {"author": "me", "batch": "7"},
}
TAGS = [
    {"Key": "project", "Value": "alpha beta"},
    {"Key": "path/to:key", "Value": "a=b+c"},
    {"Key": "empty", "Value": ""},
]
TAGGING = "project=alpha%20beta&path%2Fto%3Akey=a%3Db%2Bc&empty="


def other_endpoint_settings(s3_server: S3Server) -> dict[str, Any]:
    """The test server under another name (``localhost``): an endpoint of its own for copies."""
    settings = dict(s3_server.client_settings())
    endpoint = str(settings["endpoint_url"])
    if "127.0.0.1" not in endpoint:
        pytest.skip("needs a server on 127.0.0.1 to reach it under a second name")
    settings["endpoint_url"] = endpoint.replace("127.0.0.1", "localhost")
    return settings


@pytest.fixture
def copy_kinds(bucket: AsyncS3Path, s3_server: S3Server) -> AsyncS3Path:
    """The test bucket with a prefix for each kind of copy (5 MiB thresholds and parts)."""
    config = TransferConfig(
        multipart_threshold=PART,
        multipart_chunksize=PART,
        multipart_copy_threshold=PART,
        multipart_copy_chunksize=PART,
    )
    for prefix in (PART_COPIES, FAR):
        register_configuration_parameter(
            PureS3Path(f"/{bucket.bucket}/{prefix}"), parameters={"transfer_config": config}
        )
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/{FAR}"), resource=other_endpoint_settings(s3_server)
    )
    return bucket


def tags_of(client: Any, bucket: str, key: str) -> list[dict[str, str]]:
    """The object's tag set, sorted (boto3, not aios3path)."""
    tags = client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    return sorted(tags, key=lambda tag: tag["Key"])


def attributes_of(client: Any, bucket: str, key: str) -> dict[str, Any]:
    """The object's content headers and metadata as ``put_object`` arguments (boto3)."""
    head = client.head_object(Bucket=bucket, Key=key)
    return {name: head.get(name) for name in ATTRIBUTES}


@pytest.mark.parametrize(
    ("prefix", "size"),
    [
        (SERVER_SIDE, 1000),
        (PART_COPIES, PART + 1000),
        (FAR, 1000),
        (FAR, PART + 1000),
    ],
    ids=["CopyObject", "UploadPartCopy", "streamed-PutObject", "streamed-multipart"],
)
async def test_every_kind_of_copy_keeps_content_headers_metadata_and_tags(
    copy_kinds: AsyncS3Path, boto3_client: Any, prefix: str, size: int
) -> None:
    bucket = copy_kinds.bucket
    data = payload(size, seed=size)
    boto3_client.put_object(Bucket=bucket, Key="src", Body=data, Tagging=TAGGING, **ATTRIBUTES)
    await (copy_kinds / "src").copy(copy_kinds / prefix / "copy")
    assert boto3_client.get_object(Bucket=bucket, Key=f"{prefix}copy")["Body"].read() == data
    assert attributes_of(boto3_client, bucket, f"{prefix}copy") == ATTRIBUTES
    assert tags_of(boto3_client, bucket, f"{prefix}copy") == sorted(TAGS, key=lambda t: t["Key"])
    assert uploads_of(boto3_client, bucket) == []


@pytest.mark.parametrize("prefix", [PART_COPIES, FAR], ids=["UploadPartCopy", "streamed-multipart"])
async def test_a_rename_keeps_the_tags_too(
    copy_kinds: AsyncS3Path, boto3_client: Any, prefix: str
) -> None:
    bucket = copy_kinds.bucket
    boto3_client.put_object(Bucket=bucket, Key="src", Body=payload(PART + 1), Tagging="t=1")
    await (copy_kinds / "src").rename(copy_kinds / prefix / "moved")
    assert tags_of(boto3_client, bucket, f"{prefix}moved") == [{"Key": "t", "Value": "1"}]
    assert not await (copy_kinds / "src").exists()


@pytest.mark.parametrize(
    ("prefix", "size"),
    [("", 10), (PART_COPIES, PART + 1), (FAR, 10), (FAR, PART + 1)],
    ids=["CopyObject", "UploadPartCopy", "streamed-PutObject", "streamed-multipart"],
)
async def test_tags_registered_for_the_target_replace_the_sources(
    copy_kinds: AsyncS3Path, boto3_client: Any, prefix: str, size: int
) -> None:
    bucket = copy_kinds.bucket
    register_configuration_parameter(
        PureS3Path(f"/{bucket}/{prefix}tagged/"), parameters={"Tagging": "stage=copied"}
    )
    boto3_client.put_object(Bucket=bucket, Key="src", Body=payload(size), Tagging="stage=raw")
    await (copy_kinds / "src").copy(copy_kinds / prefix / "tagged" / "copy")
    key = f"{prefix}tagged/copy"
    assert tags_of(boto3_client, bucket, key) == [{"Key": "stage", "Value": "copied"}]


async def test_an_untagged_source_costs_no_tagging_request(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    config = TransferConfig(multipart_copy_threshold=PART, multipart_copy_chunksize=PART)
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/"), parameters={"transfer_config": config}
    )
    boto3_client.put_object(Bucket=bucket.bucket, Key="plain", Body=payload(PART + 1))
    boto3_client.put_object(
        Bucket=bucket.bucket, Key="tagged", Body=payload(PART + 1), Tagging="t=1"
    )
    counter.clear()
    await (bucket / "plain").copy(bucket / "plain-copy")
    assert not any("tagging" in r.query for r in counter.requests)
    assert counter.count("CreateMultipartUpload") == 1  # it was a multipart copy
    counter.clear()
    await (bucket / "tagged").copy(bucket / "tagged-copy")
    assert sum("tagging" in r.query for r in counter.requests) == 1


# -- part sizes below S3's minimum ------------------------------------------------------------


async def test_a_part_copy_with_copy_parts_configured_below_5_mib_uses_5_mib_parts(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    config = TransferConfig(multipart_copy_threshold=2 * MiB, multipart_copy_chunksize=1 * MiB)
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/"), parameters={"transfer_config": config}
    )
    data = payload(2 * PART + 7, seed=12)
    boto3_client.put_object(Bucket=bucket.bucket, Key="src", Body=data)
    counter.clear()
    await (bucket / "src").rename(bucket / "dst")
    ranges = sorted(
        r.headers["x-amz-copy-source-range"]
        for r in counter.requests
        if "x-amz-copy-source-range" in r.headers
    )
    assert ranges == [
        f"bytes=0-{PART - 1}",
        f"bytes={2 * PART}-{2 * PART + 6}",
        f"bytes={PART}-{2 * PART - 1}",
    ]
    assert boto3_client.get_object(Bucket=bucket.bucket, Key="dst")["Body"].read() == data
    assert uploads_of(boto3_client, bucket.bucket) == []


async def test_a_streamed_copy_with_parts_configured_below_5_mib_uses_5_mib_parts(
    bucket: AsyncS3Path, boto3_client: Any, s3_server: S3Server
) -> None:
    register_configuration_parameter(
        PureS3Path(f"/{bucket.bucket}/far/"),
        resource=other_endpoint_settings(s3_server),
        parameters={
            "transfer_config": TransferConfig(
                multipart_threshold=2 * MiB, multipart_chunksize=1 * MiB
            )
        },
    )
    data = payload(2 * PART + 7, seed=13)
    boto3_client.put_object(Bucket=bucket.bucket, Key="src", Body=data)
    await (bucket / "src").copy(bucket / "far" / "dst")
    assert boto3_client.get_object(Bucket=bucket.bucket, Key="far/dst")["Body"].read() == data
    # A multipart upload's ETag ends with its number of parts: 10 MiB + 7 in 5 MiB parts.
    assert boto3_client.head_object(Bucket=bucket.bucket, Key="far/dst")["ETag"].endswith('-3"')
    assert uploads_of(boto3_client, bucket.bucket) == []
