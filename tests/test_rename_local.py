"""rename/replace/move to a local pathlib.Path download, then delete the source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aios3path import AsyncS3Path, S3Path

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


def _files_below(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_renaming_a_prefix_to_a_local_directory_downloads_the_tree(
    bucket: AsyncS3Path, boto3_client: Any, tmp_path: Path
) -> None:
    for key in ["logs/", "logs/a.txt", "logs/2024/b.txt", "logs2/keep.txt"]:
        put(boto3_client, bucket.bucket, key, key)
    await (bucket / "logs").replace(tmp_path / "logs")
    assert _files_below(tmp_path) == ["logs/2024/b.txt", "logs/a.txt"]
    assert (tmp_path / "logs" / "2024" / "b.txt").read_text() == "logs/2024/b.txt"
    assert keys_of(boto3_client, bucket.bucket) == ["logs2/keep.txt"]


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
