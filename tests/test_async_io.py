"""AsyncS3Path's core I/O against a real S3 server."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from aios3path import AsyncS3Path, PureS3Path, S3FileNotFoundError, S3Path, StatResult

from ._helpers import keys_of, put
from ._proxy import CountingProxy, http_response


async def test_write_then_read_bytes_round_trips(bucket: AsyncS3Path) -> None:
    path = bucket / "data" / "blob.bin"
    payload = bytes(range(256)) * 10
    assert await path.write_bytes(payload) == len(payload)
    assert await path.read_bytes() == payload


async def test_write_bytes_accepts_memoryview_and_bytearray(bucket: AsyncS3Path) -> None:
    await (bucket / "a").write_bytes(memoryview(b"view"))
    await (bucket / "b").write_bytes(bytearray(b"array"))
    assert await (bucket / "a").read_bytes() == b"view"
    assert await (bucket / "b").read_bytes() == b"array"


async def test_empty_object_round_trips(bucket: AsyncS3Path) -> None:
    path = bucket / "empty"
    assert await path.write_bytes(b"") == 0
    assert await path.read_bytes() == b""
    assert await path.read_text() == ""
    stat = await path.stat()
    assert stat is not None and stat.size == 0


async def test_text_round_trip_counts_characters_and_uses_utf8(bucket: AsyncS3Path) -> None:
    path = bucket / "text.txt"
    text = "héllo wörld ✓ 日本語"
    assert await path.write_text(text) == len(text)
    assert await path.read_bytes() == text.encode("utf-8")
    assert await path.read_text() == text


async def test_text_with_explicit_encoding_and_errors(bucket: AsyncS3Path) -> None:
    path = bucket / "latin.txt"
    await path.write_text("café", encoding="latin-1")
    assert await path.read_bytes() == "café".encode("latin-1")
    assert await path.read_text(encoding="latin-1") == "café"
    assert await path.read_text(encoding="ascii", errors="replace") == "caf\ufffd"
    with pytest.raises(UnicodeDecodeError):
        await path.read_text()


async def test_read_text_translates_newlines_like_open(bucket: AsyncS3Path) -> None:
    path = bucket / "crlf.txt"
    await path.write_bytes(b"a\r\nb\rc\n")
    assert await path.read_text() == "a\nb\nc\n"
    assert await path.read_text(newline="") == "a\r\nb\rc\n"


async def test_write_text_newline_translates_line_feeds(bucket: AsyncS3Path) -> None:
    path = bucket / "windows.txt"
    await path.write_text("a\nb\n", newline="\r\n")
    assert await path.read_bytes() == b"a\r\nb\r\n"


async def test_write_text_rejects_bytes(bucket: AsyncS3Path) -> None:
    with pytest.raises(TypeError):
        await (bucket / "x").write_text(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key",
    ["with space.txt", "ü/日本語.txt", "k=v/x=1.csv", "a+b&c.txt", "percent%20.txt", "q?x#y"],
)
async def test_keys_with_special_characters(
    bucket: AsyncS3Path, boto3_client: Any, key: str
) -> None:
    path = AsyncS3Path.from_bucket_key(bucket.bucket, key)
    await path.write_text(key)
    assert keys_of(boto3_client, bucket.bucket) == [key]
    assert await path.read_text() == key
    assert await path.is_file()
    assert [p.key async for p in path.parent.iterdir()] == [key]


@pytest.mark.needs("double-slash-keys")
async def test_keys_with_double_slash_and_trailing_slash_stay_exact(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "a//b", "double")
    put(boto3_client, bucket.bucket, "dir/", "")
    double = AsyncS3Path.from_bucket_key(bucket.bucket, "a//b")
    marker = AsyncS3Path.from_uri(f"s3://{bucket.bucket}/dir/")
    assert await double.read_text() == "double"
    assert await marker.is_file()
    assert await marker.is_dir()  # the marker object itself makes dir/ a directory
    await marker.unlink()
    assert keys_of(boto3_client, bucket.bucket) == ["a//b"]


async def test_stat_returns_size_mtime_etag_and_content_type(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    boto3_client.put_object(
        Bucket=bucket.bucket, Key="f.json", Body=b"{}", ContentType="application/json"
    )
    stat = await (bucket / "f.json").stat()
    assert isinstance(stat, StatResult)
    size, last_modified, version_id = stat
    assert (size, version_id) == (2, None)
    assert last_modified.tzinfo is not None
    assert abs(last_modified - datetime.now(timezone.utc)).total_seconds() < 300
    assert stat.st_size == 2
    assert stat.st_mtime == pytest.approx(last_modified.timestamp())
    assert stat.st_version_id is None
    assert stat.etag == '"99914b932bd37a50b983c5e7c90ae93b"'
    assert stat.content_type == "application/json"
    with pytest.raises(io.UnsupportedOperation):
        _ = stat.st_mode


async def test_stat_of_bucket_and_root_is_none(bucket: AsyncS3Path) -> None:
    assert await bucket.stat() is None
    assert await AsyncS3Path("/").stat() is None


async def test_stat_of_missing_key_raises_file_not_found_that_is_a_client_error(
    bucket: AsyncS3Path,
) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        await (bucket / "missing").stat()
    assert isinstance(raised.value, ClientError)
    assert f"s3://{bucket.bucket}/missing" in str(raised.value)


async def test_exists_for_objects_directories_and_buckets(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "directory/file.txt", "x")
    assert await AsyncS3Path("/").exists()
    assert await bucket.exists()
    assert await (bucket / "directory").exists()
    assert await (bucket / "directory" / "file.txt").exists()
    assert not await (bucket / "direc").exists()  # a string prefix is not a path prefix
    assert not await (bucket / "directory" / "file").exists()
    assert not await AsyncS3Path("/t-no-such-bucket-aios3path").exists()


async def test_an_object_typed_as_a_directory_is_still_a_file(bucket: AsyncS3Path) -> None:
    """The content type "application/x-directory" does not hide an object with content."""
    typed = bucket / "odd"
    await typed.write_text("real data", content_type="application/x-directory")
    assert await typed.exists() and await typed.is_file() and not await typed.is_dir()
    moved = await typed.rename(bucket / "moved")
    assert await moved.read_text() == "real data" and not await typed.exists()
    await moved.unlink()
    assert not await moved.exists()


async def test_exists_never_pages_through_siblings(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    for i in range(5):
        put(boto3_client, bucket.bucket, f"dir/file{i}", "x")
    counter.clear()
    assert await (bucket / "dir" / "file3").exists()
    assert counter.operations() == {"HeadObject": 1}
    counter.clear()
    assert await (bucket / "dir").exists()
    assert counter.operations() == {"HeadObject": 1, "ListObjectsV2": 1}
    assert counter.requests[-1].query["max-keys"] == "1"
    assert counter.requests[-1].query["prefix"] == "dir/"


async def test_is_dir_and_is_file(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "a", "file and directory")
    put(boto3_client, bucket.bucket, "a/b", "x")
    put(boto3_client, bucket.bucket, "marker/", "")
    assert await (bucket / "a").is_file()
    assert await (bucket / "a").is_dir()
    assert await (bucket / "a" / "b").is_file()
    assert not await (bucket / "a" / "b").is_dir()
    assert await (bucket / "marker").is_dir()
    assert not await (bucket / "marker").is_file()
    assert await bucket.is_dir()
    assert not await bucket.is_file()
    assert await AsyncS3Path("/").is_dir()


async def test_bucket_is_dir_without_a_request(counter: CountingProxy) -> None:
    assert await AsyncS3Path("/any-bucket").is_dir()
    assert counter.count() == 0


async def test_iterdir_lists_one_level_skipping_the_marker(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ["d/", "d/x.txt", "d/y.txt", "d/sub/z.txt", "d/sub/deeper/w.txt", "d2/no.txt"]:
        put(boto3_client, bucket.bucket, key, "x")
    children = [p async for p in (bucket / "d").iterdir()]
    assert sorted(str(p) for p in children) == sorted(
        f"/{bucket.bucket}/d/{name}" for name in ["sub", "x.txt", "y.txt"]
    )
    assert all(type(p) is AsyncS3Path for p in children)
    assert [p.name async for p in bucket.iterdir()] == ["d", "d2"]


async def test_iterdir_gives_a_name_that_is_object_and_directory_once(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ["d/x", "d/x/inner", "d/y"]:
        put(boto3_client, bucket.bucket, key, "x")
    assert [p.name async for p in (bucket / "d").iterdir()] == ["x", "y"]


@pytest.mark.needs("utf8-key-order")
async def test_iterdir_gives_once_an_object_and_directory_listed_pages_apart(
    bucket: AsyncS3Path,
) -> None:
    # Keys sort "x" < "x-0000" < ... < "x-0998" < "x/": the object "x" and 999 others fill the
    # first page of 1,000, the directory "x/" comes on the second.
    await _make_many(bucket, "p", 999, name="x-{:04d}")
    await (bucket / "p" / "x").write_bytes(b"file")
    await (bucket / "p" / "x" / "inner").write_bytes(b"below")
    names = [p.name async for p in (bucket / "p").iterdir()]
    assert len(names) == 1000
    assert names.count("x") == 1


async def test_iterdir_of_root_lists_buckets(bucket: AsyncS3Path) -> None:
    buckets = [p async for p in AsyncS3Path("/").iterdir()]
    assert bucket in buckets
    assert all(p.is_bucket for p in buckets)


async def test_iterdir_of_missing_prefix_is_empty(bucket: AsyncS3Path) -> None:
    assert [p async for p in (bucket / "nothing-here").iterdir()] == []


async def test_iterdir_of_missing_bucket_raises(s3: Any) -> None:
    with pytest.raises(FileNotFoundError) as raised:
        [p async for p in AsyncS3Path("/t-no-such-bucket-aios3path/x").iterdir()]
    assert isinstance(raised.value, ClientError)


async def test_iterdir_pages_through_10000_keys_lazily(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    await _make_many(bucket, "many", 10_000)
    counter.clear()
    seen = 0
    async for _ in (bucket / "many").iterdir():
        seen += 1
        if seen == 1:
            # The first page, and at most one more fetched ahead while this one is used.
            assert counter.count("ListObjectsV2") <= 2
    assert seen == 10_000
    assert counter.count("ListObjectsV2") == 10


async def _make_many(bucket: AsyncS3Path, prefix: str, count: int, name: str = "k{:05d}") -> None:
    import asyncio

    semaphore = asyncio.Semaphore(64)

    async def one(i: int) -> None:
        async with semaphore:
            await (bucket / prefix / name.format(i)).write_bytes(b"")

    await asyncio.gather(*(one(i) for i in range(count)))


async def test_touch_creates_an_empty_object_and_keeps_existing_content(
    bucket: AsyncS3Path,
) -> None:
    path = bucket / "touched"
    await path.touch()
    assert await path.read_bytes() == b""
    await path.write_bytes(b"content")
    await path.touch()
    assert await path.read_bytes() == b"content"
    with pytest.raises(FileExistsError):
        await path.touch(exist_ok=False)


async def test_touch_leaves_a_directory_as_it_is_or_refuses_it(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "d/x", "x")
    await (bucket / "d").touch()  # as pathlib touches a directory: nothing to create
    with pytest.raises(FileExistsError):
        await (bucket / "d").touch(exist_ok=False)
    assert keys_of(boto3_client, bucket.bucket) == ["d/x"]


async def test_touch_never_overwrites_an_object_it_cannot_see(
    bucket: AsyncS3Path, boto3_client: Any, counter: CountingProxy
) -> None:
    """A caller allowed to write but not to read gets 403 from HeadObject: the conditional
    write (If-None-Match: *) still keeps the object."""
    put(boto3_client, bucket.bucket, "logs/app.log", "IMPORTANT LOG DATA")
    denied = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    counter.inject = lambda request: (
        http_response(403, "Forbidden", denied, Content_Type="application/xml")
        if request.operation in ("HeadObject", "ListObjectsV2")
        else None
    )
    await (bucket / "logs" / "app.log").touch()
    with pytest.raises(FileExistsError):
        await (bucket / "logs" / "app.log").touch(exist_ok=False)
    counter.inject = None
    assert await (bucket / "logs" / "app.log").read_text() == "IMPORTANT LOG DATA"
    puts = [r for r in counter.requests if r.operation == "PutObject"]
    assert len(puts) == 2 and all(r.headers["if-none-match"] == "*" for r in puts)


async def test_mkdir_where_an_object_is_refuses_even_with_exist_ok(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "f", "x")
    for exist_ok in (False, True):
        with pytest.raises(FileExistsError, match="an object"):
            await (bucket / "f").mkdir(exist_ok=exist_ok)
    assert keys_of(boto3_client, bucket.bucket) == ["f"]


async def test_unlink(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "f", "x")
    put(boto3_client, bucket.bucket, "d/inner", "x")
    await (bucket / "f").unlink()
    assert keys_of(boto3_client, bucket.bucket) == ["d/inner"]
    with pytest.raises(FileNotFoundError):
        await (bucket / "f").unlink()
    await (bucket / "f").unlink(missing_ok=True)
    with pytest.raises(IsADirectoryError):
        await (bucket / "d").unlink()
    with pytest.raises(IsADirectoryError):
        await bucket.unlink()
    assert keys_of(boto3_client, bucket.bucket) == ["d/inner"]


@pytest.mark.parametrize("marker", [False, True], ids=["implicit", "with-a-marker"])
async def test_reading_a_directory_is_an_is_a_directory_error(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path, marker: bool
) -> None:
    """As pathlib's reads of a directory; a key with nothing at or below it stays not found."""
    put(boto3_client, bucket.bucket, "d/inner", "x")
    if marker:
        put(boto3_client, bucket.bucket, "d/", "")
    directory, sync_directory = bucket / "d", S3Path(str(bucket / "d"))
    reads: list[Callable[[], Awaitable[Any]]] = [
        directory.read_bytes,
        directory.read_text,
        lambda: directory.download_to(tmp_path / "d"),
        lambda: _read_opened(directory, "rb"),
        lambda: _read_opened(directory, "r"),
        lambda: asyncio.to_thread(sync_directory.read_text),
        lambda: asyncio.to_thread(lambda: sync_directory.open("rb").read()),
    ]
    for read in reads:
        with pytest.raises(IsADirectoryError, match="is a directory"):
            await read()
    missing, sync_missing = bucket / "nothing", S3Path(str(bucket / "nothing"))
    for read in (missing.read_bytes, lambda: asyncio.to_thread(sync_missing.read_bytes)):
        with pytest.raises(FileNotFoundError) as raised:
            await read()
        assert not isinstance(raised.value, IsADirectoryError)
    assert not (tmp_path / "d").exists()


async def _read_opened(path: AsyncS3Path, mode: str) -> Any:
    async with path.open(mode) as f:
        return await f.read()


async def test_mkdir_creates_and_refuses_buckets(s3: Any, boto3_client: Any) -> None:
    from ._helpers import new_bucket_name

    path = AsyncS3Path("/", new_bucket_name())
    await path.mkdir()
    assert await path.exists()
    with pytest.raises(FileExistsError):
        await path.mkdir()
    await path.mkdir(exist_ok=True)
    with pytest.raises(FileNotFoundError):
        await AsyncS3Path("/").mkdir()


async def test_mkdir_of_a_key_creates_a_visible_marker(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    directory = bucket / "new" / "dir"
    await directory.mkdir()
    assert keys_of(boto3_client, bucket.bucket) == ["new/dir/"]
    assert await directory.is_dir()
    assert [p async for p in directory.iterdir()] == []
    with pytest.raises(FileExistsError):
        await directory.mkdir()
    await directory.mkdir(exist_ok=True)
    await directory.mkdir(parents=True, exist_ok=True)
    assert keys_of(boto3_client, bucket.bucket) == ["new/dir/"]


async def test_mkdir_of_a_key_in_a_missing_bucket(s3: Any, boto3_client: Any) -> None:
    from ._helpers import new_bucket_name

    name = new_bucket_name()
    with pytest.raises(FileNotFoundError):
        await AsyncS3Path("/", name, "dir").mkdir()
    await AsyncS3Path("/", name, "dir").mkdir(parents=True)
    assert keys_of(boto3_client, name) == ["dir/"]


async def test_rmdir_removes_everything_below_but_not_look_alike_siblings(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ["docs/a", "docs/sub/b", "docs/", "docs2/keep", "docsX", "docs"]:
        put(boto3_client, bucket.bucket, key, "x")
    await (bucket / "docs").rmdir()
    assert sorted(keys_of(boto3_client, bucket.bucket)) == ["docs", "docs2/keep", "docsX"]


async def test_rmdir_errors(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "file", "x")
    with pytest.raises(NotADirectoryError):
        await (bucket / "file").rmdir()
    with pytest.raises(FileNotFoundError):
        await (bucket / "nothing").rmdir()
    with pytest.raises(ValueError):
        await AsyncS3Path("/").rmdir()


async def test_rmdir_of_a_bucket_deletes_it_with_its_content(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "a/b", "x")
    await bucket.rmdir()
    assert not await bucket.exists()
    with pytest.raises(FileNotFoundError):
        await bucket.rmdir()


async def test_samefile(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "f", "x")
    assert await (bucket / "f").samefile(f"/{bucket.bucket}/f")
    assert not await (bucket / "f").samefile(bucket / "g")
    assert not await (bucket / "missing").samefile(bucket / "missing")


@pytest.mark.needs("owner")
async def test_owner(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "f", "x")
    assert isinstance(await (bucket / "f").owner(), str)
    with pytest.raises(KeyError):
        await (bucket / "missing").owner()
    with pytest.raises(FileNotFoundError):
        await (bucket / "missing").owner()


async def test_symlink_like_predicates_are_false(bucket: AsyncS3Path) -> None:
    path = bucket / "x"
    assert not await path.is_symlink()
    assert not await path.is_mount()
    assert not await path.is_socket()
    assert not await path.is_fifo()
    assert not await path.is_junction()


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.chmod(0o644),
        lambda p: p.lchmod(0o644),
        lambda p: p.symlink_to("/b/y"),
        lambda p: p.hardlink_to("/b/y"),
        lambda p: p.readlink(),
        lambda p: p.resolve(),
        lambda p: p.expanduser(),
        lambda p: p.group(),
        lambda p: p.lstat(),
        lambda p: p.is_block_device(),
        lambda p: p.is_char_device(),
        lambda p: type(p).cwd(),
        lambda p: type(p).home(),
    ],
)
def test_unsupported_methods_raise_at_the_call(call: Any) -> None:
    with pytest.raises(NotImplementedError, match="unsupported on S3"):
        call(AsyncS3Path("/b/x"))


def test_absolute_returns_itself_and_rejects_relative_paths() -> None:
    path = AsyncS3Path("/b/x")
    assert path.absolute() is path
    with pytest.raises(ValueError):
        AsyncS3Path("relative").absolute()


async def test_missing_object_read_names_the_path(bucket: AsyncS3Path) -> None:
    with pytest.raises(S3FileNotFoundError, match=f"s3://{bucket.bucket}/nope"):
        await (bucket / "nope").read_bytes()


@pytest.mark.needs("double-slash-keys")
async def test_listings_descend_into_empty_segments_of_double_slash_keys(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "a//b", "x")
    (child,) = [p async for p in (bucket / "a").iterdir()]
    assert child.name == "" and child.key == "a/"  # the directory "a/" holding "a//b"
    (grandchild,) = [p async for p in child.iterdir()]
    assert grandchild.key == "a//b"
    assert await grandchild.read_text() == "x"
    walked = [(d.key, dirs, files) async for d, dirs, files in bucket.walk()]
    assert walked == [("", ["a"], []), ("a", [""], []), ("a/", [], ["b"])]


class SessionAsyncS3Path(AsyncS3Path):
    """An async subclass that carries state through ``with_segments`` (pathlib 3.12+)."""

    def __init__(self, *args: str | os.PathLike[str] | PureS3Path, session: str = "none") -> None:
        super().__init__(*args)
        self.session = session

    def with_segments(self, *args: str | os.PathLike[str] | PureS3Path) -> SessionAsyncS3Path:
        return type(self)(*args, session=self.session)


async def test_an_async_subclass_hands_its_state_to_what_its_methods_return(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ["d/a.txt", "d/sub/b.txt"]:
        put(boto3_client, bucket.bucket, key, "x")
    base = SessionAsyncS3Path(bucket, "d", session="S")
    returned = [
        base.parent,
        *[p async for p in base.iterdir()],
        *[p async for p in base.glob("**/*.txt")],
        *[top async for top, _, _ in base.walk()],
        await (base / "a.txt").rename(f"/{bucket.bucket}/d/moved.txt"),
        await (base / "moved.txt").copy(PureS3Path(bucket, "d", "copied.txt")),
    ]
    assert {(type(p), p.session) for p in returned} == {(SessionAsyncS3Path, "S")}
    assert sorted(p.key for p in returned[-2:]) == ["d/copied.txt", "d/moved.txt"]
