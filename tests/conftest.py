"""Fixtures: a real S3 server process, a fresh bucket per test, request counting.

The server is moto's (``moto[server]``) on 127.0.0.1 unless ``AIOS3PATH_TEST_SERVER=seaweedfs``
picks SeaweedFS, or ``AIOS3PATH_TEST_ENDPOINT`` (with ``AIOS3PATH_TEST_ACCESS_KEY`` /
``AIOS3PATH_TEST_SECRET_KEY``) names an S3-compatible endpoint to use instead.

Tests that need a server feature some servers lack carry ``@pytest.mark.needs("feature")``;
they are skipped on servers listed as lacking it in ``MISSING_FEATURES``.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import aios3path
from aios3path import AsyncS3Path, PureS3Path, S3Path, configuration_map
from aios3path.testing import S3Server, server_from_environment, start_server

from ._helpers import new_bucket_name
from ._proxy import CountingProxy

#: Features each server kind lacks (checked against the servers by hand; see the issue notes).
MISSING_FEATURES: dict[str, set[str]] = {
    # moto: presigned URLs never expire; DeleteObjects ignores each object's ETag condition and
    # CopyObject ignores CopySourceIfMatch.
    "moto": {"presign-expiry", "conditional-batch-delete", "copy-source-conditions"},
    # SeaweedFS 4.x: collapses "//" in keys (and "./", and refuses "../"), cannot hold an
    # object "a" next to a marker "a/", checks signatures against its identities, keeps
    # no body or metadata on "dir/" marker objects, does not enforce per-key DeleteObjects
    # denials and has no storage classes. CopyObject answers NoSuchKey for a "dir/" marker
    # source (the library makes the marker anew instead), and 500 InternalError instead of
    # 404 NoSuchBucket when the target bucket does not exist. Listings come in directory-tree
    # order ("a/" before "a b/", "a/b/c" before "a/b.txt"), not in UTF-8 binary key order.
    "seaweedfs": {
        "double-slash-keys",
        "dot-segment-keys",
        "object-and-marker",
        "any-credentials",
        "marker-metadata",
        "copy-to-missing-bucket-404",
        "per-key-delete-policy",
        "storage-class",
        "utf8-key-order",
    },
    "external": {"any-credentials", "bucket-policy", "per-key-delete-policy"},
}

#: Servers on which every test deletes the buckets it created. SeaweedFS gives each bucket its
#: own volumes and has room for only so many (free disk / 128 MB, split into groups of several
#: volumes per bucket): after some 80 buckets with data, every write to a new bucket fails with
#: ``InternalError`` ("No writable volumes and no free volumes left").
DELETE_BUCKETS_AFTER_EACH_TEST = {"seaweedfs"}


def _server_kind() -> str:
    if os.environ.get("AIOS3PATH_TEST_ENDPOINT"):
        return "external"
    return os.environ.get("AIOS3PATH_TEST_SERVER", "moto")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The S3 server every I/O test talks to, started once per session."""
    external = server_from_environment()
    if external is not None:
        yield external
        return
    server = start_server(_server_kind())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server_kind() -> str:
    """``"moto"``, ``"seaweedfs"`` or ``"external"``."""
    return _server_kind()


@pytest.fixture(autouse=True)
def _skip_missing_features(request: pytest.FixtureRequest) -> None:
    for marker in request.node.iter_markers("needs"):
        missing = MISSING_FEATURES.get(_server_kind(), set()) & set(marker.args)
        if missing:
            pytest.skip(f"the {_server_kind()} server lacks {', '.join(sorted(missing))}")


@pytest.fixture(autouse=True)
def _delete_new_buckets(request: pytest.FixtureRequest) -> Iterator[None]:
    """On the servers that need it, delete the buckets a test created, with all they hold.

    Buckets of module-scoped fixtures exist before this fixture starts and are left alone.
    """
    if (
        _server_kind() not in DELETE_BUCKETS_AFTER_EACH_TEST
        or "s3_server" not in request.fixturenames
    ):
        yield
        return
    client = request.getfixturevalue("boto3_client")
    before = _bucket_names(client)
    yield
    for name in sorted(_bucket_names(client) - before):
        try:
            _delete_bucket(client, name)
        except ClientError as error:
            warnings.warn(f"could not delete the test bucket {name}: {error}", stacklevel=1)


def _bucket_names(client: Any) -> set[str]:
    return {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}


def _delete_bucket(client: Any, name: str) -> None:
    """Delete bucket ``name`` after its policy, unfinished uploads, objects and versions."""
    with contextlib.suppress(ClientError):
        client.delete_bucket_policy(Bucket=name)
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=name):
        for upload in page.get("Uploads", []):
            client.abort_multipart_upload(
                Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"]
            )
    for page in client.get_paginator("list_object_versions").paginate(Bucket=name):
        versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if versions:
            client.delete_objects(
                Bucket=name,
                Delete={
                    "Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions],
                    "Quiet": True,
                },
            )
    client.delete_bucket(Bucket=name)


@pytest.fixture(scope="session")
def boto3_client(s3_server: S3Server) -> Any:
    """A plain boto3 client on the test server, to set up and check state independently."""
    return boto3.client("s3", **s3_server.client_settings())


@pytest.fixture
def s3(s3_server: S3Server) -> Iterator[S3Server]:
    """Route every path to the test server (registered at ``/``); reset afterwards."""
    configuration_map.reset()
    aios3path.register_configuration_parameter(
        PureS3Path("/"), resource=s3_server.client_settings()
    )
    yield s3_server
    configuration_map.reset()


@pytest.fixture
def bucket_name(s3: S3Server, boto3_client: Any) -> str:
    """A new empty bucket on the test server, just for this test."""
    name = new_bucket_name()
    boto3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(bucket_name: str) -> AsyncS3Path:
    """The fresh bucket as an ``AsyncS3Path``."""
    return AsyncS3Path("/", bucket_name)


@pytest.fixture
def sync_bucket(bucket_name: str) -> S3Path:
    """The fresh bucket as an ``S3Path``."""
    return S3Path("/", bucket_name)


@pytest.fixture
def counter(s3_server: S3Server, s3: S3Server) -> Iterator[CountingProxy]:
    """Route every path through a counting proxy in front of the test server."""
    proxy = CountingProxy(s3_server.endpoint_url)
    settings = dict(s3_server.client_settings(), endpoint_url=proxy.url)
    aios3path.register_configuration_parameter(PureS3Path("/"), resource=settings)
    try:
        yield proxy
    finally:
        proxy.close()
