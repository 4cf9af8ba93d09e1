"""Async file objects over S3 objects: ranged-GET readers and multipart writers.

``AsyncS3Path.open()`` returns these (through :class:`FileOpener`); the synchronous
``S3Path.open()`` wraps the binary ones in :mod:`io` objects (:mod:`aios3path._sync_io`).

* :class:`S3ObjectReader` sends its ``GetObject`` at open and streams it: sequential reads
  take their bytes from that one response as it arrives, a seek fetches only the part
  (``multipart_chunksize`` bytes) it lands in, and reading on from there streams the rest
  again. A broken stream resumes where it stopped. With ``read_ahead=None`` a stream found
  slow (one connection to a distant store, under 192 MiB/s while the reader waits) hands
  over to parts downloading in parallel ahead of the reader at the next part; ``read_ahead``
  >= 1 fetches that many parts ahead from the start. Every GET after the
  first carries ``If-Match`` with the ETag seen at open, so an object overwritten while it
  is read fails with :class:`S3ObjectChangedError` instead of mixing two versions.
* :class:`S3ObjectWriter` buffers one part, uploads full parts concurrently (at most
  ``max_concurrency`` in flight) and completes the multipart upload on close; an object that
  never grows past ``multipart_threshold`` is one ``PutObject``. An error or a cancellation
  inside ``async with`` aborts the upload: no object appears and no parts are left behind.
  So does dropping a writer that was never closed (with a ``ResourceWarning``).
* :class:`S3TextReader` / :class:`S3TextWriter` decode and encode incrementally with
  :func:`open`'s newline rules.

Memory: a streaming reader holds one part (after a seek) and the buffers of its stream
(its socket is not read while 4 MiB wait unread; the buffers stay under 8 MiB); a reader
with parallel parts at most ``read_ahead + 1`` parts (5 after a slow stream handed over); a
writer at most its buffer (one part,
or ``multipart_threshold`` before the multipart upload starts) plus ``max_concurrency`` parts
in flight. With the defaults (8 MiB parts, concurrency 10) that is 16 MiB for a reader and
88 MiB for a writer, whatever the object size. No temporary files are used.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import io
import itertools
import os
import time
import warnings
import weakref
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Mapping,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Concatenate, Generic, Literal, NoReturn, ParamSpec, TypeVar, cast

from . import _s3
from ._concurrency import retrieve, run_cleanup, start_cleanup
from ._copy import kept_arguments, start_multipart_upload
from ._errors import (
    S3FileExistsError,
    S3FileNotFoundError,
    S3ObjectChangedError,
    S3PermissionError,
    make_error,
    pinned_to,
)
from ._pool import before_clients_close, get_client
from ._stat import StatResult
from ._target import Target
from ._transfer_config import (
    AUTO_READ_AHEAD,
    DISTANT_STORE,
    MAX_PART_SIZE,
    MIN_PART_SIZE,
    SLOW_STREAM,
    TransferConfig,
)

_F = TypeVar("_F")
_L = TypeVar("_L", str, bytes)

#: Bytes asked from a response body per read: small enough to bound memory, large enough to
#: keep per-chunk overhead negligible.
BODY_CHUNK = 256 * 1024

#: Request bodies larger than this are sent from a ``BytesIO`` (see :func:`as_body`).
LARGE_BODY = _s3.LARGE_BODY

#: Times a ranged read resumes after its connection broke mid-body.
STREAM_ATTEMPTS = 3

#: Bytes the text reader decodes at a time.
TEXT_CHUNK = 64 * 1024

#: Parts uploaded at one part size before an object of unknown size moves to larger parts, so
#: that a stream can grow well past ``10,000 x multipart_chunksize`` (to 55,000 x).
PARTS_PER_SIZE_STEP = 1000


# -- modes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenMode:
    """A parsed :func:`open` mode: ``kind`` is ``"r"``, ``"w"``, ``"x"`` or ``"a"``."""

    kind: str
    binary: bool

    @property
    def reading(self) -> bool:
        """True for ``r`` modes."""
        return self.kind == "r"

    @property
    def binary_mode(self) -> str:
        """The mode of the binary file object: ``"rb"``, ``"wb"``, ``"xb"`` or ``"ab"`` (as
        :func:`open` normalises ``"br"``, and names a text file's ``buffer``)."""
        return self.kind + "b"


def parse_mode(mode: str) -> OpenMode:
    """Validate ``mode`` as :func:`open` does; ``+`` modes are refused (S3 has no update)."""
    if not isinstance(mode, str):
        raise TypeError(f"open() argument 'mode' must be str, not {type(mode).__name__}")
    chars = set(mode)
    if not chars <= set("rwxabt+") or len(mode) != len(chars):
        raise ValueError(f"invalid mode: {mode!r}")
    if "+" in chars:
        raise ValueError(
            f"mode {mode!r}: read/write ('+') modes are not supported on S3 objects; "
            "open the object once for reading and once for writing"
        )
    kinds = chars & set("rwxa")
    if len(kinds) != 1:
        raise ValueError(f"invalid mode: {mode!r} (must have exactly one of r/w/x/a)")
    if "b" in chars and "t" in chars:
        raise ValueError(f"invalid mode: {mode!r} (can't have text and binary mode at once)")
    return OpenMode(kinds.pop(), "b" in chars)


def check_text_arguments(
    mode: OpenMode, encoding: str | None, errors: str | None, newline: str | None
) -> None:
    """The checks :func:`open` makes on ``encoding``, ``errors`` and ``newline``, made before
    anything is opened: ``TypeError`` for a value that is not a string (or None),
    ``LookupError`` for an unknown encoding or a codec that is not a text encoding (such as
    ``"hex"``), ``ValueError`` for arguments binary mode does not take or a bad ``newline``.
    """
    for name, value in (("encoding", encoding), ("errors", errors), ("newline", newline)):
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"open() argument {name!r} must be str or None, not {type(value).__name__}"
            )
    if mode.binary:
        if encoding is not None:
            raise ValueError("binary mode doesn't take an encoding argument")
        if errors is not None:
            raise ValueError("binary mode doesn't take an errors argument")
        if newline is not None:
            raise ValueError("binary mode doesn't take a newline argument")
        return
    if newline not in (None, "", "\n", "\r", "\r\n"):
        raise ValueError(f"illegal newline value: {newline!r}")
    if encoding is not None:
        info = codecs.lookup(encoding)  # LookupError for an unknown encoding, as open() raises
        if not getattr(info, "_is_text_encoding", True):
            raise LookupError(
                f"{encoding!r} is not a text encoding; use codecs.open() to handle arbitrary codecs"
            )


# -- bandwidth and ranged reads ---------------------------------------------------------------


class BandwidthLimiter:
    """A token bucket shared by the requests of one transfer: at most ``rate`` bytes/second.

    Each caller reserves its bytes on a virtual clock and sleeps until its reservation is due,
    so concurrent parts share the rate; bursts of up to a tenth of a second are allowed.
    """

    def __init__(self, rate: int) -> None:
        if rate <= 0:
            raise ValueError(f"max_bandwidth must be positive, got {rate!r}")
        self.rate = rate
        self._due = 0.0

    async def consume(self, amount: int) -> None:
        """Wait until ``amount`` more bytes may move."""
        now = asyncio.get_running_loop().time()
        self._due = max(self._due, now - 0.1) + amount / self.rate
        delay = self._due - now
        if delay > 0:
            await asyncio.sleep(delay)


def limiter_for(target: Target) -> BandwidthLimiter | None:
    """A limiter for one transfer on ``target`` (``None`` without ``max_bandwidth``)."""
    rate = target.transfer.max_bandwidth
    return BandwidthLimiter(int(rate)) if rate else None


async def iter_range(
    target: Target,
    first: int,
    last: int,
    etag: str | None,
    limiter: BandwidthLimiter | None = None,
) -> AsyncGenerator[bytes, None]:
    """The bytes ``first..last`` (inclusive) of the object, in chunks of up to 256 KiB.

    A connection that breaks mid-body is resumed where it stopped (a few times). ``etag`` is
    sent as ``If-Match``: a changed object raises :class:`S3ObjectChangedError`. Use it under
    :func:`contextlib.aclosing` so that leaving early releases the connection at once.
    """
    position = first
    failures = 0
    while position <= last:
        with pinned_to(target.uri, etag):
            body = await _s3.start_object(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                target.params,
                byte_range=(position, last),
                if_match=etag,
            )
        try:
            while position <= last:
                chunk = await body.read(min(BODY_CHUNK, last - position + 1))
                if not chunk:
                    raise _s3.ObjectStreamError(f"{target.uri}: the response ended early")
                if limiter is not None:
                    await limiter.consume(len(chunk))
                position += len(chunk)
                yield chunk
        except _s3.ObjectStreamError:
            failures += 1
            if failures >= STREAM_ATTEMPTS:
                raise
        finally:
            body.close()  # leaving early drops the connection instead of reading on


async def fetch_into(
    target: Target,
    first: int,
    buffer: memoryview,
    etag: str | None,
    limiter: BandwidthLimiter | None = None,
) -> None:
    """Fill ``buffer`` with the object's bytes from ``first`` on (one ranged GET)."""
    filled = 0
    last = first + len(buffer) - 1
    async with contextlib.aclosing(iter_range(target, first, last, etag, limiter)) as chunks:
        async for chunk in chunks:
            buffer[filled : filled + len(chunk)] = chunk
            filled += len(chunk)


async def receive_part(
    target: Target,
    first: int,
    view: memoryview,
    etag: str | None,
    limiter: BandwidthLimiter | None = None,
) -> None:
    """Fill ``view`` with the object's bytes from ``first`` on: one ranged GET pinned to
    ``etag``, received straight into ``view`` where the lean path can (else copied in).

    A connection that keeps failing is left to :func:`fetch_into`, which resumes a broken body
    where it stopped and raises :class:`~aios3path._s3.ObjectStreamError` (naming the path).
    A bandwidth ``limiter`` always streams through :func:`fetch_into`.
    """
    if limiter is not None:
        await fetch_into(target, first, view, etag, limiter)
        return
    length = len(view)
    pinned = target.with_parameters({"IfMatch": etag}) if etag else target
    try:
        with pinned_to(target.uri, etag):
            data = await _s3.get_object_buffer(
                pinned.client,
                pinned.uri,
                pinned.bucket,
                pinned.key,
                pinned.params,
                byte_range=(first, first + length - 1),
                into=view,
            )
    except _s3.BODY_FAILURES:
        await fetch_into(target, first, view, etag)
        return
    if data is view:
        return
    if len(data) != length:
        raise _s3.ObjectStreamError(f"{target.uri}: {len(data)} bytes instead of {length}")
    view[:] = data


async def fetch_part(
    target: Target, first: int, length: int, etag: str | None, into: bytearray | None = None
) -> bytearray:
    """The ``length`` bytes from ``first`` on (see :func:`receive_part`), in ``into`` if it
    is a spare buffer of that size, else in a new one."""
    buffer = into if into is not None and len(into) == length else bytearray(length)
    with memoryview(buffer) as view:
        await receive_part(target, first, view, etag)
    return buffer


async def head_for_open(target: Target) -> dict[str, Any]:
    """``HeadObject`` for opening: ``FileNotFoundError`` names the path."""
    return await _s3.head_object(
        target.client, target.uri, target.bucket, target.key, target.params
    )


def as_body(data: bytes | io.BytesIO) -> bytes:
    """A request body for ``_s3``: ``bytes`` up to 1 MiB, a ``BytesIO`` above.

    aiohttp sends a ``BytesIO`` in 64 KiB chunks, yielding to the loop in between, where a
    large ``bytes`` body is written in one go (and warned about); botocore takes file objects
    wherever it takes bytes and rewinds them for retries. File objects also make botocore ask
    for ``Expect: 100-continue`` (one round trip, and the server can refuse before the body
    is sent), which small bodies are spared. A ``BytesIO`` made from ``bytes`` shares them.
    """
    if isinstance(data, io.BytesIO):
        with data.getbuffer() as view:
            size = view.nbytes - data.tell()
        if size <= LARGE_BODY:
            return data.read()
    elif len(data) > LARGE_BODY:
        data = io.BytesIO(data)
    return cast(bytes, data)


def _abort_orphaned_upload(loop: asyncio.AbstractEventLoop, target: Target, upload_id: str) -> None:
    """A writer was garbage-collected unclosed: abort its multipart upload on its loop.

    Nothing was promised to be written, so nothing is published: no object appears and no
    parts stay behind (unless the loop is gone, when nothing can be sent any more: writers
    still open when their loop's clients close are aborted then, see
    :func:`_abort_open_uploads`).
    """
    if loop.is_closed():
        warnings.warn(
            f"{target.uri}: a writer was never closed, and its event loop is closed: its "
            f"multipart upload {upload_id!r} could not be aborted",
            ResourceWarning,
            stacklevel=2,
        )
        return
    warnings.warn(
        f"{target.uri}: a writer was never closed; its multipart upload is aborted",
        ResourceWarning,
        stacklevel=2,
    )

    def start() -> None:
        start_cleanup(
            _s3.abort_multipart_upload(
                target.client, target.uri, target.bucket, target.key, upload_id
            )
        )

    with contextlib.suppress(RuntimeError):  # the loop is closed
        loop.call_soon_threadsafe(start)


#: The writers of each loop with a multipart upload under way.
_OPEN_UPLOADS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakSet[S3ObjectWriter]
] = weakref.WeakKeyDictionary()


async def _abort_open_uploads(loop: asyncio.AbstractEventLoop) -> None:
    """The loop's clients are closing (its ``asyncio.run`` ends): abort the uploads of the
    writers nobody closed, while requests can still be sent."""
    for writer in list(_OPEN_UPLOADS.pop(loop, ())):
        warnings.warn(
            f"{writer.name}: a writer was never closed (or its abort failed); its multipart "
            "upload is aborted",
            ResourceWarning,
            stacklevel=1,
        )
        writer._closed = True
        writer._buffer = io.BytesIO()
        with contextlib.suppress(Exception):
            await writer._abort_now()


before_clients_close(_abort_open_uploads)


# -- the common file object surface -----------------------------------------------------------


class _AsyncFile:
    """What every async file object has: ``name``, ``mode``, ``closed``, ``async with``."""

    name: str
    mode: str
    _closed: bool

    @property
    def closed(self) -> bool:
        """True once the file was closed (or, for writers, aborted)."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed file.")

    def readable(self) -> bool:
        """True for files opened for reading (``ValueError`` once closed, as io files)."""
        self._check_open()
        return False

    def writable(self) -> bool:
        """True for files opened for writing (``ValueError`` once closed, as io files)."""
        self._check_open()
        return False

    def seekable(self) -> bool:
        """True for files opened for reading (random access uses ranged GETs); ``ValueError``
        once closed, as io files."""
        self._check_open()
        return False

    def isatty(self) -> bool:
        """False: an S3 object is no terminal (``ValueError`` once closed)."""
        self._check_open()
        return False

    def fileno(self) -> int:
        """Raises :class:`io.UnsupportedOperation`: an S3 object has no file descriptor."""
        raise io.UnsupportedOperation("fileno")

    async def truncate(self, size: int | None = None) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: S3 objects cannot be resized in place."""
        raise io.UnsupportedOperation("truncate")

    async def close(self) -> None:  # pragma: no cover - every subclass overrides it
        """Close the file."""
        self._closed = True

    async def _exit(self, failed: bool) -> None:
        await self.close()

    async def __aenter__(self: _F) -> _F:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._exit(exc_type is not None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} mode={self.mode!r}>"


class _WriteOnly(_AsyncFile):
    """What writers share: the read and seek methods of io files, which raise
    :class:`io.UnsupportedOperation` (an S3 writer is not seekable)."""

    async def read(self, size: int | None = -1) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for writing."""
        raise io.UnsupportedOperation("not readable")

    async def readline(self, size: int | None = -1) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for writing."""
        raise io.UnsupportedOperation("not readable")

    async def readlines(self, hint: int | None = -1) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for writing."""
        raise io.UnsupportedOperation("not readable")

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: S3 writers are not seekable."""
        raise io.UnsupportedOperation("File or stream is not seekable.")


# -- reading ----------------------------------------------------------------------------------


class _LineReader(_AsyncFile, Generic[_L]):
    """What readers share: ``readlines`` and ``async for line in f`` over ``readline``, a
    ``flush`` with nothing to do, and the write methods of io readers, which raise
    :class:`io.UnsupportedOperation`."""

    async def readline(self, size: int = -1) -> _L:  # pragma: no cover - always overridden
        """The next line, with its line ending; empty at the end."""
        raise NotImplementedError

    async def readlines(self, hint: int | None = -1) -> list[_L]:
        """The remaining lines; with a positive ``hint``, stops once the lines read total more
        than ``hint`` bytes or characters (as io's ``readlines``). None means no hint."""
        lines: list[_L] = []
        total = 0
        limit = -1 if hint is None else hint
        while line := await self.readline():
            lines.append(line)
            total += len(line)
            if 0 < limit < total:
                break
        return lines

    async def flush(self) -> None:
        """Nothing to do for a reader (``ValueError`` once closed), as io readers."""
        self._check_open()

    async def write(self, data: Any) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for reading."""
        raise io.UnsupportedOperation("not writable")

    async def writelines(self, lines: Iterable[Any]) -> None:
        """As :meth:`write` for each of ``lines`` (``ValueError`` once closed)."""
        self._check_open()
        for line in lines:
            await self.write(line)

    def __aiter__(self) -> _LineReader[_L]:
        return self

    async def __anext__(self) -> _L:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _one_read_at_a_time(
    method: Callable[Concatenate[S3ObjectReader, _P], Awaitable[_R]],
) -> Callable[Concatenate[S3ObjectReader, _P], Coroutine[Any, Any, _R]]:
    """Make concurrent reads of one reader take turns (as they would on a local file)."""

    @functools.wraps(method)
    async def taking_turns(reader: S3ObjectReader, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        async with reader._reading:
            return await method(reader, *args, **kwargs)

    return taking_turns


class S3ObjectReader(_LineReader[bytes]):
    """A seekable binary reader over one S3 object (``mode="rb"``).

    Sequential reading streams one ranged GET for the rest of the object, read as it
    arrives (a few MiB buffered at most; a connection that breaks resumes where it stopped).
    Once two parts have come through it, the stream may be judged: if its response head took
    ``DISTANT_STORE`` seconds or more, reads waited on it and it carried under
    ``SLOW_STREAM`` bytes a second (with ``read_ahead=None``), the parts after the current
    one are fetched in parallel, ``min(max_concurrency, AUTO_READ_AHEAD)`` ahead, while the
    stream finishes its part; ``read_ahead=0`` (the default) keeps the stream. With
    ``read_ahead`` set to 1 or more it instead keeps that many whole parts
    (``multipart_chunksize``) downloading in parallel ahead of the one being read, for
    stores where one connection is slower than the reader. Random access (``seek``)
    fetches only the part it lands in. At most ``read_ahead + 1`` parts (or one part and
    the stream's buffer) are held in memory. The object's ETag, read at open, is sent as
    ``If-Match`` with every GET: if the object is overwritten meanwhile, reads raise
    :class:`S3ObjectChangedError`.
    """

    def __init__(
        self,
        target: Target,
        size: int,
        etag: str | None,
        *,
        mode: str = "rb",
        head: Mapping[str, Any] | None = None,
    ) -> None:
        config = target.transfer
        self.name = target.uri
        self.mode = mode
        self.size = size
        self.etag = etag
        self._head = head
        self._target = target
        self._part = max(config.part_size_for(size), 1)
        self._window = config.read_ahead or 0
        # read_ahead=None: stream, and switch to parallel parts if the stream proves slow.
        self._judge_stream = config.read_ahead is None
        self._auto_window = max(1, min(config.max_concurrency, AUTO_READ_AHEAD))
        self._last_part = (size - 1) // self._part if size else -1
        self._parts: dict[int, asyncio.Task[bytearray]] = {}
        self._spare: list[bytearray] = []
        self._limiter = limiter_for(target)
        self._stream: _s3.ObjectBody | None = None
        self._stream_at = 0  # the object offset of the stream's first unconsumed byte
        self._stream_shown = 0  # bytes the last peek showed (consumed by the next one)
        self._stream_failures = 0
        self._stream_failed_at = 0
        self._stream_until = size  # where the stream hands over to parts (after a switch)
        self._stream_waited = 0.0  # seconds reads waited on the stream, since _stream_from
        self._stream_latency = 0.0  # seconds from the stream's request to its response head
        self._stream_from = 0
        self._judge_at = 0  # the next position at which to judge the stream's speed
        self._reading = asyncio.Lock()
        self._pos = 0
        self._sequential_at = 0
        self._closed = False

    @classmethod
    async def open(cls, target: Target, *, mode: str = "rb") -> S3ObjectReader:
        """Open ``target`` for reading (``FileNotFoundError`` if it is missing).

        A streaming reader sends its ``GetObject`` at once: the response's head gives the
        size, ETag and metadata, and its body is the stream the first reads come from, so
        the first bytes are one round trip away. With parallel parts (``read_ahead``) or a
        bandwidth limit, opening is one ``HeadObject``.
        """
        if target.transfer.read_ahead or limiter_for(target) is not None:
            head = await head_for_open(target)
            size = int(head.get("ContentLength", 0))
            return cls(target, size, head.get("ETag"), mode=mode, head=head)
        asked = time.monotonic()
        body = await _s3.start_object(
            target.client, target.uri, target.bucket, target.key, target.params
        )
        reader = cls(target, body.content_length, body.etag, mode=mode, head=body.response)
        reader._stream = body
        reader._measure_stream_from(0, time.monotonic() - asked)
        return reader

    @property
    def stat(self) -> StatResult | None:
        """The object's metadata as of open (size, mtime, ETag, content type, user metadata)."""
        return StatResult.from_head(self._head) if self._head is not None else None

    def readable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._check_open()
        return True

    def seekable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._check_open()
        return True

    # parts ------------------------------------------------------------------------------

    async def _fetch(self, index: int) -> bytearray:
        first = index * self._part
        length = min(self._part, self.size - first)
        if self._limiter is None:  # one ranged GET, received straight into the part's buffer
            spare = self._spare.pop() if self._spare and length == self._part else None
            return await fetch_part(self._target, first, length, self.etag, spare)
        buffer = bytearray(length)
        await fetch_into(self._target, first, memoryview(buffer), self.etag, self._limiter)
        return buffer

    def _recycle(self, task: asyncio.Task[bytearray]) -> None:
        """Let go of a part: its buffer receives a later part (no new allocation to fault in).

        Safe because a part's buffer never leaves the reader: reads hand out copies.
        """
        if not task.done():
            task.cancel()
            return
        if task.cancelled() or task.exception() is not None:
            return
        data = task.result()
        if len(data) == self._part and len(self._spare) < 2:
            self._spare.append(data)

    def _task(self, index: int) -> asyncio.Task[bytearray]:
        task = self._parts.get(index)
        if task is None:
            task = asyncio.ensure_future(self._fetch(index))
            task.add_done_callback(retrieve)
            self._parts[index] = task
        return task

    async def _part_at(self, position: int) -> tuple[bytearray, int]:
        """The part holding ``position`` and the offset of ``position`` in it."""
        index = position // self._part
        sequential = position == self._sequential_at
        for other in [i for i in self._parts if i < index or i > index + self._window]:
            self._recycle(self._parts.pop(other))
        task = self._task(index)
        if sequential:
            for ahead in range(index + 1, min(index + self._window, self._last_part) + 1):
                self._task(ahead)
        try:
            data = await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except BaseException:
            if self._parts.get(index) is task:
                del self._parts[index]  # the next read retries this part
            raise
        return data, position - index * self._part

    # the stream ---------------------------------------------------------------------------

    def _streams(self, position: int) -> bool:
        """Whether the bytes at ``position`` come from the stream (opening it if they should)."""
        if self._stream is not None:
            ahead = position - self._stream_at
            if 0 <= ahead <= self._stream_shown and position < self._stream_until:
                if position >= self._judge_at:
                    self._judge_stream_at(position)
                return True
            self._close_stream()  # a seek away from it, or the parts take over here
        if (
            self._window
            or self._limiter is not None
            or position != self._sequential_at
            or position // self._part in self._parts
        ):
            return False
        for task in self._parts.values():
            self._recycle(task)
        self._parts.clear()
        return True

    def _judge_stream_at(self, position: int) -> None:
        """Once a part (from two parts in), see whether the stream is one slow connection to
        a distant store; if so, fetch the parts after the current one in parallel (the stream
        still serves this part). The first megabytes of a stream say little (a slow start),
        and a store on a busy machine nearby is slow for want of CPU, which more connections
        do not give it: its response heads come within a few milliseconds."""
        self._judge_at = position + self._part
        if not self._judge_stream:
            return
        seen = position - self._stream_from
        if seen < 2 * self._part or self.size - position <= 2 * self._part:
            return  # too little seen to judge, or too little left to gain
        if self._stream_latency >= DISTANT_STORE and seen < SLOW_STREAM * self._stream_waited:
            self._judge_stream = False
            self._window = self._auto_window
            next_part = position // self._part + 1
            self._stream_until = next_part * self._part
            for index in range(next_part, min(next_part + self._window, self._last_part + 1)):
                self._task(index)

    async def _peek(self, position: int, want: int) -> tuple[bytes | bytearray, int, int]:
        """The next bytes from the stream at ``position`` as ``(buffer, start, end)``.

        What the previous peek showed is consumed up to ``position`` first: the reader's
        position moves only once bytes are copied out, so a cancelled read loses nothing.
        """
        while True:
            stream = self._stream
            try:
                if stream is None:
                    stream = await self._open_stream(position)
                elif position > self._stream_at:
                    stream.consume(position - self._stream_at)
                    self._stream_at = position
                    self._stream_shown = 0
                asked = time.monotonic()
                buffer, start, end = await stream.peek(want)
                self._stream_waited += time.monotonic() - asked
                if start == end:
                    raise _s3.ObjectStreamError(f"{self.name}: the response ended early")
            except _s3.ObjectStreamInterrupted:
                self._close_stream()  # its connection went to another request: ask again
                self._check_open()
                continue
            except _s3.ObjectStreamError:
                self._close_stream()
                self._check_open()  # closed meanwhile: no new request
                # A few failures in a row end the read; a part's worth of bytes between two
                # failures makes them unrelated (a long read may meet a few broken connections).
                if abs(position - self._stream_failed_at) >= self._part:
                    self._stream_failures = 0
                self._stream_failed_at = position
                self._stream_failures += 1
                if self._stream_failures >= STREAM_ATTEMPTS:
                    raise
                continue
            self._stream_shown = end - start
            return buffer, start, end

    async def _open_stream(self, position: int) -> _s3.ObjectBody:
        target = self._target
        asked = time.monotonic()
        with pinned_to(target.uri, self.etag):
            stream = await _s3.start_object(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                target.params,
                byte_range=(position, self.size - 1),
                if_match=self.etag,
            )
        if self._closed:  # closed while the GET was on its way
            stream.close()
            raise ValueError("I/O operation on closed file.")
        if stream.first_byte != position or stream.content_length != self.size - position:
            stream.close()  # a server that ignored the range: these bytes belong elsewhere
            carried = stream.response.get("ContentRange") or f"{stream.content_length} bytes"
            raise _s3.ObjectStreamError(
                f"{self.name}: asked for bytes {position}-{self.size - 1}, got {carried}"
            )
        self._stream = stream
        self._stream_at = position
        self._stream_shown = 0
        self._measure_stream_from(position, time.monotonic() - asked)
        return stream

    def _measure_stream_from(self, position: int, first_byte_after: float) -> None:
        """Judge the stream's speed from ``position`` on (a new stream, a new measure), its
        response head having come ``first_byte_after`` seconds after the request."""
        self._stream_from = position
        self._stream_waited = 0.0
        self._stream_latency = first_byte_after
        self._judge_at = position + self._part

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._stream_shown = 0
        if stream is not None:
            stream.close()

    async def _bytes_at(self, position: int, want: int) -> tuple[bytes | bytearray, int, int]:
        """Bytes from ``position`` on as ``(buffer, start, end)``: from the stream or a part.

        At least ``want`` of them where they lie together; the buffer is only read, and
        only until the next call.
        """
        if self._streams(position):
            return await self._peek(position, want)
        data, offset = await self._part_at(position)
        return data, offset, len(data)

    # reading ----------------------------------------------------------------------------

    async def _read_into(self, dest: memoryview) -> int:
        # The position moves once all is copied: a read cancelled midway takes nothing.
        done = 0
        position = self._pos
        try:
            while done < len(dest) and position < self.size:
                data, offset, end = await self._bytes_at(position, len(dest) - done)
                count = min(end - offset, len(dest) - done)
                with memoryview(data) as view:
                    dest[done : done + count] = view[offset : offset + count]
                done += count
                position += count
                self._sequential_at = position
        except BaseException:
            self._sequential_at = self._pos  # reading again from there is still sequential
            raise
        self._pos = position
        return done

    @_one_read_at_a_time
    async def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (all the rest when ``size`` is negative or None); ``b""`` at EOF."""
        self._check_open()
        remaining = max(self.size - self._pos, 0)
        count = remaining if size is None or size < 0 else min(size, remaining)
        if count == 0:
            return b""
        data, offset, end = await self._bytes_at(self._pos, count)
        if offset + count <= end:  # all in one buffer: a single copy
            with memoryview(data) as view:
                chunk = bytes(view[offset : offset + count])
            self._pos += count
            self._sequential_at = self._pos
            return chunk
        out = bytearray(count)
        with memoryview(out) as view:
            filled = await self._read_into(view)
        del out[filled:]
        return bytes(out)

    @_one_read_at_a_time
    async def read1(self, size: int = -1) -> bytes:
        """Like :meth:`read`, but never more than the rest of the current part."""
        self._check_open()
        if self._pos >= self.size or size == 0:
            return b""
        data, offset, end = await self._bytes_at(self._pos, size if size > 0 else 1)
        end = end if size < 0 else min(end, offset + size)
        with memoryview(data) as view:
            chunk = bytes(view[offset:end])
        self._pos += len(chunk)
        self._sequential_at = self._pos
        return chunk

    @_one_read_at_a_time
    async def readinto(self, buffer: Any) -> int:
        """Read into the writable bytes-like ``buffer``; returns the number of bytes read."""
        self._check_open()
        with memoryview(buffer) as view:
            return await self._read_into(view.cast("B"))

    @_one_read_at_a_time
    async def pread(self, offset: int, buffer: memoryview) -> int:
        """Read into ``buffer`` from ``offset`` (moves the position to after what was read)."""
        self._check_open()
        self._pos = offset
        return await self._read_into(buffer)

    @_one_read_at_a_time
    async def readline(self, size: int | None = -1) -> bytes:
        """One line, ``b"\\n"`` included (at most ``size`` bytes); ``b""`` at EOF."""
        self._check_open()
        limit = -1 if size is None else size
        pieces: list[bytes] = []
        total = 0
        position = self._pos  # moved once the line is whole (see _read_into)
        try:
            while position < self.size and (limit < 0 or total < limit):
                data, offset, end = await self._bytes_at(position, 1)
                stop = end if limit < 0 else min(end, offset + limit - total)
                newline = data.find(b"\n", offset, stop)
                end = newline + 1 if newline >= 0 else stop
                with memoryview(data) as view:
                    pieces.append(bytes(view[offset:end]))
                total += end - offset
                position += end - offset
                self._sequential_at = position
                if newline >= 0:
                    break
        except BaseException:
            self._sequential_at = self._pos
            raise
        self._pos = position
        return b"".join(pieces)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move to ``offset`` (from the start, the current position or the end); no request."""
        self._check_open()
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._pos + offset
        elif whence == os.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position < 0:
            raise OSError(22, f"negative seek position {position}")
        self._pos = position
        return position

    async def tell(self) -> int:
        """The current position."""
        self._check_open()
        return self._pos

    def position(self) -> int:
        """The current position (synchronously)."""
        return self._pos

    def close_nowait(self) -> None:
        """Close without waiting: cancel the downloads in flight (on the reader's loop)."""
        self._closed = True
        self._close_stream()
        parts, self._parts = self._parts, {}
        for task in parts.values():
            task.cancel()

    async def close(self) -> None:
        """Stop the downloads in flight and release the parts held."""
        if self._closed and not self._parts and self._stream is None:
            return
        tasks = list(self._parts.values())
        self.close_nowait()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


# -- writing ----------------------------------------------------------------------------------


def _copy_ranges(size: int, config: TransferConfig) -> list[tuple[int, int]]:
    """``(first, last)`` byte ranges that copy ``size`` bytes as the first parts of an upload.

    Parts before the last one must be 5 MiB to 5 GiB, and these ranges are followed by the
    appended data, so *every* range must be. There are ``size // part`` even ranges (at least
    one, and enough to keep each within 5 GiB), so each is at least ``part``: the
    ``multipart_copy_chunksize``, raised to 5 MiB and to what keeps the count within 10,000.
    ``size`` must be at least 5 MiB; an object smaller than ``part`` is one range.
    """
    part = max(config.part_size_for(size, config.multipart_copy_chunksize), MIN_PART_SIZE)
    count = max(1, size // part, -(-size // MAX_PART_SIZE))
    cuts = [size * i // count for i in range(count + 1)]  # lengths differ by at most 1 byte
    return [(first, following - 1) for first, following in itertools.pairwise(cuts)]


class S3ObjectWriter(_WriteOnly):
    """A binary writer that uploads an S3 object (``mode="wb"``, ``"xb"`` or ``"ab"``).

    Data is buffered up to one part; full parts are uploaded concurrently (at most
    ``max_concurrency`` in flight, ``write`` waits for a free slot), and ``close()`` sends the
    last part and completes the multipart upload. An object that is at most
    ``multipart_threshold`` bytes at close is sent as one ``PutObject``. Nothing is visible
    before close. The registered parameters (``ContentType``, ``Metadata``, encryption, storage
    class…) apply to ``PutObject``/``CreateMultipartUpload``.

    ``abort()`` (called by ``async with`` on an exception or a cancellation) stops the uploads
    in flight and aborts the multipart upload, so no object and no parts are left.

    Memory: the buffer (one part, or ``multipart_threshold`` before the upload starts) plus up
    to ``max_concurrency`` parts in flight.
    """

    def __init__(
        self,
        target: Target,
        *,
        mode: str = "wb",
        exclusive: bool = False,
        size_hint: int | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        config = target.transfer
        self.name = target.uri
        self.mode = mode
        self._target = target
        self._threshold = config.multipart_threshold
        base = config.part_size_for(size_hint) if size_hint else config.multipart_chunksize
        self._chunk = max(base, MIN_PART_SIZE)
        self._grow = size_hint is None
        self._max_inflight = max(config.max_concurrency, 1)
        self._limiter = limiter_for(target)
        self._on_progress = on_progress
        self._conditions: dict[str, str] = {"IfNoneMatch": "*"} if exclusive else {}
        self._buffer = io.BytesIO()
        self._upload_id: str | None = None
        self._next_part = 1
        self._parts: list[dict[str, Any]] = []
        self._inflight: set[asyncio.Task[dict[str, Any]]] = set()
        self._copy_source: tuple[int, str] | None = None
        self._written = 0
        self._closed = False
        self._failed: BaseException | None = None
        self._orphan_guard: weakref.finalize[Any, Any] | None = None
        try:  # the loop whose tasks, connections and client the writer uses
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    @classmethod
    async def open(cls, target: Target, *, mode: str = "wb", kind: str = "w") -> S3ObjectWriter:
        """Open ``target`` for writing (``kind`` ``"w"``, ``"x"`` or ``"a"``).

        ``"x"`` fails with ``FileExistsError`` at once if the object exists (one ``HeadObject``)
        and writes conditionally (``If-None-Match: *``), so an object created meanwhile is not
        overwritten either. ``"a"`` continues an existing object (see :meth:`_start_append`),
        keeping its content type and other content headers, user metadata and tags (registered
        parameters apply over them).
        """
        if kind == "w":
            return cls(target, mode=mode)
        head = await _head_or_none(target)
        if kind == "x":
            if head is not None:
                raise make_error(
                    S3FileExistsError, target.uri, "object already exists", "HeadObject"
                )
            return cls(target, mode=mode, exclusive=True)
        if head is None:  # appending to nothing creates the object, unless it appears meanwhile
            return cls(target, mode=mode, exclusive=True)
        # The rewritten object keeps the old one's content headers, metadata and tags; the
        # registered parameters still apply over them.
        kept = await kept_arguments(target, head, target.params)
        target = target.with_parameters({k: v for k, v in kept.items() if k not in target.params})
        writer = cls(target, mode=mode)
        try:
            await writer._start_append(int(head.get("ContentLength", 0)), head.get("ETag"))
        except BaseException:
            await writer.abort()
            raise
        return writer

    def writable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._check_open()
        return True

    def position(self) -> int:
        """Bytes in the object so far (those already there when appending, plus written)."""
        return self._written

    async def tell(self) -> int:
        """The current position: the size the object will have if closed now."""
        self._check_open()
        return self._written

    async def read1(self, size: int = -1) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for writing."""
        raise io.UnsupportedOperation("not readable")

    async def readinto(self, buffer: Any) -> NoReturn:
        """Raises :class:`io.UnsupportedOperation`: the file is open for writing."""
        raise io.UnsupportedOperation("not readable")

    # append -----------------------------------------------------------------------------

    async def _start_append(self, size: int, etag: str | None) -> None:
        """Carry over the existing object: small ones into the buffer, big ones server-side.

        An object of up to ``multipart_threshold`` bytes (or under S3's 5 MiB part minimum)
        is read into the buffer; a bigger one becomes the first parts of the multipart upload by
        ``UploadPartCopy``, without passing through this process (in ranges that S3 accepts as
        parts: see :func:`_copy_ranges`). The copy and the final write are conditional on the
        ETag seen at open (``CopySourceIfMatch`` / ``If-Match``), so an object changed meanwhile
        fails the append instead of losing the other writer's data (on stores that support
        conditional writes).
        """
        target = self._target
        if etag:
            self._conditions = {"IfMatch": etag}
        self._written = size
        if size == 0:
            return
        if size <= self._threshold or size < MIN_PART_SIZE:
            data = bytearray(size)
            await fetch_into(target, 0, memoryview(data), etag, self._limiter)
            self._buffer.write(data)
            return
        await self._start_upload()
        for first, last in _copy_ranges(size, target.transfer):
            await self._wait_for_slot()
            self._launch(self._copy_range(self._next_part, first, last, etag))

    async def _copy_range(
        self, number: int, first: int, last: int, etag: str | None
    ) -> dict[str, Any]:
        target = self._target
        assert self._upload_id is not None
        return await _s3.upload_part_copy(
            target.client,
            target.uri,
            target.bucket,
            target.key,
            self._upload_id,
            number,
            target.bucket,
            target.key,
            (first, last),
            source_etag=etag,
        )

    # writing ----------------------------------------------------------------------------

    def _part_size(self, number: int) -> int:
        if not self._grow:
            return self._chunk
        return self._chunk * (1 + (number - 1) // PARTS_PER_SIZE_STEP)

    def _fill_limit(self) -> int:
        """Bytes the buffer may hold; parts are cut when more data comes (or at close)."""
        if self._upload_id is None:
            return max(self._threshold, self._chunk)
        return self._part_size(self._next_part)

    def _check_writable(self) -> None:
        self._check_open()
        if self._in_another_loop():
            raise self._another_loop_error("write to it in that loop")
        if self._failed is not None:
            raise OSError(f"{self.name}: an earlier write failed; the upload is void") from (
                self._failed
            )

    async def write(self, data: Any) -> int:
        """Buffer ``data`` (any bytes-like object); uploads parts as they fill up.

        Returns ``len(data)``. Waits while ``max_concurrency`` parts are in flight.
        """
        self._check_writable()
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        with memoryview(data) as raw:
            view = raw.cast("B") if raw.format != "B" or raw.ndim != 1 else raw
            total = len(view)
            done = 0
            try:
                while done < total:
                    room = self._fill_limit() - self._buffer.tell()
                    if room <= 0:  # full, and more is coming: past the threshold, upload
                        await self._cut_parts()
                        continue
                    take = min(room, total - done)
                    self._buffer.write(view[done : done + take])
                    done += take
                    self._written += take
            except BaseException as error:
                self._failed = error
                raise
        return total

    async def writelines(self, lines: Iterable[Any]) -> None:
        """Write each bytes-like object of ``lines``."""
        self._check_open()
        for line in lines:
            await self.write(line)

    async def _start_upload(self) -> None:
        target = self._target
        self._upload_id = await start_multipart_upload(target, target.params)
        loop = asyncio.get_running_loop()
        self._orphan_guard = weakref.finalize(
            self, _abort_orphaned_upload, loop, target, self._upload_id
        )
        self._orphan_guard.atexit = False
        _OPEN_UPLOADS.setdefault(loop, weakref.WeakSet()).add(self)

    def _upload_ended(self) -> None:
        """The multipart upload is complete or aborted: nothing to clean up after this writer."""
        self._upload_id = None
        if self._orphan_guard is not None:
            self._orphan_guard.detach()
            self._orphan_guard = None
        open_uploads = _OPEN_UPLOADS.get(self._loop) if self._loop is not None else None
        if open_uploads is not None:
            open_uploads.discard(self)

    def _in_another_loop(self) -> bool:
        """True when called from an event loop other than the one the writer was opened in
        (whose tasks, connections and client it uses)."""
        return self._loop is not None and asyncio.get_running_loop() is not self._loop

    def _another_loop_error(self, what: str) -> RuntimeError:
        closed = self._loop is not None and self._loop.is_closed()
        which = "an event loop that is closed now" if closed else "another event loop"
        return RuntimeError(f"{self.name}: this writer was opened in {which}; {what}")

    async def _abort_from_this_loop(self) -> None:
        """Abort the multipart upload with this loop's client (the writer's loop cannot)."""
        upload_id = self._upload_id
        self._closed = True
        self._buffer = io.BytesIO()
        self._upload_ended()
        if upload_id is not None:
            target = self._target
            client = await get_client(target.resolved.settings)
            with contextlib.suppress(S3FileNotFoundError):
                await _s3.abort_multipart_upload(
                    client, target.uri, target.bucket, target.key, upload_id
                )

    async def _cut_parts(self, final: bool = False) -> None:
        """Upload the full parts in the buffer (and, if ``final``, the rest as the last part)."""
        if self._upload_id is None:
            await self._start_upload()
        while self._buffer.tell() and (
            final or self._buffer.tell() >= self._part_size(self._next_part)
        ):
            await self._wait_for_slot()
            size = self._part_size(self._next_part)
            if self._buffer.tell() <= size:  # the common case: the buffer is the part
                body, self._buffer = self._buffer, io.BytesIO()
            else:  # past the threshold before the first part: cut parts from the buffer
                with self._buffer.getbuffer() as view:
                    body = io.BytesIO(bytes(view[:size]))
                    rest = bytes(view[size:])
                self._buffer = io.BytesIO()
                self._buffer.write(rest)
            body.seek(0)
            self._launch(self._upload(self._next_part, body))

    async def _wait_for_slot(self) -> None:
        while len(self._inflight) >= self._max_inflight:
            done, _ = await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
            self._collect(done)

    def _launch(self, work: Awaitable[dict[str, Any]]) -> None:
        task = asyncio.ensure_future(work)
        task.add_done_callback(retrieve)
        self._inflight.add(task)
        self._next_part += 1

    def _collect(self, done: Iterable[asyncio.Task[dict[str, Any]]]) -> None:
        for task in done:
            self._inflight.discard(task)
            self._parts.append(task.result())  # raises the part's error

    async def _upload(self, number: int, body: io.BytesIO) -> dict[str, Any]:
        target = self._target
        assert self._upload_id is not None
        with body.getbuffer() as view:
            size = view.nbytes
        if self._limiter is not None:
            await self._limiter.consume(size)
        part = await _s3.upload_part(
            target.client,
            target.uri,
            target.bucket,
            target.key,
            self._upload_id,
            number,
            as_body(body),
            target.params,
        )
        if self._on_progress is not None:
            self._on_progress(size)
        return part

    async def flush(self) -> None:
        """Wait for the parts in flight (raising their errors).

        S3 shows nothing before close, so this does not make buffered data visible.
        """
        self._check_writable()
        try:
            await self._drain()
        except BaseException as error:
            self._failed = error
            raise

    async def _drain(self) -> None:
        while self._inflight:
            done, _ = await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
            self._collect(done)

    async def _finish(self) -> None:
        target = self._target
        if self._failed is not None:
            raise OSError(f"{self.name}: an earlier write failed; the upload was aborted") from (
                self._failed
            )
        try:
            if self._upload_id is None:
                body, self._buffer = self._buffer, io.BytesIO()
                size = body.tell()
                body.seek(0)
                if self._limiter is not None:
                    await self._limiter.consume(size)
                await _s3.put_object(
                    target.client,
                    target.uri,
                    target.bucket,
                    target.key,
                    as_body(body),
                    target.params,
                    **self._conditions,
                )
                if self._on_progress is not None and size:
                    self._on_progress(size)
                return
            await self._cut_parts(final=True)
            await self._drain()
            await _s3.complete_multipart_upload(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                self._upload_id,
                self._parts,
                **self._conditions,
            )
            self._upload_ended()
        except S3FileExistsError as error:
            if "IfMatch" in self._conditions and error.code == "PreconditionFailed":
                raise S3ObjectChangedError(
                    f"{target.uri}: the object changed since it was opened for appending",
                    error.response,
                    error.operation_name,
                ) from error
            raise

    async def close(self) -> None:
        """Upload what is buffered and complete the object; on failure, abort and raise.

        ``FileExistsError`` for ``"x"`` mode when the object appeared meanwhile.
        """
        if self._closed:
            return
        if self._in_another_loop():
            await self._close_from_another_loop(abort=False)
            return
        self._closed = True
        try:
            await self._finish()
        except BaseException:
            # The first error matters more than the abort's (a cancellation stays one).
            with contextlib.suppress(Exception):
                await self._abort()
            raise
        finally:
            self._buffer = io.BytesIO()

    async def _close_from_another_loop(self, abort: bool) -> None:
        """Close (or abort) in the writer's own loop while it runs (in another thread);
        once that loop has stopped, abort the upload from here and say nothing was written."""
        loop = self._loop
        assert loop is not None
        if loop.is_running() and not loop.is_closed():
            ending = self.abort() if abort else self.close()
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(ending, loop))
            return
        await self._abort_from_this_loop()
        if not abort:
            raise self._another_loop_error("its upload was aborted: nothing was written")

    async def abort(self) -> None:
        """Discard everything: stop the uploads in flight and abort the multipart upload."""
        if self._in_another_loop():
            await self._close_from_another_loop(abort=True)
            return
        self._closed = True
        self._buffer = io.BytesIO()
        await self._abort()

    async def _abort(self) -> None:
        # A clean-up: a second cancellation (or the exit's shutdown) must not leave parts.
        await run_cleanup(self._abort_now())

    async def _abort_now(self) -> None:
        tasks, self._inflight = list(self._inflight), set()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        upload_id = self._upload_id
        if upload_id is None:
            return
        target = self._target
        with contextlib.suppress(S3FileNotFoundError):  # already gone
            await _s3.abort_multipart_upload(
                target.client, target.uri, target.bucket, target.key, upload_id
            )
        # Only once answered: until then the loop's clean-up before its clients close (see
        # _abort_open_uploads) still knows this upload, and aborts it if this abort fails.
        self._upload_ended()

    def disown(self) -> None:
        """In a child made by ``os.fork()``: the upload is the parent's to complete or abort.
        This copy ends here without a request, and its garbage collection aborts nothing."""
        self._closed = True
        self._buffer = io.BytesIO()
        self._upload_ended()

    def abort_nowait(self) -> None:
        """Start :meth:`abort` in the background (for finalizers on the writer's loop)."""
        if self._closed and self._upload_id is None:
            return
        self._closed = True
        self._buffer = io.BytesIO()
        start_cleanup(self._abort_now())

    async def _exit(self, failed: bool) -> None:
        if failed:
            await self.abort()
        else:
            await self.close()


async def _head_or_none(target: Target) -> dict[str, Any] | None:
    try:
        return await head_for_open(target)
    except (FileNotFoundError, S3PermissionError):
        return None


# -- text -------------------------------------------------------------------------------------


def _decoder(encoding: str, errors: str, translate: bool) -> io.IncrementalNewlineDecoder:
    inner = codecs.getincrementaldecoder(encoding)(errors)
    return io.IncrementalNewlineDecoder(inner, translate)


_MASK64 = (1 << 64) - 1


class S3TextReader(_LineReader[str]):
    """A text reader over :class:`S3ObjectReader` (``mode="r"``).

    Decodes incrementally (UTF-8 unless ``encoding`` says otherwise) with :func:`open`'s
    newline rules: ``newline=None`` turns ``\\r\\n`` and ``\\r`` into ``\\n``; ``""`` splits
    lines on all three without translating; ``"\\n"``, ``"\\r"`` or ``"\\r\\n"`` split on that
    ending only. ``tell()`` returns an opaque cookie for ``seek()``, as text files do.
    """

    def __init__(
        self,
        raw: S3ObjectReader,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        *,
        mode: str = "r",
    ) -> None:
        self.buffer = raw
        self.name = raw.name
        self.mode = mode
        self.encoding = encoding or "utf-8"
        self.errors = errors or "strict"
        self.newlines_mode = newline
        self._decoder = _decoder(self.encoding, self.errors, newline is None)
        self._text = ""
        self._offset = 0
        self._snapshot = (0, 0)
        self._eof = False
        self._closed = False

    def readable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._check_open()
        return True

    def seekable(self) -> bool:
        """True (to positions from :meth:`tell`, the start or the end); ``ValueError`` once
        closed."""
        self._check_open()
        return True

    @property
    def newlines(self) -> str | tuple[str, ...] | None:
        """The newline kinds seen so far (as text files report them)."""
        return self._decoder.newlines

    async def _next_text(self) -> bool:
        """Decode the next chunk into ``_text`` (whose start becomes the snapshot)."""
        if self._eof:
            return False
        pending, flags = self._decoder.getstate()
        start = self.buffer.position() - len(pending)
        data = await self.buffer.read(TEXT_CHUNK)
        self._eof = not data
        self._snapshot = (start, flags)
        self._text = self._decoder.decode(data, final=self._eof)
        self._offset = 0
        return True

    def _line_end(self, text: str, start: int) -> int:
        """The index after the first line ending at or after ``start`` (-1 if none)."""
        newline = self.newlines_mode
        if newline is None:
            found = text.find("\n", start)
            return found + 1 if found >= 0 else -1
        if newline == "":
            lf = text.find("\n", start)
            cr = text.find("\r", start, lf if lf >= 0 else len(text))
            if cr < 0:
                return lf + 1 if lf >= 0 else -1
            # The decoder never ends a chunk with "\r" unless it is the last one, so "\r\n"
            # is never split across chunks.
            return cr + 2 if text.startswith("\n", cr + 1) else cr + 1
        found = text.find(newline, start)
        return found + len(newline) if found >= 0 else -1

    async def read(self, size: int | None = -1) -> str:
        """Up to ``size`` characters (all the rest if negative or None); ``""`` at EOF."""
        self._check_open()
        pieces: list[str] = []
        wanted = -1 if size is None else size
        while wanted != 0:
            if self._offset >= len(self._text):
                if not await self._next_text():
                    break
                continue
            end = len(self._text) if wanted < 0 else min(len(self._text), self._offset + wanted)
            pieces.append(self._text[self._offset : end])
            if wanted > 0:
                wanted -= end - self._offset
            self._offset = end
        return "".join(pieces)

    async def readline(self, size: int | None = -1) -> str:
        """One line with its ending (at most ``size`` characters); ``""`` at EOF."""
        self._check_open()
        limit = -1 if size is None else size
        pieces: list[str] = []
        total = 0
        while limit < 0 or total < limit:
            if self._offset >= len(self._text):
                if not await self._next_text():
                    break
                continue
            end = self._line_end(self._text, self._offset)
            stop = len(self._text) if end < 0 else end
            if limit >= 0:
                stop = min(stop, self._offset + limit - total)
            pieces.append(self._text[self._offset : stop])
            total += stop - self._offset
            self._offset = stop
            if end >= 0 and stop == end:
                break
        return "".join(pieces)

    async def tell(self) -> int:
        """An opaque position cookie for :meth:`seek`."""
        self._check_open()
        start, flags = self._snapshot
        return start | (flags << 64) | (self._offset << 128)

    async def seek(self, cookie: int, whence: int = os.SEEK_SET) -> int:
        """Go to a :meth:`tell` cookie, to the start (0) or to the end (``seek(0, 2)``)."""
        self._check_open()
        if whence == os.SEEK_CUR:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero cur-relative seeks")
            return await self.tell()
        if whence == os.SEEK_END:
            if cookie != 0:
                raise io.UnsupportedOperation("can't do nonzero end-relative seeks")
            end = await self.buffer.seek(0, os.SEEK_END)
            self._reset(end, 0)
            return await self.tell()
        if whence != os.SEEK_SET:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if cookie < 0:
            raise ValueError(f"negative seek position {cookie}")
        start, flags, skip = cookie & _MASK64, (cookie >> 64) & _MASK64, cookie >> 128
        await self.buffer.seek(start)
        self._reset(start, flags)
        if skip:
            pieces: list[str] = []
            decoded = 0
            while decoded < skip and not self._eof:
                data = await self.buffer.read(TEXT_CHUNK)
                self._eof = not data
                piece = self._decoder.decode(data, final=self._eof)
                pieces.append(piece)
                decoded += len(piece)
            self._text = "".join(pieces)
            if skip > len(self._text):
                raise ValueError("can't restore logical file position")
            self._offset = skip
        return cookie

    def _reset(self, start: int, flags: int) -> None:
        """Restart decoding at byte ``start`` in the decoder state ``flags``.

        As io's text files do, the start of the object with no flags (what :meth:`tell`
        gives before the first read, and ``seek(0)``) gets a fresh decoder, which expects a
        byte-order mark (``utf-8-sig``, ``utf-16``): flag 0 means "BOM already handled" to
        those decoders (for ``utf-16``, "native byte order"), so it is set anywhere else.
        """
        self._decoder.reset()
        if start or flags:
            self._decoder.setstate((b"", flags))
        self._snapshot = (start, flags)
        self._text = ""
        self._offset = 0
        self._eof = False

    async def close(self) -> None:
        """Close the underlying binary reader."""
        self._closed = True
        await self.buffer.close()


class S3TextWriter(_WriteOnly):
    """A text writer over :class:`S3ObjectWriter` (``mode="w"``, ``"x"`` or ``"a"``).

    Encodes incrementally (UTF-8 unless ``encoding`` says otherwise). ``newline=None`` writes
    ``\\n`` as ``os.linesep``; ``""`` and ``"\\n"`` write it unchanged; ``"\\r"`` and
    ``"\\r\\n"`` replace it, as :func:`open` does. ``write`` returns the characters written.
    """

    def __init__(
        self,
        raw: S3ObjectWriter,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        *,
        mode: str = "w",
    ) -> None:
        self.buffer = raw
        self.name = raw.name
        self.mode = mode
        self.encoding = encoding or "utf-8"
        self.errors = errors or "strict"
        self._newline = os.linesep if newline is None else newline
        self._translate = self._newline not in ("", "\n")
        self._encoder = codecs.getincrementalencoder(self.encoding)(self.errors)
        if raw.position() > 0:  # appending: no second byte-order mark
            with contextlib.suppress(AttributeError, TypeError):
                self._encoder.setstate(0)
        self._encoded = False  # whether the encoder was ever used (see close)
        self._closed = False

    def writable(self) -> bool:
        """True (``ValueError`` once closed)."""
        self._check_open()
        return True

    async def write(self, text: str) -> int:
        """Encode and buffer ``text``; returns ``len(text)``."""
        self._check_open()
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        encoded = self._encoder.encode(
            text.replace("\n", self._newline) if self._translate else text
        )
        self._encoded = True
        if encoded:
            await self.buffer.write(encoded)
        return len(text)

    async def writelines(self, lines: Iterable[str]) -> None:
        """Write each string of ``lines`` (no line endings are added)."""
        self._check_open()
        for line in lines:
            await self.write(line)

    async def flush(self) -> None:
        """Wait for the parts in flight (see :meth:`S3ObjectWriter.flush`)."""
        await self.buffer.flush()

    async def tell(self) -> int:
        """The number of bytes written (as a text file's ``tell``, an opaque number)."""
        self._check_open()
        return self.buffer.position()

    async def close(self) -> None:
        """Finish encoding and complete the object.

        A writer that was never written to leaves an empty object, as :func:`open` leaves an
        empty file: the encoder, never used, adds no byte-order mark.
        """
        if self._closed:
            return
        self._closed = True
        try:
            tail = self._encoder.encode("", final=True) if self._encoded else b""
            if tail:
                await self.buffer.write(tail)
        except BaseException:
            await self.buffer.abort()
            raise
        await self.buffer.close()

    async def abort(self) -> None:
        """Discard everything written (see :meth:`S3ObjectWriter.abort`)."""
        self._closed = True
        await self.buffer.abort()

    async def _exit(self, failed: bool) -> None:
        if failed:
            await self.abort()
        else:
            await self.close()


# -- open -------------------------------------------------------------------------------------


class FileOpener(Generic[_F]):
    """What ``AsyncS3Path.open()`` returns: use it with ``async with``, or ``await`` it.

    ``async with path.open("rb") as f:`` opens (one ``HeadObject`` for reading, none for
    writing) and closes the file; ``f = await path.open("rb")`` returns the open file, to be
    closed with ``await f.close()`` (or used in ``async with f:``).
    """

    __slots__ = ("_file", "_opening")

    def __init__(self, opening: Callable[[], Awaitable[_F]]) -> None:
        self._opening: Callable[[], Awaitable[_F]] | None = opening
        self._file: _F | None = None

    async def _open(self) -> _F:
        opening, self._opening = self._opening, None
        if opening is None:
            raise RuntimeError("this open() call was already used; call open() again")
        self._file = await opening()
        return self._file

    def __await__(self) -> Generator[Any, None, _F]:
        return self._open().__await__()

    async def __aenter__(self) -> _F:
        return await self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        file = self._file
        if file is not None:
            await cast(_AsyncFile, file).__aexit__(exc_type, exc, tb)


AsyncFile = S3ObjectReader | S3ObjectWriter | S3TextReader | S3TextWriter


def open_async(
    request: Callable[[], Awaitable[Target]],
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    missing: Callable[[Target, S3FileNotFoundError], Awaitable[None]] | None = None,
) -> FileOpener[Any]:
    """The file opener of ``AsyncS3Path.open``; ``request`` resolves the path's target.

    Arguments are checked at once (``ValueError`` for a bad mode); the file opens when the
    opener is awaited or entered. ``missing`` is awaited when there is no object to read, and
    may raise a better error than ``FileNotFoundError`` (``IsADirectoryError``).
    """
    parsed = parse_mode(mode)
    check_text_arguments(parsed, encoding, errors, newline)
    if not isinstance(buffering, int):
        raise TypeError(f"buffering must be an int, not {type(buffering).__name__}")
    if buffering == 0 and not parsed.binary:
        raise ValueError("can't have unbuffered text I/O")

    async def opening() -> AsyncFile:
        target = await request()
        if parsed.reading:
            try:
                reader = await S3ObjectReader.open(target, mode=parsed.binary_mode)
            except S3FileNotFoundError as error:
                if missing is not None:
                    await missing(target, error)
                raise
            if parsed.binary:
                return reader
            return S3TextReader(reader, encoding, errors, newline, mode=mode)
        writer = await S3ObjectWriter.open(target, mode=parsed.binary_mode, kind=parsed.kind)
        if parsed.binary:
            return writer
        return S3TextWriter(writer, encoding, errors, newline, mode=mode)

    return FileOpener(opening)


#: ``open()`` modes by the kind of file object they give (for type checkers).
BinaryReadMode = Literal["rb", "br"]
BinaryWriteMode = Literal["wb", "bw", "xb", "bx", "ab", "ba"]
TextReadMode = Literal["r", "rt", "tr"]
TextWriteMode = Literal["w", "wt", "tw", "x", "xt", "tx", "a", "at", "ta"]
