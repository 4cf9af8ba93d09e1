"""``S3Path``: the synchronous shim, generic over ``AsyncS3Path``.

Each method is one line: ``exists = _blocking(AsyncS3Path.exists)`` runs the async method on
the background loop (:mod:`aios3path._runner`) and converts the paths it returns to the sync
class. No S3 logic lives here.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from . import _runner, _sync_io
from ._path import AsyncS3Path, AsyncVersionedS3Path, WalkError
from ._pure import PureS3Path, PureVersionedS3Path
from ._unsupported import NoLocalFilesystemMixin

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: Sync class for each async class, filled by :func:`sync_twin_of` and :func:`_async_class_of`.
_SYNC_OF: dict[type[AsyncS3Path], type[PureS3Path]] = {}
_ASYNC_OF: dict[type[PureS3Path], type[AsyncS3Path]] = {}


def sync_twin_of(async_cls: type[AsyncS3Path]) -> Callable[[type[_R]], type[_R]]:
    """Class decorator: the decorated sync class runs ``async_cls``'s methods."""

    def register(sync_cls: type[_R]) -> type[_R]:
        _SYNC_OF[async_cls] = sync_cls  # type: ignore[assignment]
        _ASYNC_OF[sync_cls] = async_cls  # type: ignore[index]
        for name, member in vars(sync_cls).items():
            if callable(member) and hasattr(member, "__wrapped__"):
                # Name the portal after its own class, so that ``S3Path.read_bytes`` pickles
                # (by reference) for process pools.
                member.__qualname__ = f"{sync_cls.__qualname__}.{name}"
                member.__module__ = sync_cls.__module__
        return sync_cls

    return register


def _async_class_of(sync_cls: type[PureS3Path]) -> type[AsyncS3Path]:
    """The async class whose methods ``sync_cls``'s methods run.

    A user's subclass of ``S3Path`` (or of ``VersionedS3Path``) gets its own async twin, made
    on first use below the twin of its nearest registered base, so that the paths its methods
    return convert back to the user's class. The twin carries no state of its own: it pickles
    as the sync path it stands for.
    """
    twin = _ASYNC_OF.get(sync_cls)
    if twin is not None:
        return twin
    if not issubclass(sync_cls, S3Path):  # a pure path: the plain async class does its I/O
        return AsyncS3Path
    base = next(_ASYNC_OF[cls] for cls in sync_cls.__mro__ if cls in _ASYNC_OF)
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__module__": sync_cls.__module__,
        "__qualname__": f"Async{sync_cls.__qualname__}",
        "__doc__": f"The async twin of {sync_cls.__qualname__} (made by aios3path).",
        "__reduce__": _reduce_async_twin,
    }
    plain = getattr(sync_cls, "_plain_class", None)  # what listings below a versioned path yield
    if isinstance(plain, type) and issubclass(plain, S3Path) and plain is not sync_cls:
        namespace["_plain_class"] = _async_class_of(plain)
    made = type(f"Async{sync_cls.__name__}", (base,), namespace)
    # Two threads may race here: the first twin stored wins, the other is dropped unused.
    twin = _ASYNC_OF.setdefault(sync_cls, made)
    _SYNC_OF.setdefault(twin, sync_cls)
    return twin


def _sync_class_of(async_cls: type[AsyncS3Path]) -> type[PureS3Path]:
    """The sync class of ``async_cls``: its registered twin, else its nearest registered base's."""
    sync_cls = _SYNC_OF.get(async_cls)
    if sync_cls is None:  # a user's subclass of AsyncS3Path
        sync_cls = next((_SYNC_OF[cls] for cls in async_cls.__mro__ if cls in _SYNC_OF), S3Path)
    return sync_cls


def _reduce_async_twin(path: AsyncS3Path) -> tuple[Any, ...]:
    """Pickle a generated async twin as the user's sync path, converted back on loading."""
    return (to_async, (to_sync(path),))


def _convert(cls: type[PureS3Path], path: PureS3Path, template: PureS3Path | None = None) -> Any:
    if cls._built_by_with_segments and type(template) is cls:
        # As pathlib: a path a method returns is built by the caller's ``with_segments``, so a
        # subclass that carries state (a session…) hands it on.
        exact = PureS3Path._from_parsed(path._root, path._parts, path._trailing)
        twin = template.with_segments(exact)
    else:
        twin = cls._from_parsed(path._root, path._parts, path._trailing)
    twin._init_extra_from(path)
    return twin


def to_sync(value: Any, template: PureS3Path | None = None) -> Any:
    """``value`` with every async path in it replaced by its sync twin.

    ``template`` is the sync path whose method returned ``value``: paths of its class are built
    by its ``with_segments`` when its class overrides it.
    """
    if isinstance(value, AsyncS3Path):
        cls = _SYNC_OF.get(type(value)) or _sync_class_of(type(value))
        return _convert(cls, value, template)
    if type(value) is tuple:  # not subclasses: StatResult stays what it is
        # Lists inside (walk's dirnames) are passed as they are, so that pruning them works.
        return tuple(to_sync(v, template) for v in value)
    return value


def to_async(path: PureS3Path) -> AsyncS3Path:
    """The async twin of a sync path (the same path, version and class family)."""
    if isinstance(path, AsyncS3Path):
        return path
    cls = _ASYNC_OF.get(type(path)) or _async_class_of(type(path))
    async_path: AsyncS3Path = _convert(cls, path)
    return async_path


def _blocking(
    method: Callable[Concatenate[Any, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[Any, _P], _R]:
    """A sync method that runs the async ``method`` on the background loop."""
    name = method.__name__

    def call(self: PureS3Path, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        result = _runner.run(getattr(to_async(self), name)(*args, **kwargs))
        converted: _R = to_sync(result, self)
        return converted

    functools.update_wrapper(call, method)
    return call


def _blocking_pages(
    method: Callable[Concatenate[Any, _P], AsyncIterator[list[Any]]],
    doc_from: Callable[..., Any],
) -> Callable[Concatenate[Any, _P], Iterator[Any]]:
    """A sync generator over an async generator of pages (one loop crossing per page)."""
    name = method.__name__

    def call(self: PureS3Path, /, *args: _P.args, **kwargs: _P.kwargs) -> Iterator[Any]:
        pages = getattr(to_async(self), name)(*args, **kwargs)
        return _runner.iterate_pages(pages, functools.partial(to_sync, template=self))

    functools.update_wrapper(call, doc_from)
    return call


@sync_twin_of(AsyncS3Path)
class S3Path(NoLocalFilesystemMixin):
    """An S3 object or prefix with pathlib's methods, synchronous (a drop-in for s3path's).

    Every method runs :class:`AsyncS3Path`'s coroutine on a background event loop, so it works
    in scripts, in threads, inside a running event loop (Jupyter, a web handler) and after
    ``fork()``.
    """

    __slots__ = ()

    stat = _blocking(AsyncS3Path.stat)
    exists = _blocking(AsyncS3Path.exists)
    is_dir = _blocking(AsyncS3Path.is_dir)
    is_file = _blocking(AsyncS3Path.is_file)
    is_mount = _blocking(AsyncS3Path.is_mount)
    is_symlink = _blocking(AsyncS3Path.is_symlink)
    is_junction = _blocking(AsyncS3Path.is_junction)
    is_socket = _blocking(AsyncS3Path.is_socket)
    is_fifo = _blocking(AsyncS3Path.is_fifo)
    samefile = _blocking(AsyncS3Path.samefile)
    owner = _blocking(AsyncS3Path.owner)
    iterdir = _blocking_pages(AsyncS3Path._iterdir_pages, AsyncS3Path.iterdir)
    mkdir = _blocking(AsyncS3Path.mkdir)
    rmdir = _blocking(AsyncS3Path.rmdir)
    read_bytes = _blocking(AsyncS3Path.read_bytes)
    read_text = _blocking(AsyncS3Path.read_text)
    write_bytes = _blocking(AsyncS3Path.write_bytes)
    write_text = _blocking(AsyncS3Path.write_text)
    touch = _blocking(AsyncS3Path.touch)
    unlink = _blocking(AsyncS3Path.unlink)

    # -- streams and transfers (open, upload_from, download_to) --

    upload_from = _blocking(AsyncS3Path.upload_from)
    download_to = _blocking(AsyncS3Path.download_to)

    @overload
    def open(
        self,
        mode: _sync_io.TextReadMode | _sync_io.TextWriteMode = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _sync_io.TextFile: ...

    @overload
    def open(  # type: ignore[overload-overlap]  # buffering=0 gives the raw object
        self,
        mode: _sync_io.BinaryReadMode | _sync_io.BinaryWriteMode,
        buffering: _sync_io.Unbuffered,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> _sync_io.RawFile: ...

    @overload
    def open(
        self,
        mode: _sync_io.BinaryReadMode,
        buffering: int = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> _sync_io.BinaryReader: ...

    @overload
    def open(
        self,
        mode: _sync_io.BinaryWriteMode,
        buffering: int = -1,
        encoding: None = None,
        errors: None = None,
        newline: None = None,
    ) -> _sync_io.BinaryWriter: ...

    @overload
    def open(
        self,
        mode: str,
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> _sync_io.AnyFile: ...

    def open(
        self,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> Any:
        """Open the object as a standard :mod:`io` file object.

        Binary modes give an ``io.BufferedReader``/``io.BufferedWriter`` (the raw
        ``io.RawIOBase`` with ``buffering=0``), text modes an ``io.TextIOWrapper`` (UTF-8 unless
        ``encoding`` is given), so ``csv``, ``json``, ``zipfile``, ``tarfile`` and ``shutil``
        work unchanged. Modes and behaviour are those of :meth:`AsyncS3Path.open` (one streamed
        GET for sequential reads, a part per seek; multipart writers visible at close;
        ``x`` and ``a``; no ``+``), run on the background loop one buffer (1 MiB) at a time.
        An exception inside ``with path.open("w") as f:`` aborts the write: no object appears.
        """
        return _sync_io.open_sync(to_async(self), mode, buffering, encoding, errors, newline)

    glob = _blocking_pages(AsyncS3Path._glob_pages, AsyncS3Path.glob)
    rglob = _blocking_pages(AsyncS3Path._rglob_pages, AsyncS3Path.rglob)

    def walk(
        self,
        top_down: bool = True,
        on_error: Callable[[OSError], object] | None = None,
        follow_symlinks: bool = False,
    ) -> Iterator[tuple[S3Path, list[str], list[str]]]:
        """pathlib's ``walk``; see :meth:`AsyncS3Path.walk`. ``on_error`` runs in this thread."""
        pages = to_async(self)._walk_pages(top_down, on_error, follow_symlinks)
        for item in _runner.iterate_pages(pages, functools.partial(to_sync, template=self)):
            if isinstance(item, WalkError):
                if on_error is not None:
                    on_error(item.error)
            else:
                yield item

    rename = _blocking(AsyncS3Path.rename)
    replace = _blocking(AsyncS3Path.replace)
    move = _blocking(AsyncS3Path.move)
    move_into = _blocking(AsyncS3Path.move_into)
    copy = _blocking(AsyncS3Path.copy)
    copy_into = _blocking(AsyncS3Path.copy_into)
    get_presigned_url = _blocking(AsyncS3Path.get_presigned_url)
    iter_versions = _blocking_pages(AsyncS3Path._versions_pages, AsyncS3Path.iter_versions)


@sync_twin_of(AsyncVersionedS3Path)
class VersionedS3Path(PureVersionedS3Path, S3Path):
    """One version of an object, synchronous (s3path's ``VersionedS3Path``).

    Reads, ``stat``, ``exists`` and copies address that version; writes and deletes the plain
    key (a rename deletes it only while its current object has this version's content).
    """

    __slots__ = ()

    _plain_class = S3Path
