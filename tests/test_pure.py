"""``PureS3Path``: path arithmetic for S3, with no server, no network and no event loop.

These tests double as the reference for how a pure path behaves:

* the constructor normalises like s3path (``..`` collapses against its parent, ``.`` and empty
  segments and a trailing ``/`` are dropped);
* ``from_bucket_key``, ``from_uri`` (and listings) keep every character of a key, so keys such as
  ``a//b`` or ``dir/`` stay addressable;
* the rest of the :class:`pathlib.PurePath` interface behaves as pathlib's, checked against
  ``pathlib.PurePosixPath`` where the two are meant to agree; ``full_match`` follows Python 3.13
  (the expected values below were written from its documentation and checked on 3.13.0);
* a ``PureS3Path`` is not a local file: it has no ``__fspath__``.
"""

from __future__ import annotations

import copy
import itertools
import operator
import os
import pathlib
import pickle
import sys
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aios3path import PureS3Path
from aios3path._glob import compile_segment, has_magic, translate_path

RELATIVE_MESSAGE = "relative path have no bucket, key specification"


# -- construction and normalisation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("/bucket/key",), "/bucket/key"),
        (("/bucket", "dir", "file.txt"), "/bucket/dir/file.txt"),
        (("/bucket/a/../b",), "/bucket/b"),  # ``..`` collapses against its parent (s3path)
        (("foo/../bar",), "bar"),
        (("a/b/../../c",), "c"),
        (("a/../..",), ".."),  # nothing left to cancel in a relative path: ``..`` stays
        (("../a",), "../a"),
        (("/..",), "/"),  # ``..`` at the root stays at the root
        (("/bucket/../..",), "/"),
        (("/bucket/./a//b/",), "/bucket/a/b"),  # ``.``, empty segments, trailing ``/`` dropped
        (("//bucket//key",), "/bucket/key"),  # unlike POSIX, ``//`` is not a separate root
        (("/",), "/"),
        (("",), "."),
        ((".",), "."),
        ((), "."),
        (("a", "", "b"), "a/b"),
        (("/bucket", "/other", "k"), "/other/k"),  # an absolute segment starts over
        (("a/b", ".."), "a"),
        (("/bucket", PureS3Path("dir"), "f"), "/bucket/dir/f"),
        ((PureS3Path("/bucket"), PureS3Path("/other")), "/other"),
        ((pathlib.PurePosixPath("/bucket/k"),), "/bucket/k"),  # os.PathLike is accepted
    ],
)
def test_constructor_normalises_like_s3path(args: tuple[Any, ...], expected: str) -> None:
    path = PureS3Path(*args)
    assert str(path) == expected
    assert path == PureS3Path(expected)


def test_dotdot_collapses_against_parent() -> None:
    assert PureS3Path("foo/../bar") == PureS3Path("bar")
    assert PureS3Path("/b/foo/../bar").key == "bar"


def test_str_repr_and_as_posix() -> None:
    path = PureS3Path("/bucket/dir/file.txt")
    assert str(path) == "/bucket/dir/file.txt"
    assert path.as_posix() == "/bucket/dir/file.txt"
    assert repr(path) == "PureS3Path('/bucket/dir/file.txt')"
    assert str(PureS3Path()) == "."


def test_joining_with_slash_and_joinpath() -> None:
    base = PureS3Path("/bucket")
    assert base / "dir" / "file" == PureS3Path("/bucket/dir/file")
    assert base / "dir/file/" == PureS3Path("/bucket/dir/file")
    assert base.joinpath("dir", "file") == PureS3Path("/bucket/dir/file")
    assert base.joinpath() == base
    assert base / "" == base
    assert base / "a" / ".." / "b" == PureS3Path("/bucket/b")
    assert base / PureS3Path("dir") == PureS3Path("/bucket/dir")
    # An absolute right operand starts over, as in pathlib.
    assert base / "/other/key" == PureS3Path("/other/key")
    assert base.joinpath("a", "/other", "b") == PureS3Path("/other/b")
    assert base / PureS3Path("/other") == PureS3Path("/other")


def test_str_on_the_left_of_slash() -> None:
    assert "/bucket" / PureS3Path("key") == PureS3Path("/bucket/key")
    assert "dir" / PureS3Path("file") == PureS3Path("dir/file")
    assert "/bucket" / PureS3Path("/other") == PureS3Path("/other")
    assert isinstance("/bucket" / PureS3Path("key"), PureS3Path)


@pytest.mark.parametrize("bad", [1, 1.5, None, b"/bucket/key", object()])
def test_bad_segment_types_raise_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        PureS3Path(bad)
    with pytest.raises(TypeError):
        PureS3Path("/bucket", bad)
    with pytest.raises(TypeError):
        PureS3Path("/bucket") / bad
    with pytest.raises(TypeError):
        bad / PureS3Path("key")
    with pytest.raises(TypeError):
        PureS3Path("/bucket").joinpath("a", bad)


def test_paths_are_immutable() -> None:
    path = PureS3Path("/bucket/key")
    with pytest.raises(AttributeError):
        path.anything = 1  # type: ignore[attr-defined]


class _Sub(PureS3Path):
    __slots__ = ()


def test_derived_paths_keep_the_subclass() -> None:
    path = _Sub("/bucket/dir/file.txt")
    derived = [
        path.parent,
        path.parents[1],
        path / "x",
        "/b" / path,
        path.joinpath("x"),
        path.with_name("y"),
        path.with_suffix(".md"),
        path.with_stem("z"),
        path.relative_to("/bucket"),
        path.with_segments("/other"),
        _Sub.from_uri("s3://b/k"),
        _Sub.from_bucket_key("b", "k"),
    ]
    assert all(type(p) is _Sub for p in derived)


class _WithSession(PureS3Path):
    """Python 3.12+'s way of carrying state: the constructor takes it, with_segments hands it on."""

    def __init__(self, *args: str | os.PathLike[str] | PureS3Path, session: str = "none") -> None:
        super().__init__(*args)
        self.session = session

    def with_segments(self, *args: str | os.PathLike[str] | PureS3Path) -> _WithSession:
        return type(self)(*args, session=self.session)


def test_with_segments_builds_every_derived_path_like_pathlib() -> None:
    path = _WithSession("/bucket/dir/file.txt", session="S")
    derived = {
        "parent": path.parent,
        "parents[0]": path.parents[0],
        "parents[-1]": path.parents[-1],
        "parents[:2][1]": path.parents[:2][1],
        "/": path / "x",
        "rtruediv": "/b" / path,
        "joinpath": path.joinpath("x", "y"),
        "with_name": path.with_name("y"),
        "with_stem": path.with_stem("z"),
        "with_suffix": path.with_suffix(".md"),
        "relative_to": path.relative_to("/bucket"),
        "relative_to walk_up": path.relative_to("/bucket/other", walk_up=True),
    }
    assert {name: (type(p), p.session) for name, p in derived.items()} == {
        name: (_WithSession, "S") for name in derived
    }
    assert str(derived["parents[-1]"]) == "/"
    assert str(derived["relative_to walk_up"]) == "../dir/file.txt"


def test_with_segments_receives_exact_paths_and_keeps_them_exact() -> None:
    path = _WithSession("/bucket", session="S") / PureS3Path.from_bucket_key("b", "a//c/")
    assert (path.key, path.session) == ("a//c/", "S")
    assert (path.with_name("d").key, path.with_name("d").session) == ("a//d/", "S")
    assert (path.parent.key, path.parent.session) == ("a/", "S")  # the empty segment after "a"
    assert path.parent != PureS3Path.from_bucket_key("bucket", "a/")


def test_paths_a_subclass_makes_by_itself_come_from_its_constructor() -> None:
    # As pathlib, whose from_uri and unpickling call the class: the state has its default.
    made = [
        _WithSession.from_uri("s3://b/a//k"),
        _WithSession.from_bucket_key("b", "a//k"),
        pickle.loads(pickle.dumps(_WithSession("/b/a", session="S"))),
    ]
    assert [(type(p), p.session) for p in made] == [(_WithSession, "none")] * 3
    assert made[0].key == made[1].key == "a//k"


# -- bucket, key, is_bucket --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "bucket", "key"),
    [
        ("/bucket/dir/file.txt", "bucket", "dir/file.txt"),
        ("/bucket/key", "bucket", "key"),
        ("/bucket", "bucket", ""),
        ("/bucket/", "bucket", ""),
        ("/", "", ""),
        ("/bucket/dir/", "bucket", "dir"),  # the constructor drops a trailing slash (s3path too)
    ],
)
def test_bucket_and_key(path: str, bucket: str, key: str) -> None:
    assert PureS3Path(path).bucket == bucket
    assert PureS3Path(path).key == key


@pytest.mark.parametrize("path", ["bucket/key", "key", ".", "../x"])
def test_relative_paths_have_no_bucket_or_key(path: str) -> None:
    with pytest.raises(ValueError, match=RELATIVE_MESSAGE):
        _ = PureS3Path(path).bucket
    with pytest.raises(ValueError, match=RELATIVE_MESSAGE):
        _ = PureS3Path(path).key


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/bucket", True),
        ("/bucket/", True),
        ("/bucket/key", False),
        ("/bucket/a/..", True),
        ("bucket", False),  # relative: not a bucket
        # s3path says True for "/" (a quirk); here "/" is the root of all buckets, not a bucket.
        ("/", False),
    ],
)
def test_is_bucket_is_a_property(path: str, expected: bool) -> None:
    assert PureS3Path(path).is_bucket is expected


# -- name, suffix, suffixes, stem ----------------------------------------------------------------

NAMES = [
    "file.txt",
    "archive.tar.gz",
    ".bashrc",
    ".config.json",
    "noext",
    "trailingdot.",
    "a..b",
    "..",
    "...",
    "x.y.",
    "ünï.cödé",
    "日本語.テキスト",
    "k=v",
    "sp ace.t xt",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("parent", ["/bucket/dir", "/bucket", "rel", ""])
def test_name_parts_agree_with_pathlib(parent: str, name: str) -> None:
    text = f"{parent}/{name}" if parent else name
    if name == "..":  # collapses in an S3 path; checked separately below
        return
    path, oracle = PureS3Path(text), pathlib.PurePosixPath(text)
    assert path.name == oracle.name
    assert path.suffix == oracle.suffix
    assert path.suffixes == oracle.suffixes
    assert path.stem == oracle.stem


def test_name_suffix_examples() -> None:
    path = PureS3Path("/bucket/dir/archive.tar.gz")
    assert path.name == "archive.tar.gz"
    assert path.suffix == ".gz"
    assert path.suffixes == [".tar", ".gz"]
    assert path.stem == "archive.tar"
    # The bucket is the name of a bucket path; the root and "." have an empty name.
    assert PureS3Path("/bucket").name == "bucket"
    assert PureS3Path("/").name == ""
    assert PureS3Path(".").name == ""
    assert PureS3Path("/").suffix == ""
    assert PureS3Path("/").suffixes == []
    assert PureS3Path("/").stem == ""


def test_with_name_stem_suffix() -> None:
    path = PureS3Path("/bucket/dir/file.txt")
    assert path.with_name("other.csv") == PureS3Path("/bucket/dir/other.csv")
    assert path.with_stem("report") == PureS3Path("/bucket/dir/report.txt")
    assert path.with_suffix(".md") == PureS3Path("/bucket/dir/file.md")
    assert path.with_suffix("") == PureS3Path("/bucket/dir/file")
    assert PureS3Path("/bucket/a.tar.gz").with_suffix(".zip") == PureS3Path("/bucket/a.tar.zip")
    assert PureS3Path("/bucket/noext").with_suffix(".txt") == PureS3Path("/bucket/noext.txt")
    assert PureS3Path("/bucket").with_name("other") == PureS3Path("/other")
    assert PureS3Path("rel/x.py").with_stem("y") == PureS3Path("rel/y.py")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("new", ["n", "n.txt", ".hidden", "a b", "ü"])
def test_with_name_and_stem_agree_with_pathlib(name: str, new: str) -> None:
    if name == "..":
        return
    text = f"/bucket/dir/{name}"
    path, oracle = PureS3Path(text), pathlib.PurePosixPath(text)
    assert str(path.with_name(new)) == str(oracle.with_name(new))
    try:
        expected = str(oracle.with_stem(new))
    except ValueError:
        with pytest.raises(ValueError):
            path.with_stem(new)
    else:
        assert str(path.with_stem(new)) == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("suffix", ["", ".txt", ".tar.gz", ".ü"])
def test_with_suffix_agrees_with_pathlib(name: str, suffix: str) -> None:
    if name == "..":
        return
    text = f"/bucket/dir/{name}"
    path, oracle = PureS3Path(text), pathlib.PurePosixPath(text)
    try:
        expected = str(oracle.with_suffix(suffix))
    except ValueError:
        with pytest.raises(ValueError):
            path.with_suffix(suffix)
    else:
        assert str(path.with_suffix(suffix)) == expected


@pytest.mark.parametrize("name", ["", "a/b", "/abs", "dir/", ".", ".."])
def test_with_name_rejects_invalid_names(name: str) -> None:
    # ".." is rejected too (pathlib allows it): in an S3 path it would collapse.
    with pytest.raises(ValueError, match="Invalid name"):
        PureS3Path("/bucket/file").with_name(name)


@pytest.mark.parametrize("path", ["/", ".", ""])
def test_with_name_on_an_empty_name(path: str) -> None:
    with pytest.raises(ValueError, match="has an empty name"):
        PureS3Path(path).with_name("x")
    with pytest.raises(ValueError, match="has an empty name"):
        PureS3Path(path).with_suffix(".x")
    with pytest.raises(ValueError):
        PureS3Path(path).with_stem("x")


@pytest.mark.parametrize("suffix", ["txt", ".", "./x", "/.x", ".a/b"])
def test_with_suffix_rejects_invalid_suffixes(suffix: str) -> None:
    with pytest.raises(ValueError, match="Invalid suffix"):
        PureS3Path("/bucket/file.txt").with_suffix(suffix)


def test_with_stem_to_an_empty_stem() -> None:
    # As Python 3.13: with a suffix, an empty stem would leave the name ".txt", whose stem is
    # ".txt" itself (Python 3.11 and 3.12 returned "/bucket/.txt").
    with pytest.raises(ValueError, match="has a non-empty suffix"):
        PureS3Path("/bucket/file.txt").with_stem("")
    with pytest.raises(ValueError, match="Invalid name"):
        PureS3Path("/bucket/file").with_stem("")
    with pytest.raises(TypeError):
        PureS3Path("/bucket/file.txt").with_stem(None)  # type: ignore[arg-type]


def test_with_name_type_errors() -> None:
    with pytest.raises(TypeError):
        PureS3Path("/bucket/file").with_name(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PureS3Path("/bucket/file").with_suffix(None)  # type: ignore[arg-type]


# -- parent, parents, parts, drive/root/anchor ------------------------------------------------


def test_parent() -> None:
    assert PureS3Path("/bucket/dir/file").parent == PureS3Path("/bucket/dir")
    assert PureS3Path("/bucket/key").parent == PureS3Path("/bucket")
    assert PureS3Path("/bucket").parent == PureS3Path("/")
    assert PureS3Path("/").parent == PureS3Path("/")  # the root is its own parent
    assert PureS3Path("a/b").parent == PureS3Path("a")
    assert PureS3Path("a").parent == PureS3Path(".")
    assert PureS3Path(".").parent == PureS3Path(".")
    assert PureS3Path("..").parent == PureS3Path(".")


def test_parents_sequence() -> None:
    path = PureS3Path("/bucket/a/b/c")
    parents = path.parents
    assert len(parents) == 4
    assert list(parents) == [
        PureS3Path("/bucket/a/b"),
        PureS3Path("/bucket/a"),
        PureS3Path("/bucket"),
        PureS3Path("/"),
    ]
    assert parents[0] == PureS3Path("/bucket/a/b")
    assert parents[3] == PureS3Path("/")
    assert parents[-1] == PureS3Path("/")
    assert parents[-4] == PureS3Path("/bucket/a/b")
    assert parents[1:3] == (PureS3Path("/bucket/a"), PureS3Path("/bucket"))
    assert parents[::-1] == (
        PureS3Path("/"),
        PureS3Path("/bucket"),
        PureS3Path("/bucket/a"),
        PureS3Path("/bucket/a/b"),
    )
    assert parents[::2] == (PureS3Path("/bucket/a/b"), PureS3Path("/bucket"))
    assert parents[10:] == ()
    for index in (4, -5, 100):
        with pytest.raises(IndexError):
            parents[index]
    assert PureS3Path("/bucket/a/b") in parents
    assert PureS3Path("/other") not in parents
    assert len(PureS3Path("/").parents) == 0
    assert list(PureS3Path("a/b").parents) == [PureS3Path("a"), PureS3Path(".")]
    assert len(PureS3Path(".").parents) == 0


@pytest.mark.parametrize("text", ["/bucket/a/b/c", "/bucket", "/", "a/b", "a", "."])
def test_parents_agree_with_pathlib(text: str) -> None:
    path, oracle = PureS3Path(text), pathlib.PurePosixPath(text)
    assert [str(p) for p in path.parents] == [str(p) for p in oracle.parents]
    assert str(path.parent) == str(oracle.parent)
    assert [str(p) for p in path.parents[1::2]] == [str(p) for p in oracle.parents[1::2]]
    assert [str(p) for p in path.parents[::-1]] == [str(p) for p in oracle.parents[::-1]]


@pytest.mark.parametrize(
    ("text", "parts", "root"),
    [
        ("/bucket/dir/file", ("/", "bucket", "dir", "file"), "/"),
        ("/bucket", ("/", "bucket"), "/"),
        ("/", ("/",), "/"),
        ("dir/file", ("dir", "file"), ""),
        (".", (), ""),
    ],
)
def test_parts_drive_root_anchor(text: str, parts: tuple[str, ...], root: str) -> None:
    path = PureS3Path(text)
    assert path.parts == parts == pathlib.PurePosixPath(text).parts
    assert path.drive == ""
    assert path.root == root
    assert path.anchor == root
    assert path.is_absolute() is (root == "/")


def test_is_reserved_is_always_false() -> None:
    assert PureS3Path("/bucket/nul").is_reserved() is False


# -- relative_to, is_relative_to ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "other", "expected"),
    [
        ("/bucket/a/b", "/bucket", "a/b"),
        ("/bucket/a/b", "/bucket/a", "b"),
        ("/bucket/a/b", "/bucket/a/b", "."),
        ("/bucket/a/b", "/", "bucket/a/b"),
        ("a/b/c", "a", "b/c"),
        ("a/b", ".", "a/b"),
    ],
)
def test_relative_to(path: str, other: str, expected: str) -> None:
    assert PureS3Path(path).relative_to(other) == PureS3Path(expected)
    assert PureS3Path(path).relative_to(PureS3Path(other)) == PureS3Path(expected)
    assert str(pathlib.PurePosixPath(path).relative_to(other)) == expected
    assert PureS3Path(path).is_relative_to(other)


@pytest.mark.parametrize(
    ("path", "other"),
    [
        ("/bucket/a", "/bucket/b"),
        ("/bucket/a", "/other"),
        ("/bucket/ab", "/bucket/a"),  # segment-wise, not a string prefix
        ("/bucket/a", "bucket"),  # absolute vs relative
        ("a", "/a"),
        ("a", "b"),
    ],
)
def test_relative_to_errors(path: str, other: str) -> None:
    with pytest.raises(ValueError):
        PureS3Path(path).relative_to(other)
    assert not PureS3Path(path).is_relative_to(other)


@pytest.mark.parametrize(
    ("path", "other", "expected"),
    [
        # Python 3.12's walk_up: climb out of ``other`` with ``..`` segments.
        ("/bucket/a/b", "/bucket/c", "../a/b"),
        ("/bucket/a/b", "/bucket/c/d", "../../a/b"),
        ("/bucket/a", "/bucket/a/b/c", "../.."),
        ("/bucket/a/b", "/other", "../bucket/a/b"),
        ("/bucket/a/b", "/bucket/a", "b"),
        ("a/b", "c", "../a/b"),
    ],
)
def test_relative_to_walk_up(path: str, other: str, expected: str) -> None:
    result = PureS3Path(path).relative_to(other, walk_up=True)
    assert str(result) == expected
    # Joining it back climbs out again and lands on the path.
    assert PureS3Path(other) / result == PureS3Path(path)


@pytest.mark.parametrize("key", ["src/../y", "src/..", "src/a/../b", "src/./x", "src//z"])
def test_a_key_relative_to_its_prefix_joins_back_to_the_same_key(key: str) -> None:
    """Keys are listed exactly, "a/../b" included; re-rooting one never leaves the new root.

    The relative path keeps the key's own ".." segments as segments, not climbs: the usual
    backup loop ``dst / p.relative_to(src)`` writes below ``dst``, never outside it.
    """
    src, dst = PureS3Path("/bkt/src"), PureS3Path("/bkt/backup")
    path = PureS3Path.from_bucket_key("bkt", key)
    relative = path.relative_to(src)
    assert src / relative == path
    assert (dst / relative).key == "backup/" + key[len("src/") :]
    assert (dst / pickle.loads(pickle.dumps(relative))).key == "backup/" + key[len("src/") :]
    assert (dst / PureS3Path(relative)).key == "backup/" + key[len("src/") :]
    assert (dst / relative / "q").key == "backup/" + key[len("src/") :] + "/q"


def test_only_the_segments_walk_up_added_climb() -> None:
    path = PureS3Path.from_bucket_key("bkt", "x/../y")
    relative = path.relative_to("/bkt/c", walk_up=True)
    assert str(relative) == "../x/../y"
    assert PureS3Path("/bkt/c") / relative == path
    # Typed by hand (or parsed from a string), ".." climbs as it always did.
    assert PureS3Path("/bkt/c") / PureS3Path("../x/../y") == PureS3Path("/bkt/y")


def test_relative_to_walk_up_errors() -> None:
    with pytest.raises(ValueError, match="different anchors"):
        PureS3Path("/bucket/a").relative_to("a", walk_up=True)
    with pytest.raises(ValueError, match="cannot be walked"):
        PureS3Path("a").relative_to("../b", walk_up=True)


def test_is_absolute() -> None:
    assert PureS3Path("/bucket/key").is_absolute()
    assert PureS3Path("/").is_absolute()
    assert not PureS3Path("bucket/key").is_absolute()
    assert not PureS3Path(".").is_absolute()


# -- URIs and from_bucket_key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/key", "/bucket/key"),
        ("s3://bucket/dir/file.txt", "/bucket/dir/file.txt"),
        ("s3://bucket", "/bucket"),
        ("s3://bucket/", "/bucket"),
        ("s3://", "/"),
        ("s3://bucket/a%3Ab", "/bucket/a:b"),  # percent-escapes are decoded (s3path issue #150)
        ("s3://bucket/sp%20ace/%23x", "/bucket/sp ace/#x"),
        ("s3://bucket/%C3%BC", "/bucket/ü"),
        ("s3://bucket/not%2Fescaped", "/bucket/not/escaped"),
        ("s3://bucket/100%", "/bucket/100%"),  # a stray % is kept
    ],
)
def test_from_uri(uri: str, expected: str) -> None:
    path = PureS3Path.from_uri(uri)
    assert path == PureS3Path(expected)
    assert type(path) is PureS3Path


@pytest.mark.parametrize(
    "uri", ["/bucket/key", "bucket/key", "file:///bucket/key", "http://bucket/key", "S3://b/k", ""]
)
def test_from_uri_rejects_non_s3_uris(uri: str) -> None:
    with pytest.raises(ValueError, match="Provided uri seems to be no S3 URI!"):
        PureS3Path.from_uri(uri)


def test_from_uri_rejects_a_key_without_a_bucket() -> None:
    with pytest.raises(ValueError):
        PureS3Path.from_uri("s3:///key")


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("/bucket/key", "s3://bucket/key"),
        ("/bucket/dir/file.txt", "s3://bucket/dir/file.txt"),
        ("/bucket", "s3://bucket"),
        ("/", "s3://"),
        ("/bucket/sp ace", "s3://bucket/sp%20ace"),
        ("/bucket/a#b", "s3://bucket/a%23b"),
        ("/bucket/a:b", "s3://bucket/a%3Ab"),
        ("/bucket/100%", "s3://bucket/100%25"),
        ("/bucket/q?x=1", "s3://bucket/q%3Fx%3D1"),
        ("/bucket/ü", "s3://bucket/%C3%BC"),
        ("/bucket/a-b_c.d~e", "s3://bucket/a-b_c.d~e"),  # unreserved characters stay
    ],
)
def test_as_uri_percent_quotes(path: str, uri: str) -> None:
    assert PureS3Path(path).as_uri() == uri
    assert PureS3Path.from_uri(uri) == PureS3Path(path)


@pytest.mark.parametrize("path", ["bucket/key", ".", "key"])
def test_as_uri_of_a_relative_path(path: str) -> None:
    with pytest.raises(ValueError):
        PureS3Path(path).as_uri()


def test_from_bucket_key() -> None:
    path = PureS3Path.from_bucket_key("bucket", "dir/file.txt")
    assert path == PureS3Path("/bucket/dir/file.txt")
    assert (path.bucket, path.key) == ("bucket", "dir/file.txt")
    assert PureS3Path.from_bucket_key("bucket", "") == PureS3Path("/bucket")
    assert PureS3Path.from_bucket_key("bucket", "").is_bucket
    assert type(_Sub.from_bucket_key("bucket", "k")) is _Sub


def test_from_bucket_key_errors() -> None:
    with pytest.raises(ValueError):
        PureS3Path.from_bucket_key("bucket/with/slash", "key")
    with pytest.raises(ValueError):
        PureS3Path.from_bucket_key("", "key")
    with pytest.raises(TypeError):
        PureS3Path.from_bucket_key("bucket", 1)  # type: ignore[arg-type]


# -- lossless keys ----------------------------------------------------------------------------

LOSSLESS_KEYS = [
    "a//b",
    "a/./b",
    "a/../b",
    "dir/",
    "/leading",
    "/",
    "//",
    "a//",
    ".",
    "..",
    "../x",
    "sp ace/ü/日本語",
    "k=v/x=1",
    "%25",
    "%2F",
    "#frag",
    "?q",
    "a+b&c;d",
    "tab\there",
    "back\\slash",
]


@pytest.mark.parametrize("key", LOSSLESS_KEYS)
def test_from_bucket_key_keeps_the_key_exactly(key: str) -> None:
    path = PureS3Path.from_bucket_key("bucket", key)
    assert path.key == key
    assert path.bucket == "bucket"
    assert str(path) == f"/bucket/{key}"  # the string is bucket and key, verbatim
    assert PureS3Path.from_uri(path.as_uri()) == path
    assert PureS3Path.from_uri(path.as_uri()).key == key
    # A hand-written URI is percent-decoded, so "%25" in it means "%".
    assert PureS3Path.from_uri(f"s3://bucket/{key}").key == unquote(key)
    clone = pickle.loads(pickle.dumps(path))
    assert clone == path
    assert clone.key == key
    assert hash(clone) == hash(path)
    assert copy.deepcopy(path).key == key


def test_exact_keys_differ_from_their_normalised_look_alikes() -> None:
    # Different S3 objects, so different paths: equality does not normalise.
    assert PureS3Path.from_bucket_key("b", "a//c") != PureS3Path("/b/a/c")
    assert PureS3Path.from_bucket_key("b", "a/./c") != PureS3Path("/b/a/c")
    assert PureS3Path.from_bucket_key("b", "a/../c") != PureS3Path("/b/c")
    assert PureS3Path.from_bucket_key("b", "dir/") != PureS3Path("/b/dir")
    assert PureS3Path.from_bucket_key("b", "/x") != PureS3Path("/b/x")
    # … while the constructor normalises a string with the same text.
    assert PureS3Path("/b/a//c").key == "a/c"
    assert PureS3Path("/b/dir/").key == "dir"


def test_from_uri_keeps_the_key_exactly() -> None:
    assert PureS3Path.from_uri("s3://b/a//c/").key == "a//c/"
    assert PureS3Path.from_uri("s3://b//x").key == "/x"
    assert PureS3Path.from_uri("s3://b/a/../c").key == "a/../c"


def test_trailing_slash_paths() -> None:
    """A key ending in ``/`` (a console "folder" marker) keeps its slash, with these meanings."""
    marker = PureS3Path.from_bucket_key("bucket", "photos/2024/")
    assert marker.key == "photos/2024/"
    assert str(marker) == "/bucket/photos/2024/"
    assert marker.parts == ("/", "bucket", "photos", "2024")
    # The slash is not a segment: the name is the last segment's.
    assert marker.name == "2024"
    assert marker.stem == "2024"
    # The parent is the shorter, ordinary path.
    assert marker.parent == PureS3Path("/bucket/photos")
    assert marker.parents[1] == PureS3Path("/bucket")
    # Joining appends below it, with one separator.
    assert marker / "x.jpg" == PureS3Path("/bucket/photos/2024/x.jpg")
    assert (marker / "x.jpg").key == "photos/2024/x.jpg"
    assert (marker / "sub/").key == "photos/2024/sub"  # a string's own trailing / is dropped
    # Joining nothing (or ".") keeps the path as it is.
    assert marker / "" == marker
    assert marker / "." == marker
    assert marker.joinpath() == marker
    assert (marker / "..").key == "photos"
    # Renaming keeps it a marker.
    assert marker.with_name("2025").key == "photos/2025/"
    assert marker.with_suffix(".bak").key == "photos/2024.bak/"
    # Relative to its parent, it is a relative path that keeps the slash.
    relative = marker.relative_to("/bucket/photos")
    assert str(relative) == "2024/"
    assert (PureS3Path("/other") / relative).key == "2024/"
    # match/full_match look at the segments only.
    assert marker.match("photos/2024")
    assert marker.match("*/2024")
    assert marker.full_match("/bucket/photos/*")
    assert marker.full_match("/bucket/**")


def test_a_trailing_slash_is_part_of_the_identity() -> None:
    marker = PureS3Path.from_bucket_key("bucket", "dir/")
    plain = PureS3Path.from_bucket_key("bucket", "dir")
    assert marker != plain
    assert len({marker, plain}) == 2
    assert plain < marker  # "dir" sorts before "dir/", as S3 lists them
    assert PureS3Path(marker) == marker  # wrapping an exact path keeps it exact


def test_paths_derived_from_keys_with_empty_segments() -> None:
    path = PureS3Path.from_bucket_key("bucket", "a//b")
    assert path.parts == ("/", "bucket", "a", "", "b")
    assert path.name == "b"
    # The parent is "a" followed by an empty segment: its key is "a/", and the listing prefix
    # that holds "a//b" is that key plus "/". It is not the marker object "a/", which lists
    # under "a/" itself.
    assert path.parent.key == "a/"
    assert path.parent.name == ""
    assert path.parent != PureS3Path.from_bucket_key("bucket", "a/")
    assert path.parent / "b" == path
    assert path.parents[1] == PureS3Path("/bucket/a")
    # A key that starts with "/": its first segment is empty.
    leading = PureS3Path.from_bucket_key("bucket", "/x")
    assert leading.parts == ("/", "bucket", "", "x")
    assert leading.parent.key == ""
    assert not leading.parent.is_bucket
    # Cut from a key, a relative path never prints like an absolute one.
    assert str(leading.relative_to("/bucket")) == ".//x"
    assert not leading.relative_to("/bucket").is_absolute()


def test_relative_parts_of_exact_keys_rejoin_exactly() -> None:
    """``dst / path.relative_to(src)`` moves an exact key under ``dst`` (prefix renames)."""
    src, dst = PureS3Path("/bucket/src"), PureS3Path("/bucket/dst")
    for key in ["src/a//b", "src/a/./b", "src/a/../b", "src/dir/", "src//x", "src/x/.."]:
        path = PureS3Path.from_bucket_key("bucket", key)
        moved = dst / path.relative_to(src)
        assert moved.key == "dst" + key[len("src") :]
        assert moved.relative_to(dst) == path.relative_to(src)


def test_leading_dotdot_of_a_relative_path_object_climbs() -> None:
    # A relative path's leading ".." climbs, whether it is given as a string or a path …
    assert PureS3Path("/b/a") / "../c" == PureS3Path("/b/c")
    assert PureS3Path("/b/a") / PureS3Path("../c") == PureS3Path("/b/c")
    # … but a ".." inside a relative path cut from an exact key is a literal segment.
    inner = PureS3Path.from_bucket_key("b", "x/a/../c").relative_to("/b/x")
    assert str(inner) == "a/../c"
    assert (PureS3Path("/b/y") / inner).key == "y/a/../c"


# -- equality, hashing, ordering ------------------------------------------------------------------


def test_equality_and_hash() -> None:
    assert PureS3Path("/bucket/key") == PureS3Path("/bucket/key")
    assert PureS3Path("/bucket/key") == PureS3Path("/bucket", "key")
    assert PureS3Path("/bucket/key") == PureS3Path.from_uri("s3://bucket/key")
    assert PureS3Path("/bucket/key") != PureS3Path("bucket/key")
    assert PureS3Path("/bucket/Key") != PureS3Path("/bucket/key")  # case-sensitive
    assert hash(PureS3Path("/bucket/key")) == hash(PureS3Path("/bucket/./key/"))
    assert len({PureS3Path("/b/k"), PureS3Path("/b/k/"), PureS3Path("/b", "k")}) == 1
    assert {PureS3Path("/b/k"): 1}[PureS3Path.from_bucket_key("b", "k")] == 1
    assert _Sub("/b/k") == PureS3Path("/b/k")
    assert hash(_Sub("/b/k")) == hash(PureS3Path("/b/k"))


@pytest.mark.parametrize(
    "other", ["/bucket/key", pathlib.PurePosixPath("/bucket/key"), None, 1, ("/", "bucket", "key")]
)
def test_never_equal_to_other_types(other: Any) -> None:
    path = PureS3Path("/bucket/key")
    assert path != other
    assert path.__eq__(other) is NotImplemented  # the other side decides, then identity
    assert other != path


@pytest.mark.parametrize("other", ["/bucket/key", pathlib.PurePosixPath("/bucket/key"), 1])
def test_ordering_with_other_types_raises(other: Any) -> None:
    path = PureS3Path("/bucket/key")
    for compare in (operator.lt, operator.le, operator.gt, operator.ge):
        with pytest.raises(TypeError):
            compare(path, other)
        with pytest.raises(TypeError):
            compare(other, path)


def test_sorting() -> None:
    paths = [
        PureS3Path("/b/z"),
        PureS3Path("/b/a/x"),
        PureS3Path("relative"),
        PureS3Path("/a"),
        PureS3Path("/b/a-b"),
        PureS3Path("/b/a"),
        PureS3Path("/"),
        PureS3Path("/b"),
        PureS3Path.from_bucket_key("b", "a/"),
        PureS3Path("."),
        PureS3Path("-rel"),
    ]
    assert [str(p) for p in sorted(paths)] == [
        "/",
        "/a",
        "/b",
        "/b/a",
        "/b/a/",
        "/b/a/x",  # segment by segment, like pathlib: "a/x" before "a-b"
        "/b/a-b",
        "/b/z",
        "-rel",  # absolute paths first; then "." sorts as the segment "." (Python 3.12+)
        ".",
        "relative",
    ]
    assert PureS3Path("/b/a") < PureS3Path("/b/b") <= PureS3Path("/b/b")
    assert PureS3Path("/b/b") > PureS3Path("/b/a") >= PureS3Path("/b/a")


def test_ordering_agrees_with_pathlib_on_normal_paths() -> None:
    texts = ["/b/a", "/b/a/b", "/b/a-b", "/b/a.b", "/b", "/", "/c", "/b/B", "/b/ä", "/b/a b"]
    ours = [str(p) for p in sorted(PureS3Path(t) for t in texts)]
    assert ours == [str(p) for p in sorted(pathlib.PurePosixPath(t) for t in texts)]


#: Segments that sort around the separator, the dot and each other.
_ORDER_SEGMENTS = ["a", "a b", "a-b", "a.b", "ab", "B", "ä", "-", ".x", "~", "日"]
#: Absolute and relative paths of up to two of those segments (three of the first four), with
#: the empty path, ``..`` and trailing slashes among them.
ORDER_TEXTS = sorted(
    {
        root + "/".join(segments)
        for root in ("/", "")
        for depth, pool in [
            (0, []),
            (1, _ORDER_SEGMENTS),
            (2, _ORDER_SEGMENTS),
            (3, ["a", "a b", "a-b", "-"]),
        ]
        for segments in itertools.product(pool, repeat=depth)
    }
    | {".", "./a", "a/.", "..", "../a", "../../a", "a/", "/a/"}
)


def _pathlib_312_sort_key(text: str) -> list[str]:
    """How Python 3.12+ orders ``PurePosixPath(text)``: by ``str(path).split("/")``."""
    return str(pathlib.PurePosixPath(text)).split("/")


def test_ordering_agrees_with_pathlib_3_12_on_absolute_and_relative_paths() -> None:
    assert len(ORDER_TEXTS) > 400
    ours = [str(p) for p in sorted(PureS3Path(t) for t in ORDER_TEXTS)]
    expected = [
        str(pathlib.PurePosixPath(t)) for t in sorted(ORDER_TEXTS, key=_pathlib_312_sort_key)
    ]
    assert ours == expected
    if sys.version_info >= (3, 12):  # and so does this Python's pathlib itself
        assert ours == [str(p) for p in sorted(pathlib.PurePosixPath(t) for t in ORDER_TEXTS)]


def test_each_comparison_agrees_with_pathlib_3_12() -> None:
    texts = ["/", "/b", "/b/a", ".", "a", "-", "..", "../a", "a/b", "/a b", "/a-b", "/a/b"]
    for x, y in itertools.product(texts, repeat=2):
        ours, theirs = PureS3Path(x), PureS3Path(y)
        key_x, key_y = _pathlib_312_sort_key(x), _pathlib_312_sort_key(y)
        assert (ours < theirs) is (key_x < key_y), (x, y)
        assert (ours <= theirs) is (key_x <= key_y), (x, y)
        assert (ours > theirs) is (key_x > key_y), (x, y)
        assert (ours >= theirs) is (key_x >= key_y), (x, y)


def test_ordering_is_total_and_agrees_with_equality() -> None:
    paths = [
        PureS3Path.from_bucket_key("b", k) for k in ["a", "a/", "a//", "/a", "", "a/b", "a//b"]
    ]
    paths += [PureS3Path.from_bucket_key("b", "a//b").parent, PureS3Path("/b/a")]
    # Relative paths that print alike: "." and the exact path "." below "x" (key "x/.").
    paths += [PureS3Path("."), PureS3Path.from_bucket_key("b", "x/.").relative_to("/b/x")]
    paths += [PureS3Path.from_bucket_key("b", "x//c").relative_to("/b/x"), PureS3Path("c")]
    for x in paths:
        for y in paths:
            assert (x == y) == (not (x < y) and not (y < x))
            assert (x <= y) == (x < y or x == y)


# -- pickling and copying -----------------------------------------------------------------------


def test_pickle_round_trip() -> None:
    for path in [
        PureS3Path("/bucket/dir/file.txt"),
        PureS3Path("relative/path"),
        PureS3Path("/"),
        PureS3Path("."),
        PureS3Path.from_bucket_key("bucket", "a//b/"),
        _Sub("/bucket/sub"),
    ]:
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            clone = pickle.loads(pickle.dumps(path, protocol=protocol))
            assert clone == path
            assert type(clone) is type(path)
            assert str(clone) == str(path)


def test_pickles_are_small_and_carry_no_client() -> None:
    data = pickle.dumps(PureS3Path("/bucket/key"))
    assert len(data) < 120
    for word in (b"client", b"botocore", b"session", b"loop"):
        assert word not in data.lower()


def test_copy_returns_an_equal_path() -> None:
    path = PureS3Path("/bucket/key")
    assert copy.copy(path) == path
    assert copy.deepcopy(path) == path


# -- not a local file -----------------------------------------------------------------------------


def test_os_fspath_raises_type_error() -> None:
    path = PureS3Path("/bucket/key")
    assert not isinstance(path, os.PathLike)
    with pytest.raises(TypeError):
        os.fspath(path)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        open(path)  # type: ignore[call-overload]  # noqa: SIM115
    with pytest.raises(TypeError):
        pathlib.Path(path)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        bytes(path)  # type: ignore[call-overload]


# -- match (pathlib semantics: from the right, one segment per pattern segment) -----------------

MATCH_PATHS = [
    "/",
    "/bucket",
    "/bucket/key",
    "/bucket/dir/file.py",
    "/a/b/c.py",
    "/bucket/.hidden",
    "/bucket/x.tar.gz",
    "/bucket/A/B.PY",
    "/bucket/a/b/c/d",
    "/bucket/[x]",
    "/bucket/a*b",
    "/bucket/ü/日本.txt",
    "a/b/c.py",
    "c.py",
    "a",
    ".",
]
MATCH_PATTERNS = [
    "*",
    "**",
    "*.py",
    "*/*.py",
    "b/*.py",
    "/a/*/*.py",
    "/*/*/*.py",
    "/*",
    "/bucket/*",
    "/",
    "/*/*",
    "a",
    "c.py",
    "c.p?",
    "?",
    "??",
    "[ab]",
    "[!a]",
    "[a-c]",
    "[a-c]/*",
    "[!x]*",
    "*.PY",
    ".*",
    "*.*",
    "*.tar.*",
    "*b",
    "a*",
    "a/**",
    "dir/*",
    "d*/*.py",
    "[[]x]",
    "a[*]b",
    "[",
    "a[",
    "[]]",
    "[!]]",
    "*/*/*/*",
    "日本.*",
    "ü/*",
    "[z-a]",
    "[a-]",
    "key/",
    "./key",
    "a/../b",
    "..",
]


#: Where one Python's ``match`` differs from 3.13's (which aios3path follows on every Python):
#: 3.12 matches the empty path ``.`` against ``**``; 3.11 and 3.13 do not.
_PATHLIB_3_13_MATCH = {(".", "**"): False}


def _root_reaching(path: str, pattern: str) -> bool:
    """A relative pattern with as many segments as the absolute path, root included.

    Python 3.11 then matches the root "/" against the first pattern segment, so ``*`` or ``?``
    match it; Python 3.12+ (and aios3path) never match the root with a wildcard.
    """
    segments = [s for s in pattern.split("/") if s not in ("", ".")]
    return (
        path.startswith("/")
        and not pattern.startswith("/")
        and (len(segments) == len(pathlib.PurePosixPath(path).parts))
    )


@pytest.mark.parametrize("pattern", MATCH_PATTERNS)
def test_match_agrees_with_pathlib(pattern: str) -> None:
    for text in MATCH_PATHS:
        if _root_reaching(text, pattern):
            continue
        expected = _PATHLIB_3_13_MATCH.get(
            (text, pattern), pathlib.PurePosixPath(text).match(pattern)
        )
        assert PureS3Path(text).match(pattern) is expected, (text, pattern)


def test_match_examples() -> None:
    path = PureS3Path("/bucket/dir/file.py")
    assert path.match("*.py")
    assert path.match("file.py")
    assert path.match("dir/*.py")
    assert path.match("/bucket/dir/*.py")  # an absolute pattern must match the whole path
    assert not path.match("/dir/*.py")
    assert not path.match("bucket/*.py")  # a relative pattern is matched from the right
    assert path.match("**/*.py")  # ``**`` is no more than ``*`` here, but ``*`` matches "dir"
    assert not PureS3Path("/bucket/a/b/file.py").match("/bucket/**/file.py")
    assert path.match(PureS3Path("dir/*.py"))  # a path is accepted as the pattern


def test_match_never_matches_the_root_with_a_wildcard() -> None:
    # Python 3.12+ behaviour; Python 3.11 answered True to the first three.
    assert not PureS3Path("/").match("*")
    assert not PureS3Path("/").match("?")
    assert not PureS3Path("/bucket").match("*/*")
    assert not PureS3Path("/").match("[!a]")
    assert PureS3Path("/").match("/")
    assert not PureS3Path("/bucket").match("/")


def test_match_case_sensitivity() -> None:
    path = PureS3Path("/bucket/Dir/File.PY")
    assert not path.match("*.py")
    assert path.match("*.py", case_sensitive=False)
    assert path.match("dir/*.py", case_sensitive=False)
    assert path.match("/BUCKET/*/*", case_sensitive=False)
    assert path.match("*.PY", case_sensitive=True)
    assert not path.match("[a-z]*.PY")
    assert path.match("[a-z]*.PY", case_sensitive=False)


def test_match_empty_pattern() -> None:
    for pattern in ("", ".", "./"):
        with pytest.raises(ValueError, match="empty pattern"):
            PureS3Path("/bucket/key").match(pattern)


def test_match_dotdot_in_a_pattern_is_literal() -> None:
    # Patterns are not paths: ".." does not collapse (pathlib agrees).
    assert not PureS3Path("/bucket/b").match("a/../b")
    assert PureS3Path.from_bucket_key("bucket", "a/../b").match("a/../b")


def test_match_on_exact_keys() -> None:
    # A lone "*" needs a non-empty segment (like a glob), so no pattern segment matches the empty
    # one in "a//b"; full_match's ``**`` can (see below).
    path = PureS3Path.from_bucket_key("bucket", "a//b")
    assert path.match("b")
    assert not path.match("*/b")
    assert not path.match("a/*/b")
    assert not path.match("a/**/b")
    # A trailing slash is not looked at.
    assert PureS3Path.from_bucket_key("bucket", "dir/").match("/bucket/dir")


# -- full_match (Python 3.13 semantics) -----------------------------------------------------------

# Each row was written from Python 3.13's pathlib documentation ("Pattern language") and checked
# against CPython 3.13.0's PurePosixPath.full_match.
FULL_MATCH_CASES = [
    # (path, pattern, expected)
    ("/a/b/c.py", "**/*.py", True),  # the example from the docs
    ("/a/b/c.py", "/a/**", True),
    ("/a/b/c.py", "/a/*/*.py", True),
    ("/a/b/c.py", "/a/*.py", False),  # ``*`` never crosses a "/"
    ("/a/b/c.py", "*.py", False),  # the whole path must match, not its tail
    ("/a/b/c.py", "/**/c.py", True),
    ("/a/b/c.py", "/a/**/c.py", True),  # ``**`` matches one segment …
    ("/a/c.py", "/a/**/c.py", True),  # … or none …
    ("/a/b/x/y/c.py", "/a/**/c.py", True),  # … or many
    ("/a/b/c.py", "/a/**/**/c.py", True),
    ("/a/b/c.py", "**", True),
    ("/a", "/a/**", False),  # a final ``**`` needs something below
    ("/a/b", "/a/**", True),
    ("/a", "/*", True),
    ("/", "/", True),
    ("/", "/*", False),
    ("/", "*", False),
    ("/", "**", True),
    ("/b", "**/b", False),  # the root is not a segment ``**`` can take
    ("b", "**/b", True),
    ("a/b", "a/**/b", True),
    ("a/b", "**/a/**/b/**", False),
    ("a/b/c", "*/*/*", True),
    ("a/b/c", "*/*", False),
    ("a/b/c", "a/*/c", True),
    ("a/c", "a/*/c", False),  # ``*`` is one whole non-empty segment
    ("a", "", False),
    (".", "", True),  # an empty pattern matches only the empty path
    (".", ".", True),
    (".", "*", False),
    (".", "**", True),
    ("a/b.txt", "a/b.t?t", True),
    ("a/b.txt", "a/b.t[a-z]t", True),
    ("a/b.txt", "a/b.t[!y]t", True),
    ("a/b.txt", "a/b.t[!a-z]t", False),
    ("a/.hidden", "a/*", True),  # hidden names are not special
    ("a/.hidden", "a/.*", True),
    ("a/b", "a/b/", True),  # a pattern's trailing slash is dropped
    ("a/b", "./a//b", True),  # empty and "." pattern segments are dropped
    ("b", "a/../b", False),  # ".." in a pattern is literal (it does not collapse)
    ("a", "[z-a]", False),  # a reversed range matches nothing
    ("-", "[a-]", True),
    ("a", "[a-]", True),
    ("]", "[]]", True),
    ("x", "[!]]", True),
    ("[", "[", True),  # an unclosed "[" is literal
    ("a[b", "a[b", True),
    ("a\\b", "a\\b", True),  # a backslash is literal
    ("x", "[\\x]", True),
    ("&", "[a&&b]", True),  # no regex set operations
    ("/a/b/c", "/a/***/c", True),
    ("a.py", "*.PY", False),
]


@pytest.mark.parametrize(("path", "pattern", "expected"), FULL_MATCH_CASES)
def test_full_match(path: str, pattern: str, expected: bool) -> None:
    assert PureS3Path(path).full_match(pattern) is expected


FULL_MATCH_CASE_INSENSITIVE = [
    # (path, pattern, expected with case_sensitive=True, expected with case_sensitive=False)
    ("/Bucket/Dir/File.PY", "/bucket/dir/*.py", False, True),
    ("/Bucket/Dir/File.PY", "**/*.py", False, True),
    ("/Bucket/Dir/File.PY", "/Bucket/**", True, True),
    ("a.py", "*.PY", False, True),
    ("A", "[a-c]", False, True),
    ("D", "[a-c]", False, False),
    ("A", "[!a]", True, False),
    ("ÜBER", "über", False, True),
]


@pytest.mark.parametrize(
    ("path", "pattern", "sensitive", "insensitive"), FULL_MATCH_CASE_INSENSITIVE
)
def test_full_match_case_sensitivity(
    path: str, pattern: str, sensitive: bool, insensitive: bool
) -> None:
    assert PureS3Path(path).full_match(pattern, case_sensitive=True) is sensitive
    assert PureS3Path(path).full_match(pattern) is sensitive  # S3 keys are case-sensitive
    assert PureS3Path(path).full_match(pattern, case_sensitive=False) is insensitive


def test_full_match_classes_never_match_a_separator() -> None:
    # pathlib documents "[seq]" as matching within a segment; CPython 3.13.0's translation lets a
    # negated class match "/" (PurePath("a/b").full_match("a[!x]b") is True there). Not here.
    assert not PureS3Path("a/b").full_match("a[!x]b")
    assert not PureS3Path("a/b").full_match("a[+-0]b")  # a range that spans "/"
    assert not PureS3Path("a/b").full_match("a?b")
    assert not PureS3Path("a/b").full_match("a*b")


def test_full_match_on_exact_keys() -> None:
    marker = PureS3Path.from_bucket_key("bucket", "dir/")
    assert marker.full_match("/bucket/dir")  # the trailing slash is not looked at
    assert marker.full_match("/bucket/*")
    doubled = PureS3Path.from_bucket_key("bucket", "a//b")
    assert not doubled.full_match("/bucket/a/*/b")  # ``*`` needs a non-empty segment
    assert doubled.full_match("/bucket/**/b")  # ``**`` takes "a" and the empty segment
    assert doubled.full_match("/bucket/a/**/b")  # … or the empty segment alone
    assert doubled.full_match("/bucket/a/**")
    assert not doubled.full_match("/bucket/a/b")
    assert PureS3Path.from_bucket_key("bucket", "a/..").full_match("/bucket/a/..")


def test_full_match_accepts_a_path_pattern() -> None:
    assert PureS3Path("/a/b/c.py").full_match(PureS3Path("/a/**/*.py"))
    assert PureS3Path("/a/b/c.py").full_match(pathlib.PurePosixPath("/a/**/*.py"))
    assert PureS3Path("a/b/c.py").full_match(_PathLike("a/*/c.py"))
    with pytest.raises(TypeError):
        PureS3Path("/a").full_match(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PureS3Path("/a").full_match(_PathLike(b"/a"))  # type: ignore[arg-type]


# -- path patterns (Python 3.12+ for match, 3.13 for full_match and glob) -------------------------


class _PathLike:
    """Any ``os.PathLike``, not only ``pathlib`` paths, may be a pattern."""

    def __init__(self, path: Any) -> None:
        self._path = path

    def __fspath__(self) -> Any:
        return self._path


@pytest.mark.parametrize("pattern", MATCH_PATTERNS)
def test_a_path_pattern_matches_as_its_string_form(pattern: str) -> None:
    as_path = pathlib.PurePosixPath(pattern)  # normalised: "a/../b" stays, "./key" is "key"
    for text in MATCH_PATHS:
        path = PureS3Path(text)
        try:
            expected = path.match(str(as_path))
        except ValueError:  # the empty pattern
            with pytest.raises(ValueError):
                path.match(as_path)
            with pytest.raises(ValueError):
                path.match(_PathLike(pattern))
            continue
        assert path.match(as_path) is expected, (text, pattern)
        assert path.match(_PathLike(str(as_path))) is expected, (text, pattern)


@pytest.mark.parametrize(("path", "pattern", "expected"), FULL_MATCH_CASES)
def test_a_path_pattern_full_matches_as_its_string_form(
    path: str, pattern: str, expected: bool
) -> None:
    as_path = pathlib.PurePosixPath(pattern)
    if str(as_path) != pattern.rstrip("/") or pattern == "":
        return  # the pattern is not a path's string form ("a//b", "./x", "" print otherwise)
    assert PureS3Path(path).full_match(as_path) is expected


def test_path_patterns_that_are_not_strings_are_type_errors() -> None:
    path = PureS3Path("/bucket/key")
    for bad in (_PathLike(b"*"), _PathLike(1), b"*", 1, None):
        with pytest.raises(TypeError):
            path.match(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            path.full_match(bad)  # type: ignore[arg-type]


# -- the glob helpers ------------------------------------------------------------------------------


def test_has_magic() -> None:
    assert has_magic("*.py")
    assert has_magic("a?")
    assert has_magic("[ab]")
    assert not has_magic("plain.txt")
    assert not has_magic("a]b")


def test_compile_segment_is_cached_and_anchored_by_fullmatch() -> None:
    assert compile_segment("*.py") is compile_segment("*.py")
    assert compile_segment("*.py").fullmatch("x.py")
    assert not compile_segment("*.py").fullmatch("x.pyc")
    assert not compile_segment("*").fullmatch("")
    assert compile_segment("a*").fullmatch("a")


def test_translate_path_is_a_plain_regex() -> None:
    assert translate_path("/bucket/*.py") == "/bucket/[^/]*\\.py"
    assert translate_path("a/**") == "a/.*"


# -- property-based: any key survives every round trip -----------------------------------------

KEY_ALPHABET = st.sampled_from(
    [*"/. =%#?+:&~ab-_\\\t", "ü", "日", "本", "é", "\u00a0", "😀", "\u200b"]
)
KEYS = st.text(alphabet=KEY_ALPHABET, max_size=24)
BUCKETS = st.sampled_from(["bucket", "my.bucket-1", "b"])
# No example database: the tests leave no files behind in the work tree.
QUICK = settings(deadline=None, max_examples=300, database=None)


@QUICK
@given(bucket=BUCKETS, key=KEYS)
def test_any_key_round_trips(bucket: str, key: str) -> None:
    path = PureS3Path.from_bucket_key(bucket, key)
    assert path.bucket == bucket
    assert path.key == key
    assert str(path) == (f"/{bucket}/{key}" if key else f"/{bucket}")
    via_uri = PureS3Path.from_uri(path.as_uri())
    assert via_uri == path
    assert via_uri.key == key
    assert hash(via_uri) == hash(path)
    clone = pickle.loads(pickle.dumps(path))
    assert clone == path
    assert clone.key == key


@QUICK
@given(key=KEYS, child=st.text(alphabet="abc.=% ü", min_size=1, max_size=5))
def test_any_key_joins_and_splits_exactly(key: str, child: str) -> None:
    path = PureS3Path.from_bucket_key("bucket", key)
    if child not in (".", ".."):
        # Joining a plain name appends it to the key with exactly one separator.
        joined = path / child
        expected = key + child if key == "" or key.endswith("/") else f"{key}/{child}"
        assert joined.key == expected
        assert joined.name == child
    # A key below the bucket, taken apart and put back together under another bucket.
    if key.split("/")[0] != "..":  # a leading ".." climbs when joined (see above)
        moved = PureS3Path("/other") / path.relative_to("/bucket")
        assert moved.key == key
    # parent + "/" + name gives the key back (less a trailing slash).
    core = key[:-1] if key.endswith("/") else key
    if "/" in core:
        assert f"{path.parent.key}/{path.name}" == core


@QUICK
@given(key=KEYS)
def test_normal_keys_agree_with_the_constructor(key: str) -> None:
    # A key with no empty, "." or ".." segment and no trailing slash means the same thing to
    # the constructor as to from_bucket_key; the other keys are normalised by the constructor.
    exact = PureS3Path.from_bucket_key("bucket", key)
    segments = key.split("/")
    normal = key == "" or all(s not in ("", ".", "..") for s in segments)
    assert (PureS3Path(f"/bucket/{key}") == exact) is normal
    assert (PureS3Path("/bucket", key) == exact) is normal
    assert (PureS3Path(str(exact)) == exact) is normal
