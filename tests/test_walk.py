"""walk: pathlib's ``Path.walk`` (Python 3.12) over S3 "directories".

The oracle is ``os.walk`` over the same tree laid out on the local disk: on this Python (3.11)
``pathlib.Path.walk`` does not exist yet, and ``os.walk`` has the semantics it was modelled on
(the same ``dirpath``, ``dirnames`` and ``filenames``; top-down pruning by editing
``dirnames`` in place; bottom-up yields children before their parent; ``on_error`` gets the
``OSError`` of a directory that cannot be listed).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aios3path import AsyncS3Path, S3FileNotFoundError, S3Path
from aios3path.testing import S3Server

from ._helpers import new_bucket_name, put
from ._proxy import CountingProxy

TREE = (
    "README",
    "a.txt",
    "a b/c.txt",
    "a/b.txt",
    "a/b/c.txt",
    "a/b/d/e.txt",
    "a/bb/c.txt",
    "dir1/x.txt",
    "dir1/sub/z.txt",
    "dir1/sub/deeper/w.txt",
    "dir1/sub/deeper/v.log",
    "dir2/x.txt",
    "dir2/sub/z.txt",
    "k=v/x=1.csv",
    "ü日本/with space.txt",
    "sub/sub/sub/f.txt",
)

#: One walk entry with its path relative to the top: ``(".", dirnames, filenames)``.
Entry = tuple[str, list[str], list[str]]
Pruner = Callable[[str, list[str]], None]


@pytest.fixture(scope="module")
def local_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree on the local disk: the oracle."""
    root = tmp_path_factory.mktemp("walk-oracle")
    for key in TREE:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
    return root


@pytest.fixture(scope="module")
def tree_bucket(boto3_client: Any) -> str:
    """A bucket holding the tree below ``top/`` (read-only)."""
    name = new_bucket_name()
    boto3_client.create_bucket(Bucket=name)
    for key in TREE:
        put(boto3_client, name, f"top/{key}", key)
    return name


def _os_walk(root: Path, top_down: bool = True, prune: Pruner | None = None) -> list[Entry]:
    """``os.walk`` as relative entries, visiting directories in S3 key order (top-down)."""
    entries: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root, topdown=top_down):
        relative = Path(dirpath).relative_to(root).as_posix()
        if top_down:
            dirnames.sort(key=lambda name: name + "/")  # the order S3 lists prefixes in
            if prune is not None:
                prune(relative, dirnames)
        entries.append((relative, list(dirnames), sorted(filenames)))
    return entries


def _relative(top: Any, path: Any) -> str:
    if path == top:
        return "."
    prefix = str(top) + "/"
    assert str(path).startswith(prefix), (path, top)
    return str(path)[len(prefix) :]


Walker = Callable[..., Awaitable[list[Entry]]]


@pytest.fixture(params=["async", "sync"])
def run_walk(request: pytest.FixtureRequest, s3: S3Server) -> Walker:
    """``await run_walk(top_parts, top_down=..., on_error=..., prune=...)``: the entries that
    ``AsyncS3Path.walk`` or ``S3Path.walk`` (iterated in a worker thread) yields, relative to
    the top. ``prune(relative_dirpath, dirnames)`` runs inside the iteration, before the next
    entry is asked for, as user code editing ``dirnames`` would."""
    api = request.param

    async def run(
        *parts: str,
        top_down: bool = True,
        on_error: Callable[[OSError], object] | None = None,
        prune: Pruner | None = None,
    ) -> list[Entry]:
        entries: list[Entry] = []

        def record(top: Any, dirpath: Any, dirnames: list[str], filenames: list[str]) -> None:
            assert type(dirpath) is type(top)
            assert isinstance(dirnames, list) and isinstance(filenames, list)
            relative = _relative(top, dirpath)
            if prune is not None:
                prune(relative, dirnames)
            entries.append((relative, list(dirnames), sorted(filenames)))

        if api == "sync":
            sync_top = S3Path("/", *parts)

            def iterate() -> None:
                for dirpath, dirnames, filenames in sync_top.walk(top_down, on_error):
                    record(sync_top, dirpath, dirnames, filenames)

            await asyncio.to_thread(iterate)
        else:
            async_top = AsyncS3Path("/", *parts)
            async for dirpath, dirnames, filenames in async_top.walk(top_down, on_error):
                record(async_top, dirpath, dirnames, filenames)
        return entries

    return run


def _as_sets(entries: list[Entry]) -> set[tuple[str, frozenset[str], frozenset[str]]]:
    return {(d, frozenset(dirs), frozenset(files)) for d, dirs, files in entries}


# -- against os.walk ----------------------------------------------------------------------------


@pytest.mark.needs("utf8-key-order")
async def test_top_down_walk_equals_os_walk(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    found = await run_walk(tree_bucket, "top")
    expected = _os_walk(local_tree)
    assert _as_sets(found) == _as_sets(expected)
    # Depth-first pre-order, sub-directories in key order: the same sequence as os.walk's
    # when it is told to visit directories in that order.
    assert [d for d, _, _ in found] == [d for d, _, _ in expected]
    assert found[0][0] == "."


@pytest.mark.needs("utf8-key-order")
async def test_bottom_up_walk_equals_os_walk_and_yields_children_first(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    found = await run_walk(tree_bucket, "top", top_down=False)
    assert _as_sets(found) == _as_sets(_os_walk(local_tree, top_down=False))
    # Post-order, sub-directories in key order: each directory right after its subtree.
    assert [d for d, _, _ in found] == _post_order(local_tree)


def _post_order(root: Path, relative: str = ".") -> list[str]:
    directory = root / relative
    children = sorted((p.name for p in directory.iterdir() if p.is_dir()), key=lambda n: n + "/")
    order: list[str] = []
    for name in children:
        order.extend(_post_order(root, name if relative == "." else f"{relative}/{name}"))
    return [*order, relative]


async def test_walking_a_sub_directory(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    found = await run_walk(tree_bucket, "top", "dir1")
    assert found == _os_walk(local_tree / "dir1")


@pytest.mark.needs("utf8-key-order")
@pytest.mark.parametrize(
    "prune",
    [
        pytest.param(lambda d, dirs: dirs.remove("dir1") if d == "." else None, id="remove-one"),
        pytest.param(lambda d, dirs: dirs.clear() if d == "a" else None, id="clear-below-a"),
        pytest.param(
            lambda d, dirs: dirs.__setitem__(slice(None), [n for n in dirs if "sub" not in n]),
            id="slice-assign-everywhere",
        ),
        pytest.param(lambda d, dirs: dirs.reverse() if d == "." else None, id="reorder"),
    ],
)
async def test_editing_dirnames_in_place_prunes_a_top_down_walk(
    run_walk: Walker, tree_bucket: str, local_tree: Path, prune: Pruner
) -> None:
    found = await run_walk(tree_bucket, "top", prune=prune)
    expected = _os_walk(local_tree, prune=prune)
    assert found == expected


async def test_pruned_directories_are_never_listed(
    counter: CountingProxy, tree_bucket: str
) -> None:
    top = AsyncS3Path("/", tree_bucket, "top")
    visited = []
    async for dirpath, dirnames, _ in top.walk():
        visited.append(dirpath)
        if dirpath == top:
            dirnames[:] = ["dir1"]
    assert [p.key for p in visited] == ["top", "top/dir1", "top/dir1/sub", "top/dir1/sub/deeper"]
    # One delimited listing per directory walked, nothing for the pruned ones.
    listings = [r.query for r in counter.requests if r.operation == "ListObjectsV2"]
    assert [q["prefix"] for q in listings] == [
        "top/",
        "top/dir1/",
        "top/dir1/sub/",
        "top/dir1/sub/deeper/",
    ]
    assert all(q["delimiter"] == "/" for q in listings)
    assert counter.count() == len(listings)


def test_sync_walk_pruning_crosses_threads(counter: CountingProxy, tree_bucket: str) -> None:
    # S3Path.walk runs the walk on the background loop's thread: the list the caller edits
    # must be the very list the walk reads its sub-directories from.
    visited = []
    for dirpath, dirnames, _ in S3Path("/", tree_bucket, "top").walk():
        visited.append(dirpath.key)
        if dirpath.key == "top":
            dirnames[:] = ["dir1"]
    assert visited == ["top", "top/dir1", "top/dir1/sub", "top/dir1/sub/deeper"]
    assert counter.count("ListObjectsV2") == 4


# -- errors ---------------------------------------------------------------------------------------


async def test_a_missing_top_goes_to_on_error(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    local_errors: list[OSError] = []
    assert list(os.walk(local_tree / "nothing", onerror=local_errors.append)) == []
    errors: list[OSError] = []
    assert await run_walk(tree_bucket, "top", "nothing", on_error=errors.append) == []
    assert isinstance(local_errors[0], FileNotFoundError)
    assert len(errors) == 1 and isinstance(errors[0], S3FileNotFoundError)
    assert f"s3://{tree_bucket}/top/nothing" in str(errors[0])
    # A look-alike prefix is not the directory: "top/dir" only prefixes "top/dir1/…".
    errors.clear()
    assert await run_walk(tree_bucket, "top", "dir", on_error=errors.append) == []
    assert len(errors) == 1 and isinstance(errors[0], FileNotFoundError)


async def test_a_missing_top_without_on_error_yields_nothing(
    run_walk: Walker, tree_bucket: str
) -> None:
    assert await run_walk(tree_bucket, "top", "nothing") == []


async def test_a_missing_bucket_goes_to_on_error(run_walk: Walker) -> None:
    errors: list[OSError] = []
    assert await run_walk(new_bucket_name(), on_error=errors.append) == []
    assert len(errors) == 1 and isinstance(errors[0], FileNotFoundError)


async def test_on_error_can_abort_the_walk_by_raising(run_walk: Walker, tree_bucket: str) -> None:
    def abort(error: OSError) -> None:
        raise error

    with pytest.raises(FileNotFoundError):
        await run_walk(tree_bucket, "top", "nothing", on_error=abort)


def test_sync_on_error_runs_in_the_callers_thread(s3: S3Server, tree_bucket: str) -> None:
    calls = []

    def on_error(error: OSError) -> None:
        calls.append(threading.current_thread())
        # pathlib code may look around in its handler, with the same (sync) API.
        calls.append(S3Path("/", tree_bucket, "top").exists())

    assert list(S3Path("/", tree_bucket, "nothing").walk(on_error=on_error)) == []
    assert calls == [threading.current_thread(), True]


async def test_walking_an_object_reports_not_a_directory_like_pathlib(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    local_errors: list[OSError] = []
    assert list(os.walk(local_tree / "a.txt", onerror=local_errors.append)) == []
    errors: list[OSError] = []
    assert await run_walk(tree_bucket, "top", "a.txt", on_error=errors.append) == []
    assert isinstance(local_errors[0], NotADirectoryError)
    assert len(errors) == 1 and isinstance(errors[0], NotADirectoryError)


async def test_a_directory_missing_when_reached_goes_to_on_error_like_pathlib(
    run_walk: Walker, tree_bucket: str, local_tree: Path
) -> None:
    def add_missing(relative: str, dirnames: list[str]) -> None:
        if relative == "dir1":
            dirnames.append("gone")

    local_errors: list[OSError] = []
    for dirpath, dirnames, _ in os.walk(local_tree / "dir1", onerror=local_errors.append):
        add_missing("dir1" if Path(dirpath) == local_tree / "dir1" else "", dirnames)
    errors: list[OSError] = []
    found = await run_walk(tree_bucket, "top", on_error=errors.append, prune=add_missing)
    assert "dir1/gone" not in [d for d, _, _ in found]
    assert [type(e) for e in local_errors] == [FileNotFoundError]
    assert [type(e) for e in errors] == [S3FileNotFoundError]
    assert f"s3://{tree_bucket}/top/dir1/gone" in str(errors[0])


# -- S3-only shapes -----------------------------------------------------------------------------


async def test_a_name_that_is_both_object_and_prefix_is_in_both_lists(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ("a", "a/x", "b/", "b/c/", "top-marker/"):
        put(boto3_client, bucket.bucket, key)
    entries = [(p.key, d, f) async for p, d, f in bucket.walk()]
    assert entries == [
        ("", ["a", "b", "top-marker"], ["a"]),
        ("a", [], ["x"]),
        ("b", ["c"], []),  # the marker object "b/" is the directory, not a file in it
        ("b/c", [], []),
        ("top-marker", [], []),
    ]


async def test_an_empty_directory_marker_is_walked(bucket: AsyncS3Path, boto3_client: Any) -> None:
    put(boto3_client, bucket.bucket, "empty/")
    assert [(p.key, d, f) async for p, d, f in (bucket / "empty").walk()] == [("empty", [], [])]


async def test_a_directory_of_more_than_one_page(bucket: AsyncS3Path, s3_server: S3Server) -> None:
    # 1,000 files fill the first listing page; the sub-directories come on the second.
    keys = [f"big/f{i:04d}" for i in range(1000)] + [f"big/z{i}/x" for i in range(5)]
    client = boto3.client(
        "s3", config=Config(max_pool_connections=16), **s3_server.client_settings()
    )
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket.bucket, Key=k, Body=b""), keys))
    entries = [(p.key, d, f) async for p, d, f in (bucket / "big").walk()]
    assert entries[0] == ("big", [f"z{i}" for i in range(5)], [f"f{i:04d}" for i in range(1000)])
    assert [e[0] for e in entries[1:]] == [f"big/z{i}" for i in range(5)]
