"""glob and rglob: pathlib's pattern language over S3 listings, and the requests they send.

Matching is checked against an oracle: the same tree laid out on the local disk, globbed with
``pathlib.Path.glob`` on this Python. S3 has no directories, so a "directory" is any prefix that
keys lie below; the local tree holds the same files and its directories are exactly those
implied prefixes.

Where aios3path deliberately follows Python 3.13 rather than the running Python (a pattern
ending in ``**`` yields files as well as directories), the expected result is written out.
"""

from __future__ import annotations

import asyncio
import glob
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aios3path import AsyncS3Path, PureS3Path, S3Path
from aios3path.testing import S3Server

from ._helpers import new_bucket_name, put
from ._proxy import CountingProxy

# -- trees ----------------------------------------------------------------------------------

#: Files of the small tree. Its directories are the prefixes these keys imply.
TREE = (
    "a.txt",
    "b.txt",
    "ab.csv",
    "a-b.txt",
    "README",
    ".hidden",
    "x.txt.bak",
    "a/b.txt",
    "a/b/c.txt",
    "a/b/d/e.txt",
    "a/bb/c.txt",
    "a b/c.txt",
    "dir1/x.txt",
    "dir1/y.log",
    "dir1/sub/z.txt",
    "dir1/sub/deeper/w.txt",
    "dir1/sub/deeper/v.log",
    "dir2/x.txt",
    "dir2/.hidden",
    "dir2/sub/z.TXT",
    "dir10/x.txt",
    "logs/2023-12/app.log",
    "logs/2024-01/app.log",
    "logs/2024-02/app.log",
    "logs/2024/app.log",
    "logs/2024-readme.txt",
    "Data/File.TXT",
    "data/file.txt",
    "special/with space.txt",
    "special/k=v/x=1.csv",
    "special/ü日本.txt",
    "special/a+b&c.txt",
    "sub/sub/sub/f.txt",
    "brackets/x[1].txt",
    "brackets/x[1",
    "brackets/x1.txt",
)

#: Where the small tree is laid out: at the root of a bucket, and below a prefix of another.
TREE_BASES = ("", "tree")

#: Patterns whose result this Python's pathlib gives exactly, by kind.
PATTERNS = {
    "one-segment": (
        "*",
        "*.txt",
        "?.txt",
        "??.csv",
        "[ab].txt",
        "[!a]*.txt",
        "[a-c]*",
        "[!a-c]*",
        ".*",
        "*.TXT",
        "nosuch*",
        "README",
        "a",
        "a-b.txt",
        "*/",
    ),
    "several-segments": (
        "*/*.txt",
        "*/*/",
        "*/sub/*.txt",
        "*/[xy].*",
        "dir?/x.txt",
        "dir[!1]/*",
        "dir1/*",
        "dir1/*/",
        "a/b",
        "a/b/",
        "a/b.txt",
        "a/b/*.txt",
        "a/*/c.txt",
        "a b/*",
        "logs/2024-*",
        "logs/2024*",
        "logs/2024-*/app.log",
        "logs/*/",
        "special/*",
        "special/k=v/*",
        "special/ü*",
        "Data/*",
        "data/*",
        "*/File.*",
        "no/such/*",
        "sub/*/sub/*",
        "brackets/x[[]1].txt",
        "brackets/*[[]*",
        "brackets/x[1",
        "brackets/x[1].txt",
    ),
    "double-star": (
        "**/*.txt",
        "**/*.log",
        "**/*.TXT",
        "**/",
        "**/sub",
        "**/sub/",
        "**/sub/*",
        "**/sub/**/*.txt",
        "**/.hidden",
        "**/x=1.csv",
        "**/*日本*",
        "**/with space.txt",
        "dir1/**/*.txt",
        "dir1/**/",
        "**/deeper/*.log",
        "*/**/*.txt",
        "a/**/c.txt",
        "**/**/c.txt",
        "**/*",
        "*/**/",
        "dir?/**/",
        "**/sub/**/",
        "**/x[[]1]*",
    ),
}


def _implied_dirs(files: tuple[str, ...]) -> set[str]:
    dirs: set[str] = set()
    for key in files:
        parts = key.split("/")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
    return dirs


TREE_DIRS = _implied_dirs(TREE)


def _everything_below(directory: str) -> set[str]:
    """Python 3.13's ``glob("<directory>/**")``: the directory and every file and dir below."""
    if not directory:
        return {".", *TREE, *TREE_DIRS}
    below = {p for p in (*TREE, *TREE_DIRS) if p.startswith(directory + "/")}
    return {directory, *below}


def _put_many(s3_server: S3Server, objects: Iterable[tuple[str, str, bytes]]) -> None:
    """Create ``(bucket, key, body)`` objects with boto3 from 16 threads (moto spends a few ms
    per object)."""
    client = boto3.client(
        "s3", config=Config(max_pool_connections=16), **s3_server.client_settings()
    )
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda o: client.put_object(Bucket=o[0], Key=o[1], Body=o[2]), objects))


@pytest.fixture(scope="module")
def local_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small tree on the local disk: the oracle."""
    root = tmp_path_factory.mktemp("glob-oracle")
    for key in TREE:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
    return root


@pytest.fixture(scope="module")
def tree_buckets(s3_server: S3Server, boto3_client: Any) -> dict[str, str]:
    """The small tree in S3 (read-only): ``{"": bucket with it at the root, "tree": bucket
    with it below tree/}``."""
    buckets = {base: new_bucket_name() for base in TREE_BASES}
    for bucket in buckets.values():
        boto3_client.create_bucket(Bucket=bucket)
    _put_many(
        s3_server,
        (
            (bucket, f"{base}/{key}" if base else key, key.encode())
            for base, bucket in buckets.items()
            for key in TREE
        ),
    )
    return buckets


@pytest.fixture(scope="module")
def tree_bucket(tree_buckets: dict[str, str]) -> str:
    """The bucket holding the small tree below ``tree/`` (and nothing else)."""
    return tree_buckets["tree"]


#: The big tree: 25 directories of 140 ``.txt``/``.log`` files, then 1,500 files in ``wide/``:
#: 5,000 keys. Listing pages (1,000 keys) end in the middle of ``d07/``, ``d14/``, ``d21/`` and
#: ``wide/``; the directories after ``d07`` are implied only by keys of later pages.
BIG_DIRS = [f"d{i:02d}" for i in range(25)]
BIG_KEYS = [
    f"{d}/f{j:03d}.{'log' if j % 10 == 0 else 'txt'}" for d in BIG_DIRS for j in range(140)
] + [f"wide/w{j:04d}.txt" for j in range(1500)]
BIG_TXT = [k for k in BIG_KEYS if k.endswith(".txt")]


@pytest.fixture(scope="module")
def big_bucket(s3_server: S3Server, boto3_client: Any) -> str:
    """A bucket of exactly 5,000 keys, built once for this module and shared read-only."""
    assert len(BIG_KEYS) == 5000
    name = new_bucket_name()
    boto3_client.create_bucket(Bucket=name)
    _put_many(s3_server, ((name, k, b"") for k in BIG_KEYS))
    return name


# -- running a glob through either API, as relative paths -----------------------------------

GlobRunner = Callable[..., Awaitable[list[str]]]


def _relative(base: PureS3Path, path: PureS3Path) -> str:
    """``path`` relative to ``base`` as pathlib spells it (``"."`` for the base itself)."""
    if path == base:
        return "."
    prefix = str(base) + "/"
    assert str(path).startswith(prefix), (path, base)
    return str(path)[len(prefix) :]


@pytest.fixture(params=["async", "sync"])
def run_glob(request: pytest.FixtureRequest, s3: S3Server) -> GlobRunner:
    """``await run_glob(bucket, base_key, method, pattern, **kw)``: the relative paths that
    ``AsyncS3Path`` (``[p async for p in ...]``) or ``S3Path`` (``list(...)``, in a worker
    thread) yields, in order."""
    api = request.param

    async def run(bucket: str, base_key: str, method: str, pattern: Any, **kw: Any) -> list[str]:
        parts = ("/", bucket, base_key) if base_key else ("/", bucket)
        base: AsyncS3Path | S3Path
        if api == "sync":
            base = S3Path(*parts)
            found = await asyncio.to_thread(lambda: list(getattr(base, method)(pattern, **kw)))
        else:
            base = AsyncS3Path(*parts)
            found = [p async for p in getattr(base, method)(pattern, **kw)]
        assert all(type(p) is type(base) for p in found)
        return [_relative(base, p) for p in found]

    return run


def _local_glob(root: Path, pattern: str, found: Iterable[Path] | None = None) -> set[str]:
    if found is None:
        found = root.glob(pattern)
    if sys.version_info < (3, 11) and (pattern.endswith("/") or not pattern):
        # Python 3.10 ignored a trailing "/" (bpo-22276): 3.11+ yield directories only.
        found = [p for p in found if p.is_dir()]
    return {p.relative_to(root).as_posix() for p in found}


def _local_rglob(root: Path, pattern: str) -> set[str]:
    return _local_glob(root, pattern, root.rglob(pattern))


def _unique(found: list[str]) -> set[str]:
    duplicates = sorted({p for p in found if found.count(p) > 1})
    assert not duplicates, f"yielded more than once: {duplicates}"
    return set(found)


# -- matching, against pathlib --------------------------------------------------------------


def _compare(found: list[str], expected: set[str]) -> dict[str, list[str]]:
    """What differs between yielded paths and pathlib's set (empty when they agree)."""
    diff = {
        "missing": sorted(expected - set(found)),
        "unexpected": sorted(set(found) - expected),
        "duplicated": sorted({p for p in found if found.count(p) > 1}),
    }
    return {k: v for k, v in diff.items() if v}


@pytest.mark.parametrize("base", TREE_BASES, ids=["bucket-root", "below-a-prefix"])
@pytest.mark.parametrize("kind", PATTERNS)
async def test_glob_matches_what_pathlib_finds_in_the_same_tree(
    run_glob: GlobRunner, tree_buckets: dict[str, str], local_tree: Path, base: str, kind: str
) -> None:
    mismatches = {}
    for pattern in PATTERNS[kind]:
        found = await run_glob(tree_buckets[base], base, "glob", pattern)
        diff = _compare(found, _local_glob(local_tree, pattern))
        if diff:
            mismatches[pattern] = diff
    assert mismatches == {}


async def test_rglob_matches_what_pathlib_finds_in_the_same_tree(
    run_glob: GlobRunner, tree_bucket: str, local_tree: Path
) -> None:
    mismatches = {}
    for pattern in ("*.txt", "*.log", "*", "sub", "sub/*", "sub/", "[a-c]*.txt", "*/", "x=1.csv"):
        found = await run_glob(tree_bucket, "tree", "rglob", pattern)
        diff = _compare(found, _local_rglob(local_tree, pattern))
        if diff:
            mismatches[pattern] = diff
    assert mismatches == {}


async def test_glob_from_a_sub_directory_matches_pathlib(
    run_glob: GlobRunner, tree_bucket: str, local_tree: Path
) -> None:
    for pattern in ("*", "**/*.txt", "*/", "deeper/*.log"):
        found = await run_glob(tree_bucket, "tree/dir1/sub", "glob", pattern)
        assert _unique(found) == _local_glob(local_tree / "dir1" / "sub", pattern), pattern


#: Patterns ending in ``**``, where Python 3.11 and 3.13 differ.
FINAL_DOUBLE_STAR_PATTERNS = (
    "**",
    "dir1/**",
    "logs/**",
    "a/b/**",
    "logs/2024-*/**",
    "*/**",
    "dir?/**",
    "*/sub/**",
    "**/sub/**",
    "**/**",
    "a.txt/**",
    "nosuch/**",
)


def _expected_final_double_star(local_tree: Path, pattern: str) -> set[str]:
    """Python 3.13's ``glob("P/**")``, by hand: every directory ``D`` that ``P/`` matches, and
    every file and directory below each ``D`` (``**`` matches zero or more segments)."""
    head = pattern.removesuffix("**").rstrip("/")
    directories = _local_glob(local_tree, head + "/") if head else {"."}
    expected: set[str] = set()
    for directory in directories:
        expected |= _everything_below("" if directory == "." else directory)
    return expected


async def test_a_final_double_star_yields_the_directory_files_and_dirs_below_like_python_313(
    run_glob: GlobRunner, tree_bucket: str, local_tree: Path
) -> None:
    # Python 3.10-3.12's glob("**") yields directories only; 3.13's yields files too (and, as
    # in both, the starting directory itself). aios3path follows 3.13.
    mismatches = {}
    for pattern in FINAL_DOUBLE_STAR_PATTERNS:
        found = await run_glob(tree_bucket, "tree", "glob", pattern)
        diff = _compare(found, _expected_final_double_star(local_tree, pattern))
        # What this Python's pathlib yields: all of it on 3.13+, else (3.10-3.12) exactly the
        # directory part of it.
        local = set(found)
        if sys.version_info < (3, 13):
            local = {p for p in found if p == "." or p in TREE_DIRS}
        if local != _local_glob(local_tree, pattern):
            diff["differs from this Python's pathlib"] = sorted(local)
        if diff:
            mismatches[pattern] = diff
    assert mismatches == {}


def _python_313() -> str | None:
    """A Python 3.13 interpreter to use as a second oracle, if this machine has one."""
    candidates = [os.environ.get("AIOS3PATH_PYTHON313", ""), shutil.which("python3.13") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in filter(None, candidates):
        check = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info >= (3, 13))"],
            capture_output=True,
            text=True,
        )
        if check.returncode == 0 and check.stdout.strip() == "True":
            return candidate
    return None


@pytest.fixture(scope="module")
def python_313_globs(local_tree: Path) -> dict[str, list[str]]:
    """What Python 3.13's ``Path.glob`` yields for every pattern of this module."""
    interpreter = _python_313()
    if interpreter is None:
        pytest.skip("no Python 3.13 interpreter on this machine")
    patterns = [*FINAL_DOUBLE_STAR_PATTERNS, *(p for kind in PATTERNS.values() for p in kind)]
    script = (
        "import json, sys, pathlib\n"
        "root = pathlib.Path(sys.argv[1])\n"
        "print(json.dumps({p: [x.relative_to(root).as_posix() for x in root.glob(p)]"
        " for p in json.loads(sys.argv[2])}))\n"
    )
    result = subprocess.run(
        [interpreter, "-c", script, str(local_tree), json.dumps(patterns)],
        capture_output=True,
        text=True,
        check=True,
    )
    globs: dict[str, list[str]] = json.loads(result.stdout)
    return globs


async def test_every_pattern_matches_what_python_313_finds(
    run_glob: GlobRunner, tree_bucket: str, python_313_globs: dict[str, list[str]]
) -> None:
    mismatches = {}
    for pattern, expected in python_313_globs.items():
        found = await run_glob(tree_bucket, "tree", "glob", pattern)
        diff = _compare(found, set(expected))
        if diff:
            mismatches[pattern] = diff
    assert mismatches == {}


async def test_a_directory_pattern_never_yields_files(
    run_glob: GlobRunner, tree_bucket: str
) -> None:
    assert _unique(await run_glob(tree_bucket, "tree", "glob", "a/b/")) == {"a/b"}
    assert await run_glob(tree_bucket, "tree", "glob", "a.txt/") == []
    assert await run_glob(tree_bucket, "tree", "glob", "**/*.txt/") == []
    assert _unique(await run_glob(tree_bucket, "tree", "glob", "**/")) == {".", *TREE_DIRS}


async def test_case_insensitive_matching(run_glob: GlobRunner, tree_bucket: str) -> None:
    found = await run_glob(tree_bucket, "tree", "glob", "data/*.txt", case_sensitive=False)
    assert _unique(found) == {"Data/File.TXT", "data/file.txt"}
    found = await run_glob(tree_bucket, "tree", "glob", "DIR1/*", case_sensitive=False)
    assert _unique(found) == {"dir1/x.txt", "dir1/y.log", "dir1/sub"}
    found = await run_glob(tree_bucket, "tree", "rglob", "*.TxT", case_sensitive=False)
    assert _unique(found) == {k for k in TREE if k.lower().endswith(".txt")}
    # case_sensitive=True (and the default, on S3) keep case.
    assert _unique(await run_glob(tree_bucket, "tree", "glob", "data/*", case_sensitive=True)) == {
        "data/file.txt"
    }
    assert _unique(await run_glob(tree_bucket, "tree", "glob", "DATA/*")) == set()


async def test_results_are_in_key_order_and_carry_special_characters_intact(
    run_glob: GlobRunner, tree_bucket: str
) -> None:
    found = await run_glob(tree_bucket, "tree", "glob", "special/**")
    assert found == sorted(found, key=lambda p: p.encode())
    assert "special/with space.txt" in found
    assert "special/k=v/x=1.csv" in found
    assert "special/ü日本.txt" in found


# -- S3-only shapes (no local equivalent) --------------------------------------------------


async def test_a_key_and_a_prefix_of_the_same_name_are_yielded_once(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    # ``a`` is both an object and a "directory"; ``a b`` and ``a-b`` sort between them.
    for key in ("a", "a b/x", "a-b", "a.c", "a/x", "a/y/z", "b/", "b/c"):
        put(boto3_client, bucket.bucket, key)
    names = [p.key async for p in bucket.glob("*")]
    assert sorted(names) == ["a", "a b", "a-b", "a.c", "b"]
    assert len(names) == len(set(names))
    everything = [p.key async for p in bucket.glob("**")]
    assert len(everything) == len(set(everything))
    assert set(everything) == {
        "",
        "a",
        "a b",
        "a b/x",
        "a-b",
        "a.c",
        "a/x",
        "a/y",
        "a/y/z",
        "b",
        "b/c",
    }
    assert [p.key async for p in bucket.glob("*/")] == ["a b", "a", "b"]  # key order


async def test_a_directory_marker_object_is_a_directory_not_a_file(
    bucket: AsyncS3Path, boto3_client: Any
) -> None:
    for key in ("empty/", "full/", "full/f.txt"):
        put(boto3_client, bucket.bucket, key)
    assert sorted([p.key async for p in bucket.glob("*")]) == ["empty", "full"]
    assert sorted([p.key async for p in bucket.glob("*/")]) == ["empty", "full"]
    assert sorted([p.key async for p in bucket.glob("**")]) == ["", "empty", "full", "full/f.txt"]
    # The marker of the directory being globbed is not a child of it.
    assert [p.key async for p in (bucket / "empty").glob("*")] == []
    assert [p.key async for p in (bucket / "full").glob("**")] == ["full", "full/f.txt"]


async def test_glob_of_a_missing_prefix_or_bucket(bucket: AsyncS3Path) -> None:
    assert [p async for p in (bucket / "nothing").glob("**")] == []
    with pytest.raises(FileNotFoundError):
        [p async for p in AsyncS3Path("/", new_bucket_name()).glob("*")]


# -- pattern validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("", ValueError),
        ("/abs/*", NotImplementedError),
        ("a**b", ValueError),
        ("a/**x/b", ValueError),
        ("**x", ValueError),
    ],
)
async def test_invalid_patterns_raise_before_any_request(
    counter: CountingProxy, pattern: str, error: type[Exception]
) -> None:
    base = AsyncS3Path("/some-bucket/dir")
    with pytest.raises(error):
        [p async for p in base.glob(pattern)]
    with pytest.raises(error):
        list(S3Path("/some-bucket/dir").glob(pattern))
    assert counter.count() == 0


# -- path patterns (Python 3.13) ------------------------------------------------------------------

#: Patterns whose string form survives ``PurePosixPath`` and ``PureS3Path`` unchanged.
PATH_PATTERNS = ("*", "*.txt", "a/b/*.txt", "**/*.log", "dir?/**", "logs/2024-*", "**/x[[]1]*")


@pytest.mark.parametrize("make", [PurePosixPath, PureS3Path])
@pytest.mark.parametrize("pattern", PATH_PATTERNS)
async def test_a_pattern_may_be_a_path_like_python_313(
    run_glob: GlobRunner, tree_bucket: str, make: Callable[[str], Any], pattern: str
) -> None:
    expected = await run_glob(tree_bucket, "tree", "glob", pattern)
    assert expected
    assert await run_glob(tree_bucket, "tree", "glob", make(pattern)) == expected


async def test_an_exact_path_pattern_keeps_its_trailing_slash(
    run_glob: GlobRunner, tree_bucket: str
) -> None:
    # A PureS3Path pattern stands for its string form: "*/" (cut from the key "*/") matches only
    # directories. (A PurePosixPath drops a trailing slash, as its str() does.)
    pattern = PureS3Path.from_bucket_key("b", "*/").relative_to("/b")
    assert str(pattern) == "*/"
    assert await run_glob(tree_bucket, "tree", "glob", pattern) == await run_glob(
        tree_bucket, "tree", "glob", "*/"
    )


async def test_rglob_takes_a_path_pattern_too(run_glob: GlobRunner, tree_bucket: str) -> None:
    expected = await run_glob(tree_bucket, "tree", "rglob", "*.log")
    assert await run_glob(tree_bucket, "tree", "rglob", PurePosixPath("*.log")) == expected
    assert await run_glob(tree_bucket, "tree", "rglob", PureS3Path("*.log")) == expected


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        (PurePosixPath("/abs/*"), NotImplementedError),
        (PureS3Path("/b/*"), NotImplementedError),
        (PurePosixPath(""), ValueError),  # "."
        (PureS3Path(), ValueError),
        (b"*", TypeError),
        (1, TypeError),
        (None, TypeError),
    ],
)
async def test_invalid_path_patterns_raise_before_any_request(
    counter: CountingProxy, pattern: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        [p async for p in AsyncS3Path("/some-bucket/dir").glob(pattern)]
    with pytest.raises(error):
        list(S3Path("/some-bucket/dir").glob(pattern))
    assert counter.count() == 0


async def test_rglob_validates_like_glob(counter: CountingProxy) -> None:
    base = AsyncS3Path("/some-bucket/dir")
    with pytest.raises(NotImplementedError):
        [p async for p in base.rglob("/abs")]
    with pytest.raises(ValueError):
        [p async for p in base.rglob("a**")]
    assert counter.count() == 0


async def test_rglob_of_an_empty_pattern_yields_directories_like_pathlib(
    run_glob: GlobRunner, tree_bucket: str, local_tree: Path
) -> None:
    found = await run_glob(tree_bucket, "tree", "rglob", "")
    assert _unique(found) == _local_rglob(local_tree, "")


# -- requests: narrowed prefix, delimiter, pages ------------------------------------------------


def _listings(counter: CountingProxy) -> list[dict[str, str]]:
    return [r.query for r in counter.requests if r.operation == "ListObjectsV2"]


async def test_a_partial_name_is_sent_as_the_listing_prefix(
    counter: CountingProxy, tree_bucket: str
) -> None:
    base = AsyncS3Path("/", tree_bucket, "tree")
    found = [p.key async for p in base.glob("logs/2024-*")]
    assert sorted(found) == ["tree/logs/2024-01", "tree/logs/2024-02", "tree/logs/2024-readme.txt"]
    assert counter.operations() == {"ListObjectsV2": 1}
    (query,) = _listings(counter)
    assert query["prefix"] == "tree/logs/2024-"
    assert query["delimiter"] == "/"


async def test_literal_leading_segments_make_one_delimited_listing(
    counter: CountingProxy, tree_bucket: str
) -> None:
    base = AsyncS3Path("/", tree_bucket, "tree")
    assert [p.key async for p in base.glob("a/b/*.txt")] == ["tree/a/b/c.txt"]
    assert counter.operations() == {"ListObjectsV2": 1}
    (query,) = _listings(counter)
    assert query["prefix"] == "tree/a/b/"
    assert query["delimiter"] == "/"


async def test_a_deep_pattern_makes_one_flat_listing_of_the_narrowed_prefix(
    counter: CountingProxy, tree_bucket: str
) -> None:
    base = AsyncS3Path("/", tree_bucket, "tree")
    found = [p.key async for p in base.glob("dir1/*/*.txt")]
    assert found == ["tree/dir1/sub/z.txt"]
    (query,) = _listings(counter)
    assert query["prefix"] == "tree/dir1/"
    assert "delimiter" not in query
    counter.clear()
    found = [p.key async for p in base.glob("logs/**/app.log")]
    assert len(found) == 4
    (query,) = _listings(counter)
    assert query["prefix"] == "tree/logs/"
    assert "delimiter" not in query
    assert counter.count() == 1


async def test_folding_case_lists_the_literal_directories_level_by_level(
    counter: CountingProxy, tree_bucket: str
) -> None:
    # "data" may be spelt "Data" or "DATA": the tree's top level is listed (one level, not every
    # key below it), then each spelling found, with its literal case-free start as the prefix.
    base = AsyncS3Path("/", tree_bucket, "tree")
    found = [p.key async for p in base.glob("DATA/*.txt", case_sensitive=False)]
    assert sorted(found) == ["tree/Data/File.TXT", "tree/data/file.txt"]
    queries = _listings(counter)
    assert [(q["prefix"], q["delimiter"]) for q in queries] == [
        ("tree/", "/"),
        ("tree/Data/", "/"),
        ("tree/data/", "/"),
    ]
    counter.clear()
    found = [p.key async for p in base.glob("LOGS/2024-*/app.LOG", case_sensitive=False)]
    assert sorted(found) == ["tree/logs/2024-01/app.log", "tree/logs/2024-02/app.log"]
    assert [(q["prefix"], q.get("delimiter")) for q in _listings(counter)] == [
        ("tree/", "/"),
        ("tree/logs/2024-", None),
    ]


def test_the_sync_api_sends_the_same_single_listing(
    counter: CountingProxy, tree_bucket: str
) -> None:
    found = [p.key for p in S3Path("/", tree_bucket, "tree").glob("logs/2024-*/app.log")]
    assert found == ["tree/logs/2024-01/app.log", "tree/logs/2024-02/app.log"]
    (query,) = _listings(counter)
    assert query["prefix"] == "tree/logs/2024-"
    assert "delimiter" not in query
    assert counter.count() == 1


async def test_rglob_over_5000_keys_is_five_flat_listing_pages(
    counter: CountingProxy, big_bucket: str
) -> None:
    found = [p async for p in AsyncS3Path("/", big_bucket).rglob("*.txt")]
    assert len(found) == len(BIG_TXT)
    assert {p.key for p in found} == set(BIG_TXT)
    listings = _listings(counter)
    assert len(listings) == math.ceil(5000 / 1000)
    assert counter.count() == len(listings)
    assert all("delimiter" not in q and q["prefix"] == "" for q in listings)
    assert "continuation-token" not in listings[0]
    assert all("continuation-token" in q for q in listings[1:])


def test_sync_rglob_over_5000_keys_is_five_listing_pages(
    counter: CountingProxy, big_bucket: str
) -> None:
    found = list(S3Path("/", big_bucket).rglob("*.txt"))
    assert len(found) == len(set(found)) == len(BIG_TXT)
    assert counter.operations() == {"ListObjectsV2": 5}


async def test_the_first_match_arrives_before_later_pages_are_fetched(
    counter: CountingProxy, big_bucket: str
) -> None:
    matches = AsyncS3Path("/", big_bucket).rglob("*.txt")
    first = await matches.__anext__()
    assert first.key == BIG_TXT[0]
    assert counter.count("ListObjectsV2") <= 2  # the first page, and at most one read ahead
    await matches.aclose()
    assert counter.count("ListObjectsV2") <= 2


def test_sync_iteration_fetches_pages_lazily_too(counter: CountingProxy, big_bucket: str) -> None:
    matches = S3Path("/", big_bucket).glob("**/*.txt")
    assert next(matches).key == BIG_TXT[0]
    assert counter.count("ListObjectsV2") <= 2  # the first page, and at most one read ahead
    matches.close()
    assert counter.count("ListObjectsV2") <= 2


async def test_each_directory_is_yielded_once_across_pages(
    run_glob: GlobRunner, big_bucket: str
) -> None:
    # Flat listings of 5,000 keys: every directory is implied by 140 or 1,500 keys, some of
    # them on both sides of a page boundary; the later ones only by keys of later pages.
    expected_dirs = {*BIG_DIRS, "wide"}
    assert _unique(await run_glob(big_bucket, "", "glob", "**/")) == {".", *expected_dirs}
    everything = _unique(await run_glob(big_bucket, "", "glob", "**"))
    assert everything == {".", *expected_dirs, *BIG_KEYS}
    assert _unique(await run_glob(big_bucket, "", "glob", "*/")) == expected_dirs
    assert _unique(await run_glob(big_bucket, "", "glob", "*")) == expected_dirs
    assert _unique(await run_glob(big_bucket, "", "glob", "d2*/*.log")) == {
        k for k in BIG_KEYS if k.startswith("d2") and k.endswith(".log")
    }


async def test_a_delimited_listing_pages_through_a_wide_directory(
    counter: CountingProxy, big_bucket: str
) -> None:
    found = [p.key async for p in AsyncS3Path("/", big_bucket, "wide").glob("*")]
    assert found == [f"wide/w{j:04d}.txt" for j in range(1500)]
    listings = _listings(counter)
    assert len(listings) == 2
    assert all(q["prefix"] == "wide/" and q["delimiter"] == "/" for q in listings)


async def test_implied_directories_of_deep_patterns_in_later_pages(
    big_bucket: str, s3: S3Server
) -> None:
    base = AsyncS3Path("/", big_bucket)
    dirs = [p.key async for p in base.glob("*/*/")]
    assert dirs == []
    firsts = [p.key async for p in base.glob("*/f000.*")]
    assert firsts == [f"{d}/f000.log" for d in BIG_DIRS]
    lasts = [p.key async for p in base.rglob("w1499.txt")]
    assert lasts == ["wide/w1499.txt"]
