"""S3 paths moved or copied to a local ``pathlib.Path``: a download (then, for a move, a delete).

rename/replace/move/move_into delete the sources once downloaded; copy/copy_into keep them.
A directory becomes a tree of files, its marker objects empty directories. Keys that cannot
map one-to-one onto local files are refused before anything moves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from aios3path import AsyncS3Path, S3Path, S3TransferError

from ._helpers import keys_of, put


async def test_renaming_an_object_to_a_local_path_downloads_it(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "report.csv", "a,b\n1,2\n")
    target = tmp_path / "downloads" / "report.csv"
    target.parent.mkdir()
    result = await (bucket / "report.csv").rename(target)
    assert result == target and isinstance(result, Path)
    assert target.read_text() == "a,b\n1,2\n"
    assert keys_of(boto3_client, bucket.bucket) == []


def _entries_below(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _files_below(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_renaming_a_prefix_to_a_local_directory_downloads_the_tree(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    for key in ["logs/", "logs/a.txt", "logs/2024/b.txt", "logs2/keep.txt"]:
        put(boto3_client, bucket.bucket, key, "" if key.endswith("/") else key)
    await (bucket / "logs").replace(tmp_path / "logs")
    assert _files_below(tmp_path) == ["logs/2024/b.txt", "logs/a.txt"]
    assert (tmp_path / "logs" / "2024" / "b.txt").read_text() == "logs/2024/b.txt"
    assert keys_of(boto3_client, bucket.bucket) == ["logs2/keep.txt"]


async def test_a_local_prefix_move_failing_part_way_says_what_moved(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    keys = [f"logs/f{i}" for i in range(6)]
    for key in keys:
        put(boto3_client, bucket.bucket, key, key)
    (tmp_path / "logs" / "f3").mkdir(parents=True)  # a directory where one file must go
    with pytest.raises(S3TransferError) as raised:
        await (bucket / "logs").rename(tmp_path / "logs")
    error = raised.value
    assert list(error.failed) == ["logs/f3"]
    assert isinstance(error.failed["logs/f3"], IsADirectoryError)
    left = keys_of(boto3_client, bucket.bucket)
    downloaded = [f"logs/{name}" for name in _files_below(tmp_path / "logs")]
    # Nothing is lost: every key is still in the bucket or was downloaded (and only then
    # deleted); the one that failed stays in the bucket.
    assert "logs/f3" in left
    assert sorted(left + downloaded) == keys
    assert error.moved == len(downloaded) == len(keys) - len(left)
    for key in downloaded:
        assert (tmp_path / key).read_text() == key


def test_sync_move_to_a_local_path_and_a_str_stays_in_s3(
    sync_bucket: S3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, sync_bucket.bucket, "a.txt", "A")
    put(boto3_client, sync_bucket.bucket, "b.txt", "B")
    assert (sync_bucket / "a.txt").move(tmp_path / "a.txt") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_text() == "A"
    moved = (sync_bucket / "b.txt").rename(f"/{sync_bucket.bucket}/tmp/b.txt")
    assert isinstance(moved, S3Path)  # a str target is an S3 path, as in s3path
    assert keys_of(boto3_client, sync_bucket.bucket) == ["tmp/b.txt"]


async def test_renaming_nothing_to_a_local_path_is_file_not_found(
    bucket: AsyncS3Path, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await (bucket / "missing").rename(tmp_path / "x")
    assert not (tmp_path / "x").exists()


async def test_marker_objects_become_empty_local_directories(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    for key, body in [("d/", ""), ("d/empty/", ""), ("d/sub/f.txt", "F")]:
        put(boto3_client, bucket.bucket, key, body)
    await (bucket / "d").rename(tmp_path / "d")
    assert (tmp_path / "d" / "empty").is_dir()
    assert list((tmp_path / "d" / "empty").iterdir()) == []
    assert (tmp_path / "d" / "sub" / "f.txt").read_text() == "F"
    assert keys_of(boto3_client, bucket.bucket) == []


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        pytest.param(
            ["d/a/b", "d/a//b"],
            "'d/a//b' has the segment ''",
            marks=pytest.mark.needs("double-slash-keys"),
            id="double-slash",
        ),
        pytest.param(
            ["d/a/c", "d/a/./c"],
            "'d/a/./c' has the segment '.'",
            marks=pytest.mark.needs("dot-segment-keys"),
            id="dot",
        ),
        pytest.param(
            ["d/ok", "d/../../escaped.txt"],
            "'d/../../escaped.txt' has the segment '..'",
            marks=pytest.mark.needs("dot-segment-keys"),
            id="dot-dot",
        ),
        pytest.param(
            ["d/a", "d/a/b"], "'d/a' is both a file and a directory", id="file-and-directory"
        ),
        pytest.param(
            ["d/a", "d/a/"],
            "'d/a' is both a file and a directory",
            marks=pytest.mark.needs("object-and-marker"),
            id="file-and-marker",
        ),
    ],
)
async def test_keys_that_cannot_be_local_files_are_refused_before_anything_moves(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path, keys: list[str], message: str
) -> None:
    """Two keys landing on one file (or outside the target) would lose one of them."""
    for key in keys:
        put(boto3_client, bucket.bucket, key, "" if key.endswith("/") else key)
    with pytest.raises(ValueError, match=re.escape(message)):
        await (bucket / "d").rename(tmp_path / "sub" / "out")
    assert sorted(keys_of(boto3_client, bucket.bucket)) == sorted(keys)
    assert _entries_below(tmp_path) == []  # not even a directory was made


@pytest.mark.needs("marker-metadata")
async def test_a_marker_with_content_is_refused_rather_than_dropped(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "d/sub/", "notes kept in the marker")
    put(boto3_client, bucket.bucket, "d/f", "F")
    with pytest.raises(ValueError, match="'d/sub/' is a directory marker with 24 bytes"):
        await (bucket / "d").rename(tmp_path / "d")
    assert sorted(keys_of(boto3_client, bucket.bucket)) == ["d/f", "d/sub/"]
    assert not (tmp_path / "d").exists()


async def test_copying_to_a_local_path_downloads_and_keeps_the_sources(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, bucket.bucket, "d/a.txt", "A")
    put(boto3_client, bucket.bucket, "d/sub/b.txt", "B")
    copied = await (bucket / "d" / "a.txt").copy(tmp_path / "a.txt")
    assert copied == tmp_path / "a.txt" and copied.read_text() == "A"
    tree = await (bucket / "d").copy_into(tmp_path / "into")
    assert tree == tmp_path / "into" / "d"
    assert _files_below(tree) == ["a.txt", "sub/b.txt"]
    assert sorted(keys_of(boto3_client, bucket.bucket)) == ["d/a.txt", "d/sub/b.txt"]


def test_sync_move_into_a_local_directory_keeps_the_name(
    sync_bucket: S3Path, boto3_client: Any, tmp_path: Path
) -> None:
    put(boto3_client, sync_bucket.bucket, "report.csv", "r")
    moved = (sync_bucket / "report.csv").move_into(tmp_path)
    assert moved == tmp_path / "report.csv" and isinstance(moved, Path)
    assert moved.read_text() == "r"
    assert keys_of(boto3_client, sync_bucket.bucket) == []


async def test_a_local_path_is_never_the_same_file_as_an_object(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    put(boto3_client, bucket.bucket, "f", "x")
    assert await (bucket / "f").samefile(bucket / "f")
    assert not await (bucket / "f").samefile(Path(f"/{bucket.bucket}/f"))
