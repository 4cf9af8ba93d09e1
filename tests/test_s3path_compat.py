"""A drop-in for s3path: the same calls on the same server give the same results.

Each scenario runs through ``s3path`` itself and through ``aios3path.S3Path`` against one moto
server and one bucket layout, and the observable results are compared. Where aios3path differs
on purpose (README: "Where aios3path differs from s3path"), the difference is asserted instead.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

import aios3path
from aios3path.testing import S3Server

from ._helpers import new_bucket_name, put

s3path = pytest.importorskip("s3path")

LAYOUT = {
    "docs/readme.md": "# readme",
    "docs/guide/intro.txt": "intro",
    "docs/guide/more.txt": "more",
    "docs2/other.txt": "look-alike sibling",
    "data/2024/01.csv": "a,b\n1,2\n",
    "data/2024/02.csv": "a,b\n3,4\n",
    "data/2025/01.csv": "a,b\n5,6\n",
    "top.txt": "top",
}


@pytest.fixture
def both(s3: S3Server, boto3_client: Any) -> Iterator[tuple[str, type[Any], type[Any]]]:
    """A bucket with LAYOUT, and (bucket, s3path.S3Path, aios3path.S3Path) configured for it."""
    name = new_bucket_name()
    boto3_client.create_bucket(Bucket=name)
    for key, body in LAYOUT.items():
        put(boto3_client, name, key, body)
    resource = boto3.resource("s3", **s3.client_settings())
    s3path.register_configuration_parameter(s3path.PureS3Path("/"), resource=resource)
    aios3path.register_configuration_parameter(aios3path.PureS3Path("/"), resource=resource)
    yield name, s3path.S3Path, aios3path.S3Path


def _same(both: tuple[str, type[Any], type[Any]], scenario: Callable[[type[Any], str], Any]) -> Any:
    bucket, theirs, ours = both
    expected = scenario(theirs, bucket)
    actual = scenario(ours, bucket)
    assert actual == expected
    return actual


def _names(paths: Any) -> list[str]:
    return sorted(str(p) for p in paths)


def test_pure_paths(both: tuple[str, type[Any], type[Any]]) -> None:
    def scenario(cls: type[Any], bucket: str) -> Any:
        p = cls.from_uri(f"s3://{bucket}/docs/guide/intro.txt")
        return (
            str(p),
            p.bucket,
            p.key,
            p.name,
            p.suffix,
            p.stem,
            str(p.parent),
            p.parts,
            str(p.with_suffix(".md")),
            str(p.relative_to(cls("/", bucket))),
            p.as_uri(),
            str(cls.from_bucket_key(bucket, "data/x.csv")),
            p.match("*.txt"),
        )

    _same(both, scenario)


def test_reading_and_metadata(both: tuple[str, type[Any], type[Any]]) -> None:
    def scenario(cls: type[Any], bucket: str) -> Any:
        p = cls("/", bucket, "data/2024/01.csv")
        size, _, version = p.stat()
        return (
            p.read_text(),
            p.read_bytes(),
            size,
            version,
            p.stat().st_size,
            p.exists(),
            p.is_file(),
            p.is_dir(),
            p.parent.is_dir(),
            p.parent.is_file(),
            cls("/", bucket, "docs").exists(),
            cls("/", bucket, "doc").exists(),
            cls("/", bucket, "nothing").exists(),
            cls("/", bucket).exists(),
            cls("/", bucket).is_dir(),
            cls("/", bucket).stat(),
        )

    _same(both, scenario)


def test_listing(both: tuple[str, type[Any], type[Any]]) -> None:
    def scenario(cls: type[Any], bucket: str) -> Any:
        root = cls("/", bucket)
        return (
            _names(root.iterdir()),
            _names((root / "docs").iterdir()),
            _names(root.glob("data/*/*.csv")),
            _names(root.glob("*.txt")),
            _names(root.rglob("*.txt")),
            _names(root.glob("data/2024/0[1-2].csv")),
            # s3path has walk() on Python 3.12+ only.
            sorted((str(d), sorted(ds), sorted(fs)) for d, ds, fs in (root / "docs").walk())
            if hasattr(s3path.S3Path, "walk")
            else None,
        )

    _same(both, scenario)


def test_writing(both: tuple[str, type[Any], type[Any]]) -> None:
    def scenario(cls: type[Any], bucket: str) -> Any:
        p = cls("/", bucket, f"written-by-{cls.__module__}/file.txt")
        written = p.write_text("héllo")
        counted = p.write_bytes(b"bytes")
        p.unlink()
        return written, counted, p.exists(), p.is_file()

    _same(both, scenario)


def test_errors_are_the_same_kind_or_more_precise(both: tuple[str, type[Any], type[Any]]) -> None:
    bucket, theirs, ours = both
    calls: list[Callable[[type[Any]], Any]] = [
        lambda cls: cls("/", bucket, "missing.txt").read_text(),
        lambda cls: cls("/", bucket, "missing.txt").unlink(),
        lambda cls: cls("/", bucket, "docs").unlink(),
        lambda cls: cls("/", bucket, "top.txt").rmdir(),
        lambda cls: cls("/", bucket).mkdir(),
        lambda cls: cls("relative/key").read_text(),
    ]
    for call in calls:
        raised = []
        for cls in (theirs, ours):
            try:
                call(cls)
                raised.append(None)
            except Exception as error:
                raised.append(error)
        expected, actual = raised
        assert expected is not None and actual is not None
        # s3path 0.6.4 on Python <= 3.11 raises a bare OSError for a missing key; ours is a
        # FileNotFoundError, which ``except OSError`` still catches.
        assert isinstance(actual, type(expected)), (type(expected), type(actual))


def test_stat_of_a_missing_key_is_a_client_error_in_both(
    both: tuple[str, type[Any], type[Any]],
) -> None:
    from botocore.exceptions import ClientError

    bucket, theirs, ours = both
    for cls in (theirs, ours):
        with pytest.raises(ClientError):
            cls("/", bucket, "missing").stat()


def test_rmdir_stops_at_the_prefix_where_s3path_does_not(
    both: tuple[str, type[Any], type[Any]], boto3_client: Any
) -> None:
    bucket, _theirs, ours = both
    ours("/", bucket, "docs").rmdir()
    remaining = {o["Key"] for o in boto3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "docs2/other.txt" in remaining  # s3path 0.6.4 deleted this look-alike sibling too
    assert not any(k.startswith("docs/") for k in remaining)


def test_touch_keeps_content_where_s3path_emptied_it(
    both: tuple[str, type[Any], type[Any]],
) -> None:
    bucket, _theirs, ours = both
    ours("/", bucket, "top.txt").touch()
    assert ours("/", bucket, "top.txt").read_text() == "top"


def test_pathlib_path_is_exported_as_s3path_does() -> None:
    """``from s3path import Path, S3Path`` (s3path issue #178) works with aios3path too."""
    assert aios3path.Path is pathlib.Path
    assert "Path" in aios3path.__all__
