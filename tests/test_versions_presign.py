"""Versions (VersionedS3Path, AsyncVersionedS3Path) and presigned URLs."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

import pytest

from aios3path import (
    AsyncS3Path,
    AsyncVersionedS3Path,
    PureS3Path,
    PureVersionedS3Path,
    S3Path,
    S3TransferError,
    VersionedS3Path,
    register_configuration_parameter,
)

pytestmark = pytest.mark.needs("versioning")


def _fetch(request: str | urllib.request.Request) -> bytes:
    """What a browser or curl does with a presigned URL (a plain HTTP client, no signing)."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as error:
        error.close()
        raise


@pytest.fixture
def versions(bucket: AsyncS3Path, boto3_client: Any) -> tuple[AsyncS3Path, list[str]]:
    """A key with three versions (v1, v2, v3 contents), in a bucket with versioning on."""
    boto3_client.put_bucket_versioning(
        Bucket=bucket.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    ids = [
        boto3_client.put_object(Bucket=bucket.bucket, Key="doc.txt", Body=f"v{i}".encode())[
            "VersionId"
        ]
        for i in (1, 2, 3)
    ]
    return bucket / "doc.txt", ids


async def test_reads_and_stat_of_each_version(versions: tuple[AsyncS3Path, list[str]]) -> None:
    path, ids = versions
    for i, version_id in enumerate(ids, start=1):
        versioned = AsyncVersionedS3Path(path, version_id=version_id)
        assert await versioned.read_text() == f"v{i}"
        stat = await versioned.stat()
        assert stat is not None and stat.version_id == version_id and stat.size == 2
        assert await versioned.exists() and await versioned.is_file()
    assert await path.read_text() == "v3"  # the plain path reads the latest
    plain_stat = await path.stat()
    assert plain_stat is not None and plain_stat.version_id is None


async def test_iter_versions_lists_newest_first(versions: tuple[AsyncS3Path, list[str]]) -> None:
    path, ids = versions
    found = [v async for v in path.iter_versions()]
    assert [v.version_id for v in found] == ids[::-1]
    assert all(type(v) is AsyncVersionedS3Path and v == path for v in found)
    sync_found = list(S3Path(path).iter_versions())
    assert [type(v) for v in sync_found] == [VersionedS3Path] * 3
    assert [v.read_text() for v in sync_found] == ["v3", "v2", "v1"]


async def test_a_missing_version_does_not_exist(versions: tuple[AsyncS3Path, list[str]]) -> None:
    path, _ = versions
    assert not await AsyncVersionedS3Path(path, version_id="no-such-version").exists()
    with pytest.raises(FileNotFoundError):
        await AsyncVersionedS3Path(path, version_id="no-such-version").read_bytes()


async def test_deleted_latest_version(
    versions: tuple[AsyncS3Path, list[str]], boto3_client: Any
) -> None:
    path, ids = versions
    await path.unlink()  # adds a delete marker; no version is destroyed
    assert not await path.exists()  # a key whose latest version is a delete marker
    assert not await path.is_file()
    with pytest.raises(FileNotFoundError):
        await path.read_bytes()
    assert await AsyncVersionedS3Path(path, version_id=ids[0]).read_text() == "v1"
    listed = boto3_client.list_object_versions(Bucket=path.bucket, Prefix="doc.txt")
    assert len(listed["Versions"]) == 3 and len(listed["DeleteMarkers"]) == 1
    marker_id = listed["DeleteMarkers"][0]["VersionId"]
    marker = AsyncVersionedS3Path(path, version_id=marker_id)
    assert not await marker.exists()
    with pytest.raises(FileNotFoundError):
        await marker.read_bytes()
    assert [v.version_id async for v in path.iter_versions()] == ids[::-1]


async def test_unlink_of_a_versioned_path_keeps_every_version(
    versions: tuple[AsyncS3Path, list[str]], boto3_client: Any
) -> None:
    path, ids = versions
    await AsyncVersionedS3Path(path, version_id=ids[0]).unlink()
    listed = boto3_client.list_object_versions(Bucket=path.bucket, Prefix="doc.txt")
    assert sorted(v["VersionId"] for v in listed["Versions"]) == sorted(ids)


async def test_copying_a_version_makes_a_plain_path_to_the_copy(
    versions: tuple[AsyncS3Path, list[str]],
) -> None:
    path, ids = versions
    copied = await AsyncVersionedS3Path(path, version_id=ids[1]).copy(path.with_name("old.txt"))
    assert type(copied) is AsyncS3Path  # the copy is a new object, not a version of the source
    assert await copied.read_text() == "v2"
    from_str = await AsyncVersionedS3Path(path, version_id=ids[0]).copy(f"/{path.bucket}/s.txt")
    assert type(from_str) is AsyncS3Path and await from_str.read_text() == "v1"


async def test_moving_an_older_version_copies_it_and_keeps_the_newer_current_object(
    versions: tuple[AsyncS3Path, list[str]], boto3_client: Any
) -> None:
    """The move's delete acts on the plain key, and only while it holds the copied content:
    hiding (or, with versioning suspended, destroying) the newer current object would lose it."""
    path, ids = versions
    old = AsyncVersionedS3Path(path, version_id=ids[0])
    with pytest.raises(S3TransferError) as raised:
        await old.rename(path.with_name("v1.txt"))
    assert raised.value.not_deleted == ["doc.txt"]
    assert "another version" in str(raised.value)
    assert await path.with_name("v1.txt").read_text() == "v1"
    assert await path.read_text() == "v3"
    listed = boto3_client.list_object_versions(Bucket=path.bucket, Prefix="doc.txt")
    assert sorted(v["VersionId"] for v in listed["Versions"]) == sorted(ids)
    assert not listed.get("DeleteMarkers")


async def test_moving_the_current_version_moves_it_leaving_a_delete_marker(
    versions: tuple[AsyncS3Path, list[str]], boto3_client: Any
) -> None:
    path, ids = versions
    moved = await AsyncVersionedS3Path(path, version_id=ids[2]).rename(path.with_name("v3.txt"))
    assert await moved.read_text() == "v3"
    assert not await path.exists()  # the key's newest entry is now a delete marker
    listed = boto3_client.list_object_versions(Bucket=path.bucket, Prefix="doc.txt")
    assert sorted(v["VersionId"] for v in listed["Versions"]) == sorted(ids)


async def test_a_versioned_directory_copies_and_moves_the_keys_below_it(
    versions: tuple[AsyncS3Path, list[str]],
) -> None:
    path, ids = versions
    await (path.parent / "dir" / "a.txt").write_text("a")
    directory = AsyncVersionedS3Path(path.parent / "dir", version_id=ids[0])
    copied = await directory.copy(path.parent / "copied")
    assert await (copied / "a.txt").read_text() == "a"
    moved = await directory.rename(path.parent / "moved")
    assert await (moved / "a.txt").read_text() == "a"
    assert not await (path.parent / "dir" / "a.txt").exists()


def test_sync_versioned_paths(versions: tuple[AsyncS3Path, list[str]]) -> None:
    path, ids = versions
    versioned = VersionedS3Path.from_uri(f"s3://{path.bucket}/doc.txt", version_id=ids[1])
    assert versioned.read_bytes() == b"v2"
    assert versioned.exists()
    stat = versioned.stat()
    assert stat is not None and stat.st_version_id == ids[1]


def test_versioned_path_arithmetic_follows_the_right_operand() -> None:
    v = PureVersionedS3Path("/b/dir/k", version_id="v1")
    w = PureVersionedS3Path("/b/other", version_id="v2")
    assert type(v / "x") is PureS3Path
    assert type(v / PureS3Path("x")) is PureS3Path
    joined = "/b" / w
    assert type(joined) is PureVersionedS3Path and joined.version_id == "v2"
    assert (PureS3Path("/b") / w).version_id == "v2"  # type: ignore[attr-defined]
    assert (v / w).version_id == "v2"
    assert v.parent.version_id == "v1" and v.with_name("y").version_id == "v1"
    assert v == PureS3Path("/b/dir/k")  # equality ignores the version, as in s3path
    with pytest.raises(TypeError):
        PureVersionedS3Path("/b/k")  # type: ignore[call-arg]
    assert repr(v) == "PureVersionedS3Path('/b/dir/k', version_id='v1')"
    sync = VersionedS3Path("/b/k", version_id="v9")
    assert type(S3Path("/b") / VersionedS3Path("k", version_id="v9")) is VersionedS3Path
    assert type(sync / "x") is S3Path


async def test_listings_below_a_versioned_path_are_plain(
    versions: tuple[AsyncS3Path, list[str]],
) -> None:
    path, ids = versions
    versioned_dir = AsyncVersionedS3Path(path.parent, version_id=ids[0])
    children = [p async for p in versioned_dir.iterdir()]
    assert children == [path] and type(children[0]) is AsyncS3Path


# -- presigned URLs ------------------------------------------------------------------------


@pytest.mark.parametrize("expire_in", [60, timedelta(minutes=5)])
async def test_presigned_get_url_fetches_the_object(
    bucket: AsyncS3Path, expire_in: int | timedelta
) -> None:
    path = bucket / "shared file.txt"
    await path.write_text("shared")
    url = await path.get_presigned_url(expire_in)
    assert await asyncio.to_thread(_fetch, url) == b"shared"


def test_presigned_url_through_the_sync_api(sync_bucket: S3Path) -> None:
    path = sync_bucket / "sync.txt"
    path.write_text("sync")
    assert _fetch(path.get_presigned_url()) == b"sync"


async def test_presigned_put_url_uploads(bucket: AsyncS3Path) -> None:
    path = bucket / "uploaded.bin"
    url = await path.get_presigned_url(120, method="PUT")
    request = urllib.request.Request(
        url, data=b"via put", method="PUT", headers={"Content-Type": "application/octet-stream"}
    )
    assert await asyncio.to_thread(_fetch, request) == b""
    assert await path.read_bytes() == b"via put"


async def test_registered_parameters_stay_out_of_presigned_urls(bucket: AsyncS3Path) -> None:
    """Signed in, they would be headers every user of the URL must send (else 403)."""
    register_configuration_parameter(
        bucket, parameters={"ContentType": "text/csv", "ServerSideEncryption": "AES256"}
    )
    path = bucket / "plain-upload.csv"
    url = await path.get_presigned_url(120, method="PUT")
    assert "X-Amz-SignedHeaders=host&" in url or url.endswith("X-Amz-SignedHeaders=host")
    # Any content type may go along (unsigned); urllib's default form type confuses moto.
    request = urllib.request.Request(
        url, data=b"a,b", method="PUT", headers={"Content-Type": "text/plain"}
    )
    assert await asyncio.to_thread(_fetch, request) == b""
    assert await path.read_bytes() == b"a,b"
    assert _fetch(await path.get_presigned_url()) == b"a,b"


async def test_presigned_url_of_a_version(versions: tuple[AsyncS3Path, list[str]]) -> None:
    path, ids = versions
    url = await AsyncVersionedS3Path(path, version_id=ids[0]).get_presigned_url()
    assert await asyncio.to_thread(_fetch, url) == b"v1"


@pytest.mark.parametrize(
    ("expire_in", "message"),
    [
        (0, "below or equal to 0"),
        (-123, "expire_in = -123 seconds"),
        (timedelta(seconds=-1), "below or equal to 0"),
        (7 * 24 * 3600 + 1, "at most 7 days"),
        (timedelta(days=8), "at most 7 days"),
    ],
)
async def test_presigned_url_expiry_is_validated(
    bucket: AsyncS3Path, expire_in: int | timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await (bucket / "k").get_presigned_url(expire_in)


async def test_presigned_url_rejects_other_methods(bucket: AsyncS3Path) -> None:
    with pytest.raises(ValueError, match="method"):
        await (bucket / "k").get_presigned_url(method="DELETE")


@pytest.mark.needs("presign-expiry")
async def test_an_expired_presigned_url_is_refused(bucket: AsyncS3Path) -> None:
    path = bucket / "short-lived"
    await path.write_text("x")
    url = await path.get_presigned_url(1)
    await asyncio.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as raised:
        await asyncio.to_thread(_fetch, url)
    assert raised.value.code == 403
