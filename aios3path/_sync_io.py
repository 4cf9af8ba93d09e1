"""Standard :mod:`io` objects over the async S3 streams, for ``S3Path.open()``.

``S3Path.open("rb")`` returns an ``io.BufferedReader`` over :class:`S3RawReader`, ``"wb"`` an
``io.BufferedWriter`` (:class:`S3BufferedWriter`) over :class:`S3RawWriter`, and text modes an
``io.TextIOWrapper`` over those, so ``csv``, ``json``, ``zipfile``, ``tarfile`` and
``shutil.copyfileobj`` work unchanged. The raw objects run the async reader and writer of
:mod:`aios3path._file` on the background loop (:mod:`aios3path._runner`), one loop crossing per
buffer (1 MiB by default), so they share their memory bounds and request patterns.

Leaving a ``with`` block by an exception aborts a write (no object, no parts left), unlike a
local file, which keeps what was written. Files still open when the interpreter exits are
closed first, as it flushes local ones: a writer completes its object.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import io
import os
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, NoReturn, TypeAlias, TypeVar

from . import _file, _runner
from ._file import (
    S3ObjectReader,
    S3ObjectWriter,
    check_text_arguments,
    open_async,
    parse_mode,
)

if TYPE_CHECKING:
    from ._path import AsyncS3Path

_T = TypeVar("_T")

#: Default buffer of the sync objects: each refill or flush is one crossing to the loop.
DEFAULT_SYNC_BUFFER_SIZE = 1024 * 1024


_on_runner_thread = _runner.on_runner_thread


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    return _runner.run(coroutine)


class _Crossing:
    """Raw objects' calls to the loop, noting which thread is in the middle of one."""

    #: The thread (``threading.get_ident()``) waiting on the loop for this object, if any.
    _busy_in: int | None = None
    #: True in a child made by ``os.fork()`` while the file was open: it belongs to the
    #: parent (its requests ran on the parent's loop), so here it only closes, without I/O.
    _inherited = False

    def _cross(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._inherited:
            coroutine.close()
            name = getattr(self, "name", "this S3 file")
            raise OSError(
                errno.EBADF,
                f"{name} was opened before os.fork(): it belongs to the parent process",
            )
        self._busy_in = threading.get_ident()
        try:
            return _run(coroutine)
        finally:
            self._busy_in = None


class S3RawReader(_Crossing, io.RawIOBase):
    """A seekable raw binary reader over :class:`~aios3path._file.S3ObjectReader`."""

    def __init__(self, reader: S3ObjectReader) -> None:
        super().__init__()
        self._reader = reader
        self._pos = 0

    @property
    def name(self) -> str:
        """The ``s3://`` URI of the object."""
        return self._reader.name

    @property
    def mode(self) -> str:
        """``"rb"``."""
        return "rb"

    @property
    def size(self) -> int:
        """The object's size, known since open."""
        return self._reader.size

    def readable(self) -> bool:
        """True (``ValueError`` once closed, as io files)."""
        self._checkClosed()
        return True

    def seekable(self) -> bool:
        """True: seeks are free, the next read fetches the part it lands in (``ValueError``
        once closed)."""
        self._checkClosed()
        return True

    def writable(self) -> bool:
        """False (``ValueError`` once closed)."""
        self._checkClosed()
        return False

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes, all the rest when ``size`` is negative or None (as
        ``FileIO.read``); ``b""`` at the end."""
        if size is None or size < 0:
            return self.readall()
        self._checkClosed()
        data = bytearray(min(size, max(self._reader.size - self._pos, 0)))
        count = self.readinto(data) if data else 0
        del data[count:]
        return bytes(data)

    def write(self, data: Any) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the object is open for reading."""
        raise io.UnsupportedOperation("File not open for writing")

    def readinto(self, buffer: Any) -> int:
        """Read into ``buffer`` at the current position (from the reader's stream or a part)."""
        self._checkClosed()
        with memoryview(buffer) as view:
            count = self._cross(self._reader.pread(self._pos, view.cast("B")))
        self._pos += count
        return count

    def readall(self) -> bytes:
        """The rest of the object in one crossing to the loop."""
        self._checkClosed()
        data = bytearray(max(self._reader.size - self._pos, 0))
        count = self.readinto(data) if data else 0
        del data[count:]
        return bytes(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` from the start, the current position or the end (no request)."""
        self._checkClosed()
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._pos + offset
        elif whence == io.SEEK_END:
            position = self._reader.size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position < 0:
            raise OSError(22, f"negative seek position {position}")
        self._pos = position
        return position

    def tell(self) -> int:
        """The current position."""
        self._checkClosed()
        return self._pos

    def close(self) -> None:
        """Stop the downloads in flight."""
        if self.closed:
            return
        try:
            if self._inherited:
                pass  # the parent's downloads: nothing to stop here
            elif _on_runner_thread():  # a finalizer on the loop's own thread
                self._reader.close_nowait()
            elif not _runner.shut_down():  # after the exit's shutdown, nothing can be sent
                self._cross(self._reader.close())
        finally:
            super().close()


class _AbortsOnError:
    """A ``with`` block left by an exception calls ``abort()`` before ``close()``."""

    # Both come from the classes this is mixed into (annotations only: nothing shadowed).
    abort: Callable[[], None]
    close: Callable[[], None]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        self.close()


class S3RawWriter(_Crossing, _AbortsOnError, io.RawIOBase):
    """A raw binary writer over :class:`~aios3path._file.S3ObjectWriter` (not seekable).

    ``close()`` completes the object; :meth:`abort` discards it. ``tell()`` is the number of
    bytes written (what ``zipfile`` and ``tarfile`` need to write a stream).
    """

    def __init__(self, writer: S3ObjectWriter) -> None:
        super().__init__()
        self._writer = writer
        self._aborted = False
        self._telling = False  # seekable() answers True (see _reporting_position)

    @property
    def name(self) -> str:
        """The ``s3://`` URI of the object."""
        return self._writer.name

    @property
    def mode(self) -> str:
        """The mode the object was opened with (``"wb"``, ``"xb"`` or ``"ab"``)."""
        return self._writer.mode

    def readable(self) -> bool:
        """False (``ValueError`` once closed, as io files)."""
        self._checkClosed()
        return False

    def writable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._checkClosed()
        return True

    def seekable(self) -> bool:
        """False: an object is written front to back (``ValueError`` once closed)."""
        self._checkClosed()
        return self._telling

    @contextlib.contextmanager
    def _reporting_position(self) -> Iterator[None]:
        """Answer ``seekable()`` True inside, while an ``io.TextIOWrapper`` is built on this
        writer: it then asks :meth:`tell` whether it starts at the start of the stream, as
        it does on a local file, and writes a byte-order mark (``utf-16``, ``utf-8-sig``…)
        there only, not when appending to an object that has bytes. Nothing else changes:
        the wrapper's ``seekable()`` asks again, and its ``seek()`` fails in the buffer.
        """
        self._telling = True
        try:
            yield
        finally:
            self._telling = False

    def read(self, size: int | None = -1) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the object is open for writing."""
        raise io.UnsupportedOperation("File not open for reading")

    def readall(self) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the object is open for writing."""
        raise io.UnsupportedOperation("File not open for reading")

    def readinto(self, buffer: Any) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the object is open for writing."""
        raise io.UnsupportedOperation("File not open for reading")

    def write(self, data: Any) -> int:
        """Hand ``data`` to the async writer (uploading full parts); returns its length."""
        self._checkClosed()
        with memoryview(data) as view:
            if self._aborted:
                return view.nbytes
            self._cross(self._writer.write(view))
            return view.nbytes

    def tell(self) -> int:
        """The number of bytes written so far."""
        self._checkClosed()
        return self._writer.position()

    def abort(self) -> None:
        """Discard the object: stop the uploads and abort the multipart upload."""
        if self.closed or self._aborted or self._inherited:
            return
        self._aborted = True
        if _on_runner_thread():
            self._writer.abort_nowait()
        elif not _runner.shut_down():
            self._cross(self._writer.abort())

    def close(self) -> None:
        """Complete the object (nothing to do after :meth:`abort`)."""
        if self.closed:
            return
        try:
            if self._aborted or self._inherited:
                return
            if _on_runner_thread():  # a finalizer on the loop's own thread cannot wait
                self._aborted = True
                self._writer.abort_nowait()
            elif not _runner.shut_down():  # (after the exit's shutdown, nothing can be sent)
                self._cross(self._writer.close())
        finally:
            super().close()


class S3BufferedWriter(_AbortsOnError, io.BufferedWriter):
    """``io.BufferedWriter`` whose ``with`` block aborts the upload when it raises."""

    def close(self) -> None:
        """Flush and complete the object; in a forked child, only close (the buffer's bytes
        are the parent's to write, with its own copy of them)."""
        if _inherited(self):
            self.raw.close()
            return
        super().close()

    def abort(self) -> None:
        """Discard the object, including what is still in the buffer."""
        raw = self.raw
        if isinstance(raw, S3RawWriter):
            raw.abort()


class S3TextIOWrapper(_AbortsOnError, io.TextIOWrapper):
    """``io.TextIOWrapper`` whose ``with`` block aborts a write when it raises."""

    def close(self) -> None:
        """Flush and close; in a forked child, only close (see :class:`S3BufferedWriter`)."""
        if _inherited(self):
            self.buffer.close()
            return
        super().close()

    def abort(self) -> None:
        """Discard a write (a reader has nothing to discard)."""
        abort = getattr(self.buffer, "abort", None)
        if abort is not None:
            abort()


async def _open_reader(path: AsyncS3Path) -> S3ObjectReader:
    reader: S3ObjectReader = await open_async(path._request, "rb", missing=path._raise_if_directory)
    return reader


async def _open_writer(path: AsyncS3Path, mode: str, kind: str) -> S3ObjectWriter:
    return await S3ObjectWriter.open(await path._request(), mode=mode, kind=kind)


def open_sync(
    path: AsyncS3Path,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
) -> IO[Any]:
    """``S3Path.open``: :mod:`io` objects over the async streams of ``path``.

    ``buffering=0`` gives the raw object (binary only), ``-1`` a 1 MiB buffer, ``1`` line
    buffering (text only), a larger number a buffer of that size.
    """
    parsed = parse_mode(mode)
    check_text_arguments(parsed, encoding, errors, newline)
    if not isinstance(buffering, int):
        raise TypeError(f"buffering must be an int, not {type(buffering).__name__}")
    if buffering == 0 and not parsed.binary:
        raise ValueError("can't have unbuffered text I/O")
    line_buffering = buffering == 1 and not parsed.binary
    size = DEFAULT_SYNC_BUFFER_SIZE if buffering < 0 or buffering == 1 else buffering
    path._require_key()
    raw: S3RawReader | S3RawWriter
    if parsed.reading:
        raw = S3RawReader(_run(_open_reader(path)))
    else:
        raw = S3RawWriter(_run(_open_writer(path, parsed.binary_mode, parsed.kind)))
    try:
        file: io.IOBase = raw
        if buffering != 0:
            buffered: io.BufferedReader | io.BufferedWriter
            if isinstance(raw, S3RawReader):
                buffered = io.BufferedReader(raw, size)
            else:
                buffered = S3BufferedWriter(raw, size)
            file = buffered
            if not parsed.binary:
                text = _text_wrapper(buffered, raw, encoding, errors, newline, line_buffering)
                text.mode = mode  # type: ignore[misc]
                file = text
    except BaseException:
        # The object stays as it was, whatever failed: a writer dropped unclosed would
        # complete an empty object when it is collected, so it is aborted first.
        with contextlib.suppress(Exception):
            if isinstance(raw, S3RawWriter):
                raw.abort()
            raw.close()
        raise
    _OPEN_FILES.add(file)
    return file  # type: ignore[return-value]


def _text_wrapper(
    buffer: io.BufferedReader | io.BufferedWriter,
    raw: S3RawReader | S3RawWriter,
    encoding: str | None,
    errors: str | None,
    newline: str | None,
    line_buffering: bool,
) -> S3TextIOWrapper:
    """The text layer of ``S3Path.open``; over a writer, built knowing where the stream
    starts, so that a byte-order mark is written at the start only (see
    :meth:`S3RawWriter._reporting_position`)."""
    position = (
        raw._reporting_position() if isinstance(raw, S3RawWriter) else contextlib.nullcontext()
    )
    with position:
        return S3TextIOWrapper(
            buffer,
            encoding=encoding or "utf-8",
            errors=errors,
            newline=newline,
            line_buffering=line_buffering,
        )


#: The file objects ``open_sync`` handed out (the outermost: closing it flushes its buffers).
_OPEN_FILES: weakref.WeakSet[io.IOBase] = weakref.WeakSet()


def _close_open_files() -> None:
    """At exit, before the background loop stops: close the files still open, as the
    interpreter flushes local ones (a writer completes its object).

    Not a file another thread is in the middle of using (a daemon thread closing it, say):
    that thread holds the file's lock, and waits for the loop, which the exit stops next;
    closing it here would wait for that thread forever. The loop's shutdown cancels what that
    thread started and aborts its upload instead.
    """
    here = threading.get_ident()
    for file in list(_OPEN_FILES):
        if file.closed:
            continue
        if getattr(_raw_of(file), "_busy_in", None) not in (None, here):
            continue
        try:
            file.close()
        except Exception as error:  # reported, and the others still closed
            name = getattr(file, "name", "an S3 file")
            print(f"aios3path: closing {name} at exit failed: {error!r}", file=sys.stderr)


def _raw_of(file: io.IOBase) -> Any:
    """The raw object under a file ``open_sync`` made (itself if it is one)."""
    raw: Any = getattr(file, "buffer", file)
    return getattr(raw, "raw", raw)


def _inherited(file: io.IOBase) -> bool:
    """True for a file a child made by ``os.fork()`` got from its parent."""
    return bool(getattr(_raw_of(file), "_inherited", False))


def _disown_inherited_files() -> None:
    """In a child made by ``os.fork()``: the files open in the parent stay the parent's.

    Closing them here (at exit, or from a ``with`` block the child leaves) would wait for the
    parent's loop, which has no thread here, and would complete or abort the parent's uploads:
    they close without I/O instead, and reading or writing them raises ``OSError``.
    """
    for file in list(_OPEN_FILES):
        raw = _raw_of(file)
        if isinstance(raw, _Crossing):
            raw._inherited = True
        if isinstance(raw, S3RawWriter):
            raw._writer.disown()
    _OPEN_FILES.clear()


# Registered after the runner's shutdown (this module imports it), so it runs before it.
atexit.register(_close_open_files)
os.register_at_fork(after_in_child=_disown_inherited_files)


# Names for type annotations of ``S3Path.open`` (in :mod:`aios3path._sync`).
BinaryReadMode: TypeAlias = _file.BinaryReadMode
BinaryWriteMode: TypeAlias = _file.BinaryWriteMode
TextReadMode: TypeAlias = _file.TextReadMode
TextWriteMode: TypeAlias = _file.TextWriteMode
TextFile: TypeAlias = io.TextIOWrapper
BinaryReader: TypeAlias = io.BufferedReader
BinaryWriter: TypeAlias = io.BufferedWriter
RawFile: TypeAlias = io.RawIOBase
AnyFile: TypeAlias = IO[Any]
Unbuffered: TypeAlias = Literal[0]
