"""Pure S3 path arithmetic: no I/O, no event loop.

A path is a root (``"/"`` for absolute paths, ``""`` for relative ones), a tuple of segments and a
*trailing slash* flag. For an absolute path the first segment is the bucket and the rest, joined by
``/``, is the key.

Two ways of building a path exist, on purpose:

* the constructor (``PureS3Path("/bucket/a/../b/")``) normalises like s3path and pathlib do: empty
  and ``.`` segments are dropped, ``..`` cancels the segment before it and a trailing ``/`` is
  dropped;
* :meth:`PureS3Path.from_bucket_key`, :meth:`PureS3Path.from_uri` and every path yielded by a
  listing keep the key exactly as S3 stores it, so keys such as ``a//b``, ``a/./b`` or ``dir/``
  stay addressable.

A ``PureS3Path`` handed to the constructor (or to ``/``) is already parsed and is not normalised
again: its segments and its trailing slash are kept, except that the leading ``..`` segments of a
relative one climb out of the path before it (``PureS3Path("/b/a") / PureS3Path("../c")`` is
``/b/c``, as with a string). A path made by ``relative_to`` remembers which of its leading ``..``
segments climb (those ``walk_up`` added) and which belong to a key (``a/../b``, listed exactly): so
``base / p.relative_to(base) == p`` and ``dst / src_path.relative_to(src)`` re-creates an exact key
under ``dst``, never one outside it.

The trailing slash belongs to the final segment: ``.name`` ignores it, ``with_name``,
``with_stem`` and ``with_suffix`` keep it, ``parent``/``parents`` (shorter paths) drop it, and
joining decides by the last argument that adds segments (``dir/`` ``/ "x"`` is ``dir/x``).
``match`` and ``full_match`` ignore it, so the key ``dir/`` matches the pattern ``dir``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar, overload
from urllib.parse import quote, unquote

from ._glob import compile_full_match, compile_segment

_P = TypeVar("_P", bound="PureS3Path")
_V = TypeVar("_V", bound="PureVersionedS3Path")
_F = TypeVar("_F", bound=Callable[..., Any])

_RELATIVE_PATH_MESSAGE = "relative path have no bucket, key specification"


def _split_normalised(text: str) -> tuple[bool, list[str]]:
    """Split ``text`` into (is_absolute, segments), dropping empty and ``.`` segments."""
    return text.startswith("/"), [s for s in text.split("/") if s and s != "."]


def _append_collapsing(out: list[str], new: list[str], absolute: bool) -> None:
    """Append normalised segments to ``out``, letting ``..`` cancel the segment before it."""
    for segment in new:
        if segment == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not absolute:
                out.append(segment)
            # ``..`` at the root of an absolute path stays at the root.
        else:
            out.append(segment)


def _append_parsed(out: list[str], parts: tuple[str, ...], absolute: bool, climbing: int) -> None:
    """Append the segments of an already parsed relative path to ``out``, keeping them exactly.

    Only its leading ``..`` segments climb (all a constructor-made relative path can have), and
    at most ``climbing`` of them when that is not ``-1``: the others are keys' own segments.
    """
    climb = 0
    while climb < len(parts) and parts[climb] == ".." and climb != climbing:
        climb += 1
    _append_collapsing(out, list(parts[:climb]), absolute)
    out.extend(parts[climb:])


def _library_hook(function: _F) -> _F:
    """Mark a constructor or ``with_segments`` of this module's classes.

    Their paths are built without calling these hooks (see :meth:`PureS3Path.__init_subclass__`);
    a subclass that overrides one gets it called, as pathlib does.
    """
    setattr(function, "_aios3path_library_hook", True)  # noqa: B010  (a function attribute)
    return function


def _is_library_hook(function: object) -> bool:
    return getattr(function, "_aios3path_library_hook", False) is True


def _rebuild(
    cls: type[_P], root: str, parts: tuple[str, ...], trailing: bool, climbing: int = -1
) -> _P:
    """Unpickle a path (module level so that pickles stay small and stable)."""
    path = cls._from_parsed(root, parts, trailing)
    path._climbing = climbing
    return path


def pattern_string(pattern: str | os.PathLike[str] | PureS3Path) -> str:
    """The text of a glob or ``match`` pattern given as a string or as a path.

    As in pathlib (3.12+ for ``match``, 3.13 for ``glob``), a pattern may be a path object: a
    ``PureS3Path`` stands for its string form, an ``os.PathLike`` (``PurePosixPath("*.txt")``)
    for ``os.fspath()`` of it.
    """
    if isinstance(pattern, str):
        return pattern
    if isinstance(pattern, PureS3Path):
        return str(pattern)
    if isinstance(pattern, os.PathLike):
        text = os.fspath(pattern)
        if isinstance(text, str):
            return text
    raise TypeError(
        f"pattern must be str, an os.PathLike of str or PureS3Path, not {type(pattern).__name__!r}"
    )


def _pattern_segments(
    pattern: str | os.PathLike[str] | PureS3Path,
) -> tuple[bool, tuple[str, ...]]:
    """(is_absolute, segments) of a ``match`` pattern: no ``..`` collapsing, unlike paths."""
    if isinstance(pattern, PureS3Path):
        return bool(pattern._root), pattern._parts
    absolute, segments = _split_normalised(pattern_string(pattern))
    return absolute, tuple(segments)


class _PathParents(Sequence["PureS3Path"]):
    """The immutable sequence returned by :attr:`PureS3Path.parents`."""

    __slots__ = ("_path",)

    def __init__(self, path: PureS3Path) -> None:
        self._path = path

    def __len__(self) -> int:
        return len(self._path._parts)

    @overload
    def __getitem__(self, index: int) -> PureS3Path: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[PureS3Path, ...]: ...

    def __getitem__(self, index: int | slice) -> PureS3Path | tuple[PureS3Path, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        path = self._path
        return path._derive(path._root, path._parts[: len(path._parts) - index - 1], False)

    def __repr__(self) -> str:
        return f"<{type(self._path).__name__}.parents>"


class PureS3Path:
    """A path in S3: ``/bucket/key``, with the whole :class:`pathlib.PurePath` interface.

    ``PureS3Path`` does no I/O. It is immutable, hashable, ordered and picklable. It is not a local
    file: it deliberately has no ``__fspath__``, so ``open(path)`` on it fails instead of
    silently touching the local disk.
    """

    __slots__ = ("_climbing", "_parts", "_root", "_str", "_trailing")

    _root: str
    _parts: tuple[str, ...]
    _trailing: bool
    _str: str | None
    #: For a relative path: how many of its leading ``..`` segments climb out of the path it is
    #: joined to; ``-1``: all of them (a constructor-made path). A path made by ``relative_to``
    #: from exact keys may begin with ``..`` segments that are the keys' own, which must not.
    _climbing: int
    #: True for a subclass with its own ``with_segments``: paths derived from one of its paths
    #: (and, in the sync API, the paths its methods return) are built by it.
    _built_by_with_segments: ClassVar[bool] = False

    @_library_hook
    def __init__(self, *args: str | os.PathLike[str] | PureS3Path) -> None:
        root = ""
        out: list[str] = []
        trailing = False
        climbing = -1
        for arg in args:
            if isinstance(arg, PureS3Path):
                if arg._root:
                    root, out = arg._root, list(arg._parts)
                    trailing = arg._trailing
                elif arg._parts:
                    if not root and not out:  # it begins the path: so do its own ".." segments
                        climbing = arg._climbing
                    _append_parsed(out, arg._parts, bool(root), arg._climbing)
                    trailing = arg._trailing
                continue
            if isinstance(arg, os.PathLike):
                arg = os.fspath(arg)
            if not isinstance(arg, str):
                raise TypeError(
                    "argument should be a str, an os.PathLike object or a PureS3Path, "
                    f"not {type(arg).__name__!r}"
                )
            absolute, segments = _split_normalised(arg)
            if absolute:
                root, out = "/", []
            if absolute or segments:
                # A string's own trailing slash is dropped; "" and "." add nothing, so they
                # leave the trailing slash of an exact path before them alone.
                _append_collapsing(out, segments, bool(root))
                trailing = False
        self._root = root
        self._parts = tuple(out)
        self._trailing = trailing and bool(out)
        self._str = None
        self._climbing = -1 if root else climbing

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Route a subclass's paths through the hooks it overrides, as pathlib (3.12+) does.

        pathlib builds every path derived from another (``parent``, ``parents[i]``,
        ``with_name``, ``relative_to``…) with ``with_segments``, and the paths a class makes by
        itself (``from_uri``, unpickling, listings) with its constructor, so that a subclass can
        carry more state (a session, say). Our own hooks add nothing to what ``_from_parsed``
        sets, so they are skipped (this is the hot path); a subclass that overrides
        ``with_segments`` or ``__init__`` gets it called. (A versioned subclass's constructor is
        not: it needs the version, which is set after ``_from_parsed``.)
        """
        super().__init_subclass__(**kwargs)
        if not _is_library_hook(cls.with_segments):
            cls._built_by_with_segments = True
            cls._derive = PureS3Path._derive_with_segments  # type: ignore[method-assign]
        if not _is_library_hook(cls.__init__) and not issubclass(cls, PureVersionedS3Path):
            # The classmethod object itself: ``PureS3Path._from_parsed_by_constructor`` would be
            # bound to ``PureS3Path``.
            cls._from_parsed = vars(PureS3Path)["_from_parsed_by_constructor"]  # type: ignore[method-assign]

    # -- construction helpers -------------------------------------------------------------

    @classmethod
    def _from_parsed(cls: type[_P], root: str, parts: tuple[str, ...], trailing: bool) -> _P:
        """A path of this class with these exact parts (no normalisation, no constructor)."""
        path = cls.__new__(cls)
        path._root = root
        path._parts = parts
        path._trailing = trailing and bool(parts)
        path._str = None
        path._climbing = -1
        path._init_extra_from(None)
        return path

    @classmethod
    def _from_parsed_by_constructor(
        cls: type[_P], root: str, parts: tuple[str, ...], trailing: bool
    ) -> _P:
        """``_from_parsed`` for a class with its own constructor: built by it, exactly.

        A ``PureS3Path`` handed to the constructor keeps its parts and trailing slash.
        """
        return cls(PureS3Path._from_parsed(root, parts, trailing))

    def _init_extra_from(self, template: PureS3Path | None) -> None:
        """Hook for subclasses that carry more state than the path (versions)."""

    def _derive(
        self: _P, root: str, parts: tuple[str, ...], trailing: bool, climbing: int | None = None
    ) -> _P:
        """A path of the same class derived from this one (parent, with_name, …).

        A relative one keeps this one's count of climbing ``..`` segments unless ``climbing``
        says otherwise.
        """
        path = type(self)._from_parsed(root, parts, trailing)
        if not root:
            path._climbing = self._climbing if climbing is None else climbing
        path._init_extra_from(self)
        return path

    def _derive_with_segments(
        self: _P, root: str, parts: tuple[str, ...], trailing: bool, climbing: int | None = None
    ) -> _P:
        """``_derive`` for a class that overrides ``with_segments``: built by it, exactly."""
        template = PureS3Path._from_parsed(root, parts, trailing)
        if not root:
            template._climbing = self._climbing if climbing is None else climbing
        path = self.with_segments(template)
        path._init_extra_from(self)
        return path

    @classmethod
    def _from_bucket_key_exact(cls: type[_P], bucket: str, key: str) -> _P:
        """The path of ``key`` in ``bucket``, keeping every character of the key."""
        if not key:
            return cls._from_parsed("/", (bucket,) if bucket else (), False)
        segments = key.split("/")
        trailing = segments[-1] == ""
        if trailing:
            segments.pop()
        return cls._from_parsed("/", (bucket, *segments), trailing)

    @classmethod
    def _from_listing(cls: type[_P], bucket: str, key: str) -> _P:
        """The path of a listed object or of a listed "directory" (its prefix minus the last ``/``).

        Listed objects never end with ``/`` below their directory (such keys are directory
        markers, listed as directories), so no trailing-slash flag is set: a final empty segment
        is a real empty segment (the directory ``a/`` of the key ``a//b``).
        """
        return cls._from_parsed("/", (bucket, *key.split("/")) if key else (bucket,), False)

    @property
    def _directory_prefix(self) -> str:
        """The listing prefix of this path as a "directory": ``""`` for a bucket, else ``key/``.

        A path with a trailing slash (``dir/``) lists the same ``dir/`` as ``dir``.
        """
        if len(self._parts) < 2:
            return ""
        return "/".join(self._parts[1:]) + "/"

    @classmethod
    def from_uri(cls: type[_P], uri: str) -> _P:
        """The path named by an ``s3://bucket/key`` URI; percent-escapes are decoded.

        The key is kept exactly (``s3://b/a//c/`` has the key ``a//c/``), so that
        ``PureS3Path.from_uri(p.as_uri()) == p`` for every path but the directory with an
        empty name that holds ``a//c`` (its URI ``s3://b/a/`` reads back as the marker path
        ``a/``: the same key, another directory prefix).
        """
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise ValueError("Provided uri seems to be no S3 URI!")
        bucket, _, key = uri[len("s3://") :].partition("/")
        bucket = unquote(bucket)
        if "/" in bucket:
            raise ValueError(f"bucket name {bucket!r} in {uri!r} must not contain '/'")
        if not bucket and key:
            raise ValueError(f"{uri!r} has a key but no bucket")
        return cls._from_bucket_key_exact(bucket, unquote(key))

    @classmethod
    def from_bucket_key(cls: type[_P], bucket: str, key: str) -> _P:
        """The path of ``key`` in ``bucket``, keeping the key exactly as given.

        Unlike the constructor, no normalisation happens: ``from_bucket_key("b", "a//c/").key``
        is ``"a//c/"``.
        """
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise TypeError("bucket and key must be str")
        if not bucket:
            raise ValueError("bucket name must not be empty")
        if "/" in bucket:
            raise ValueError(f"bucket name {bucket!r} must not contain '/'")
        return cls._from_bucket_key_exact(bucket, key)

    @_library_hook
    def with_segments(self: _P, *args: str | os.PathLike[str] | PureS3Path) -> _P:
        """A new path of this class built from ``args`` (pathlib's constructor hook).

        Override it to carry state to derived paths: joins, ``parent``, ``parents``,
        ``with_name``/``with_stem``/``with_suffix`` and ``relative_to`` are built by it.
        """
        return type(self)(*args)

    # -- string forms ---------------------------------------------------------------------

    def __str__(self) -> str:
        text = self._str
        if text is None:
            if self._parts:
                text = self._root + "/".join(self._parts) + ("/" if self._trailing else "")
                if not self._root and not self._parts[0]:
                    # A relative path cut from a key with an empty segment (``a//b`` relative
                    # to ``a``) must not print like an absolute path.
                    text = "./" + text
            else:
                text = self._root or "."
            self._str = text
        return text

    def as_posix(self) -> str:
        """The path as a string with ``/`` separators (the same as ``str(path)``)."""
        return str(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def as_uri(self) -> str:
        """The ``s3://bucket/key`` URI of this absolute path, percent-escaped."""
        if not self._root:
            raise ValueError(f"relative path {str(self)!r} can't be expressed as a URI")
        if not self._parts:
            return "s3://"
        return "s3://" + quote(str(self)[1:], safe="/")

    # -- comparison, hashing, pickling ----------------------------------------------------

    def _identity(self) -> tuple[str, tuple[str, ...], bool]:
        return (self._root, self._parts, self._trailing)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PureS3Path):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _sort_key(self) -> tuple[tuple[str, ...], bool, str, tuple[str, ...]]:
        # Python 3.12+ orders paths by ``str(path).split("/")``: segment by segment, absolute paths
        # (whose first part is "") before relative ones, and ``.`` as the segment ".". These
        # segments order the same way without building the string: a trailing slash (a final "")
        # only ever decides between otherwise equal segments, and the root "/" (``["", ""]``)
        # comes first as ``("",)`` does. Exact paths can print alike (``.`` and the relative
        # path of the key ``x/.`` below ``x``), so the parts break ties: the order is total and
        # agrees with ``==``.
        parts = self._parts
        if self._root:
            segments = ("", *parts)
        elif parts and parts[0]:
            segments = parts
        else:  # "." and the exact relative paths that print as "./…"
            segments = (".", *parts)
        return (segments, self._trailing, self._root, parts)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PureS3Path):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def __le__(self, other: object) -> bool:
        if not isinstance(other, PureS3Path):
            return NotImplemented
        return self._sort_key() <= other._sort_key()

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, PureS3Path):
            return NotImplemented
        return self._sort_key() > other._sort_key()

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, PureS3Path):
            return NotImplemented
        return self._sort_key() >= other._sort_key()

    def __reduce__(self) -> tuple[Any, ...]:
        state: tuple[Any, ...] = (type(self), self._root, self._parts, self._trailing)
        if self._climbing != -1:
            state += (self._climbing,)
        return (_rebuild, state)

    # -- components -----------------------------------------------------------------------

    @property
    def drive(self) -> str:
        """Always ``""``: S3 paths have no drive."""
        return ""

    @property
    def root(self) -> str:
        """``"/"`` for an absolute path, ``""`` for a relative one."""
        return self._root

    @property
    def anchor(self) -> str:
        """The drive and root together: ``"/"`` or ``""``."""
        return self._root

    @property
    def parts(self) -> tuple[str, ...]:
        """The root (if any) followed by the segments: ``("/", "bucket", "dir", "file")``."""
        return ((self._root, *self._parts)) if self._root else self._parts

    @property
    def bucket(self) -> str:
        """The bucket name; ``""`` for ``/``. ``ValueError`` for a relative path."""
        if not self._root:
            raise ValueError(_RELATIVE_PATH_MESSAGE)
        return self._parts[0] if self._parts else ""

    @property
    def key(self) -> str:
        """The object key, exactly as S3 sees it; ``""`` for ``/`` and bucket paths.

        ``ValueError`` for a relative path.
        """
        if not self._root:
            raise ValueError(_RELATIVE_PATH_MESSAGE)
        if len(self._parts) < 2:
            return ""
        return "/".join(self._parts[1:]) + ("/" if self._trailing else "")

    @property
    def is_bucket(self) -> bool:
        """True for a path that names a whole bucket (``/bucket``)."""
        return bool(self._root) and len(self._parts) == 1

    @property
    def name(self) -> str:
        """The final segment, ``""`` for ``/`` and ``.``."""
        return self._parts[-1] if self._parts else ""

    @property
    def suffix(self) -> str:
        """The final segment's last extension, with its dot (``".gz"``), or ``""``."""
        name = self.name
        i = name.rfind(".")
        if 0 < i < len(name) - 1:
            return name[i:]
        return ""

    @property
    def suffixes(self) -> list[str]:
        """Every extension of the final segment (``[".tar", ".gz"]``)."""
        name = self.name
        if name.endswith("."):
            return []
        name = name.lstrip(".")
        return ["." + s for s in name.split(".")[1:]]

    @property
    def stem(self) -> str:
        """The final segment without its last suffix."""
        name = self.name
        suffix = self.suffix
        return name[: -len(suffix)] if suffix else name

    @property
    def parent(self: _P) -> _P:
        """The logical parent: ``/`` is its own parent, as is the relative ``.``."""
        if not self._parts:
            return self
        return self._derive(self._root, self._parts[:-1], False)

    @property
    def parents(self) -> Sequence[PureS3Path]:
        """The ancestors of the path, nearest first."""
        return _PathParents(self)

    # -- derived paths --------------------------------------------------------------------

    def _validated_name(self, name: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"name must be str, not {type(name).__name__!r}")
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"Invalid name {name!r}")
        return name

    def with_name(self: _P, name: str) -> _P:
        """This path with its final segment replaced by ``name``."""
        self._validated_name(name)
        if not self.name:
            raise ValueError(f"{self!r} has an empty name")
        return self._derive(self._root, (*self._parts[:-1], name), self._trailing)

    def with_stem(self: _P, stem: str) -> _P:
        """This path with the final segment's stem replaced (the suffix is kept).

        As in Python 3.13, an empty stem is a ``ValueError`` when there is a suffix (the name
        would be the suffix alone, ``.txt``, whose own stem is ``.txt``).
        """
        if not isinstance(stem, str):
            raise TypeError(f"stem must be str, not {type(stem).__name__!r}")
        suffix = self.suffix
        if not suffix:
            return self.with_name(stem)
        if not stem:
            raise ValueError(f"{self!r} has a non-empty suffix")
        return self.with_name(stem + suffix)

    def with_suffix(self: _P, suffix: str) -> _P:
        """This path with the final suffix changed (added, or removed with ``""``)."""
        if not isinstance(suffix, str):
            raise TypeError(f"suffix must be str, not {type(suffix).__name__!r}")
        if "/" in suffix or (suffix and (not suffix.startswith(".") or suffix == ".")):
            raise ValueError(f"Invalid suffix {suffix!r}")
        if not self.name:
            raise ValueError(f"{self!r} has an empty name")
        old = self.suffix
        stem = self.name[: -len(old)] if old else self.name
        return self.with_name(stem + suffix)

    def joinpath(self: _P, *others: str | os.PathLike[str] | PureS3Path) -> _P:
        """This path with ``others`` appended (an absolute one starts over)."""
        return self.with_segments(self, *others)

    def __truediv__(self: _P, other: str | os.PathLike[str] | PureS3Path) -> _P:
        try:
            return self.joinpath(other)
        except TypeError:
            return NotImplemented

    def __rtruediv__(self: _P, other: str | os.PathLike[str] | PureS3Path) -> _P:
        try:
            return self.with_segments(other, self)
        except TypeError:
            return NotImplemented

    def _coerce(self, other: str | os.PathLike[str] | PureS3Path) -> PureS3Path:
        return other if isinstance(other, PureS3Path) else PureS3Path(other)

    def relative_to(
        self: _P, other: str | os.PathLike[str] | PureS3Path, *, walk_up: bool = False
    ) -> _P:
        """This path relative to ``other``; ``ValueError`` when it is not under it.

        With ``walk_up=True``, ``..`` segments climb out of ``other`` as in Python 3.12.
        """
        base = self._coerce(other)
        if base._root != self._root:
            raise ValueError(f"{str(self)!r} and {str(base)!r} have different anchors")
        n = len(base._parts)
        if self._parts[:n] == base._parts:  # none of its ".." segments climb: they are keys'
            return self._derive("", self._parts[n:], self._trailing, climbing=0)
        if not walk_up:
            raise ValueError(f"{str(self)!r} is not in the subpath of {str(base)!r}")
        common = 0
        while common < min(n, len(self._parts)) and base._parts[common] == self._parts[common]:
            common += 1
        if ".." in base._parts[common:]:
            raise ValueError(f"'..' segment in {str(base)!r} cannot be walked")
        ups = ("..",) * (n - common)
        return self._derive("", ups + self._parts[common:], self._trailing, climbing=len(ups))

    def is_relative_to(self, other: str | os.PathLike[str] | PureS3Path) -> bool:
        """True when this path is ``other`` or below it."""
        base = self._coerce(other)
        return base._root == self._root and self._parts[: len(base._parts)] == base._parts

    def is_absolute(self) -> bool:
        """True for paths that start at ``/`` (the only ones that can be used for I/O)."""
        return bool(self._root)

    def is_reserved(self) -> bool:
        """Always False: S3 reserves no names."""
        return False

    def match(
        self,
        path_pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
    ) -> bool:
        """pathlib's ``match``: a relative pattern matches from the right, segment by segment.

        ``*``, ``?`` and ``[seq]`` match within one segment (a lone ``*`` one non-empty segment;
        ``**`` is no more than ``*`` here); an absolute pattern must match the whole path. Empty
        and ``.`` pattern segments are ignored, ``..`` is literal. An empty pattern is a
        ``ValueError``. The root is never matched by a wildcard (Python 3.12+; 3.11 let ``*``
        match it). The pattern may be a path (``PurePosixPath("*.txt")``), as in Python 3.12+.
        """
        absolute, pattern_parts = _pattern_segments(path_pattern)
        if not absolute and not pattern_parts:
            raise ValueError("empty pattern")
        path_parts = self._parts
        if absolute:
            if not self._root or len(pattern_parts) != len(path_parts):
                return False
        elif len(pattern_parts) > len(path_parts):
            return False
        flags = 0 if case_sensitive is None or case_sensitive else re.IGNORECASE
        for part, pat in zip(reversed(path_parts), reversed(pattern_parts), strict=False):
            if not compile_segment(pat, flags).fullmatch(part):
                return False
        return True

    def full_match(
        self,
        pattern: str | os.PathLike[str] | PureS3Path,
        *,
        case_sensitive: bool | None = None,
    ) -> bool:
        """Python 3.13's ``full_match``: the whole path against a glob pattern.

        ``**`` as a whole segment matches any number of segments, ``*`` as a whole segment one
        non-empty segment. An empty pattern (or ``.``) matches only the empty path ``.``. The
        pattern may be a path (``PurePosixPath("**/*.py")``).
        """
        if isinstance(pattern, PureS3Path):
            pattern = pattern._root + "/".join(pattern._parts)
        else:
            pattern = pattern_string(pattern)
        flags = 0 if case_sensitive is None or case_sensitive else re.IGNORECASE
        text = self._root + "/".join(self._parts)
        return compile_full_match(pattern, flags).fullmatch(text) is not None

    @classmethod
    def _listing_class(cls) -> type[PureS3Path]:
        """The class of paths yielded by listings below a path of this class."""
        return cls


def _rebuild_versioned(
    cls: type[_V], root: str, parts: tuple[str, ...], trailing: bool, version_id: str | None
) -> _V:
    """Unpickle a versioned path."""
    path = cls._from_parsed(root, parts, trailing)
    path.version_id = version_id  # type: ignore[assignment]
    return path


class PureVersionedS3Path(PureS3Path):
    """A path plus a ``version_id``: one version of one object (s3path's semantics).

    Equality and hashing ignore the version, as in s3path. Joining follows the right operand:
    ``v / "x"`` and ``v / plain_path`` are plain paths, ``plain / v`` and ``"x" / v`` keep ``v``'s
    version. ``parent``, ``with_name`` and the other derived paths keep the version.
    """

    __slots__ = ("version_id",)

    version_id: str
    #: The non-versioned class that plain joins and listings produce.
    _plain_class: ClassVar[type[PureS3Path]] = PureS3Path

    @_library_hook
    def __init__(self, *args: str | os.PathLike[str] | PureS3Path, version_id: str) -> None:
        if not isinstance(version_id, str):
            raise TypeError(f"version_id must be str, not {type(version_id).__name__!r}")
        if not version_id:
            raise ValueError("version_id must not be empty")
        super().__init__(*args)
        self.version_id = version_id

    def _init_extra_from(self, template: PureS3Path | None) -> None:
        self.version_id = getattr(template, "version_id", None)  # type: ignore[assignment]

    @classmethod
    def from_uri(cls: type[_V], uri: str, *, version_id: str) -> _V:  # type: ignore[override]
        """The version ``version_id`` of the object named by an ``s3://bucket/key`` URI."""
        path = PureS3Path.from_uri(uri)
        return cls(path, version_id=version_id)._keep_exact(path)

    @classmethod
    def from_bucket_key(  # type: ignore[override]
        cls: type[_V], bucket: str, key: str, *, version_id: str
    ) -> _V:
        """The version ``version_id`` of ``key`` in ``bucket`` (the key kept exactly)."""
        path = PureS3Path.from_bucket_key(bucket, key)
        return cls(path, version_id=version_id)._keep_exact(path)

    def _keep_exact(self: _V, path: PureS3Path) -> _V:
        self._root, self._parts, self._trailing = path._root, path._parts, path._trailing
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, version_id={self.version_id!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_versioned,
            (type(self), self._root, self._parts, self._trailing, self.version_id),
        )

    @_library_hook
    def with_segments(self, *args: str | os.PathLike[str] | PureS3Path) -> Any:
        """A path built from ``args``: versioned (with its version) if the last one is."""
        last = args[-1] if args else None
        if isinstance(last, PureVersionedS3Path):
            return type(self)(*args, version_id=last.version_id)
        return self._plain_class(*args)

    def joinpath(self, *others: str | os.PathLike[str] | PureS3Path) -> Any:
        """This path with ``others`` appended; versioned only if the last one is."""
        return self.with_segments(self, *others)

    def __truediv__(self, other: str | os.PathLike[str] | PureS3Path) -> Any:
        try:
            return self.joinpath(other)
        except TypeError:
            return NotImplemented

    def __rtruediv__(self, other: str | os.PathLike[str] | PureS3Path) -> Any:
        try:
            return type(self)(other, self, version_id=self.version_id)
        except TypeError:
            return NotImplemented

    @classmethod
    def _listing_class(cls) -> type[PureS3Path]:
        return cls._plain_class
