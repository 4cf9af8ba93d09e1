"""Whole-object transfers: local files <-> S3 and ``read_bytes``/``write_bytes`` of big objects.

Objects above ``multipart_threshold`` move in parts of ``multipart_chunksize`` bytes, at most
``max_concurrency`` at once: uploads by multipart upload (aborted on any failure or
cancellation), downloads by ranged GETs pinned to the ETag seen first (``If-Match``). Local
file I/O goes through :mod:`aiofiles`, so the event loop never blocks on the disk; a download
writes a temporary file next to the target and renames it into place at the end, so a failed
download leaves no partial file. Over an existing file the download keeps that file's
permissions, and a symbolic link is written through (the file it leads to is replaced).

Progress: the ``callback_class`` registered for the S3 path is instantiated once per transfer
with the *source* (the local path as a ``str`` for uploads, an ``S3Path`` for downloads; in a
worker thread, since it may do I/O such as ``os.path.getsize`` or ``S3Path.stat()``) and then
called on the event loop with each number of bytes moved; the numbers add up to the size.
Calls must be quick and must not use the synchronous ``S3Path`` API (that raises there).

``max_bandwidth`` limits each transfer's average rate (a token bucket over its parts and
chunks).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
import stat
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import aiofiles
import aiofiles.os

from . import _s3
from ._concurrency import map_bounded, run_cleanup, start_cleanup
from ._copy import multipart_upload
from ._errors import S3ValueError
from ._file import (
    BandwidthLimiter,
    S3ObjectWriter,
    as_body,
    fetch_part,
    head_for_open,
    iter_range,
    limiter_for,
    receive_part,
)
from ._http import Buffer
from ._target import Target
from ._transfer_config import MIN_PART_SIZE, part_ranges
from ._workers import in_own_thread

Progress = Callable[[int], None]


async def progress_callback(callback_class: Any, source: Any) -> Progress | None:
    """Instantiate the registered progress callback for one transfer (in a thread of its own:
    the constructor may make sync calls, which need the loop's worker threads free)."""
    if callback_class is None:
        return None
    callback = await in_own_thread(callback_class, source)
    return cast(Progress, callback) if callable(callback) else None


def _sync_twin(path: Any) -> Any:
    """The synchronous ``S3Path`` of an ``AsyncS3Path`` (what sync callbacks can use)."""
    from . import _sync  # imported late: _sync depends on the modules that depend on this one

    return _sync.to_sync(path)


# -- read_bytes / write_bytes -----------------------------------------------------------------


@contextlib.asynccontextmanager
async def _open_file(path: str, mode: str) -> AsyncIterator[Any]:
    """``aiofiles.open`` that a cancellation cannot leak.

    aiofiles opens in a worker thread: a task cancelled while it waits would leave the file
    that the thread then opens to the garbage collector. The open is shielded instead, and a
    file that arrives after a cancellation is closed at once.
    """
    opening = asyncio.ensure_future(_aiofiles_open(path, mode))
    try:
        file = await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        # The file exists once the open is done: only then may the caller's clean-up remove
        # it (removed earlier, the worker thread would create it again, left behind).
        await run_cleanup(asyncio.wait([opening]))
        raise
    try:
        yield file
    finally:
        await asyncio.shield(file.close())


async def _aiofiles_open(path: str, mode: Any) -> Any:
    return await aiofiles.open(path, mode)


def _close_opened(opening: asyncio.Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        start_cleanup(opening.result().close())


async def _read_start(
    target: Target, length: int, limiter: BandwidthLimiter | None
) -> tuple[Buffer, int, str | None]:
    """The object's first ``length`` bytes, its whole size and ETag, from one ranged GET.

    With a bandwidth ``limiter`` the body is taken 256 KiB at a time, each after its share of
    the rate (the sender waits meanwhile: TCP holds it back).
    """
    if limiter is None:
        start = await _s3.get_object_start(
            target.client, target.uri, target.bucket, target.key, target.params, length
        )
        if start is not None:
            return start
    body = await _s3.start_object(
        target.client,
        target.uri,
        target.bucket,
        target.key,
        target.params,
        byte_range=(0, length - 1),
    )
    try:
        chunks = []
        received = 0
        step = 1 << 20 if limiter is None else 256 * 1024
        while received < body.content_length:
            if limiter is not None:
                await limiter.consume(min(step, body.content_length - received))
            chunk = await body.read(min(step, body.content_length - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        return b"".join(chunks), body.total_size, body.etag
    finally:
        body.close()  # leaving early drops the connection instead of reading on


async def read_object(target: Target) -> bytes:
    """The whole object: one GET if it is small, parts in parallel past the threshold.

    The first request asks for the first ``max(multipart_threshold, multipart_chunksize)``
    bytes; if the object is longer, the rest comes in parts of ``multipart_chunksize``, at
    most ``max_concurrency`` at once, each pinned to the first response's ETag.
    """
    config = target.transfer
    first_size = max(config.multipart_threshold, config.multipart_chunksize, 1)
    limiter = limiter_for(target)
    try:
        start, size, etag = await _read_start(target, first_size, limiter)
    except S3ValueError as error:
        if error.code != "InvalidRange":
            raise
        start, size, etag = b"", -1, None  # an empty object has no byte 0 to range over
    except _s3.ObjectStreamError:
        start, size, etag = b"", -1, None
    filled = len(start)
    if 0 <= size <= filled:
        return start if type(start) is bytes else bytes(start)
    if size < 0 or filled < min(first_size, size):
        return await _s3.get_object(
            target.client, target.uri, target.bucket, target.key, target.params
        )
    ranges = part_ranges(filled, size, max(config.multipart_chunksize, 1))
    # The parts are received straight into the BytesIO's own buffer, which getvalue() then
    # hands out as the bytes object itself: one copy of the data (the socket's), no join.
    whole = io.BytesIO()
    whole.seek(size - 1)
    whole.write(b"\0")
    with whole.getbuffer() as view:
        view[:filled] = start

        async def get(r: tuple[int, int, int]) -> None:
            await receive_part(target, r[1], view[r[1] : r[2] + 1], etag, limiter)

        await map_bounded(get, ranges, config.max_concurrency)
    return whole.getvalue()


async def write_object(target: Target, data: bytes | bytearray | memoryview) -> int:
    """Write ``data`` as the object: one ``PutObject`` up to the threshold, else parts."""
    with memoryview(data) as view:
        size = view.nbytes
        if size <= target.transfer.multipart_threshold:
            limiter = limiter_for(target)
            if limiter is not None:  # as the writers do: each part waits for its share
                await limiter.consume(size)
            await _s3.put_object(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                as_body(view.tobytes() if not isinstance(data, bytes) else data),
                target.params,
            )
            return size
        async with S3ObjectWriter(target, size_hint=size) as writer:
            await writer.write(view)
    return size


# -- local files ------------------------------------------------------------------------------


async def upload_file(target: Target, local_path: str | os.PathLike[str]) -> int:
    """Upload the local file ``local_path`` to ``target``; returns the number of bytes.

    Up to ``multipart_threshold`` one ``PutObject``; above, a multipart upload whose parts
    are read (each through its own ``aiofiles`` handle) and sent concurrently. Memory: at most
    ``max_concurrency`` parts.
    """
    source = os.fspath(local_path)
    config = target.transfer
    size = (await aiofiles.os.stat(source)).st_size
    progress = await progress_callback(target.resolved.callback_class, source)
    limiter = limiter_for(target)
    if size <= config.multipart_threshold:
        async with _open_file(source, "rb") as file:
            body = await file.read()
        if limiter is not None:
            await limiter.consume(len(body))
        await _s3.put_object(
            target.client, target.uri, target.bucket, target.key, as_body(body), target.params
        )
        if progress is not None:
            progress(len(body))
        return len(body)
    part = max(config.part_size_for(size), MIN_PART_SIZE)

    async def send(upload_id: str, r: tuple[int, int, int]) -> dict[str, Any]:
        number, first, last = r
        async with _open_file(source, "rb") as file:
            await file.seek(first)
            body = await file.read(last - first + 1)
        if len(body) != last - first + 1:
            raise OSError(f"{source}: the file changed size during the upload")
        if limiter is not None:
            await limiter.consume(len(body))
        sent = await _s3.upload_part(
            target.client,
            target.uri,
            target.bucket,
            target.key,
            upload_id,
            number,
            as_body(body),
            target.params,
        )
        if progress is not None:
            progress(len(body))
        return sent

    await multipart_upload(target, target.params, {}, part_ranges(0, size, part), send)
    return size


async def download_file(
    target: Target, local_path: str | os.PathLike[str], source: Any = None
) -> int:
    """Download ``target`` into the local file ``local_path``; returns the number of bytes.

    One ``HeadObject`` (size and ETag), then ranged GETs of ``multipart_chunksize`` bytes (one
    GET up to ``multipart_threshold``), at most ``max_concurrency`` at once, each received
    whole and written into its place in a temporary file in the target's directory with one
    call (its own ``aiofiles`` handle per part; with ``max_bandwidth`` set, parts are streamed
    in 256 KiB chunks instead). The temporary file replaces the target only when every
    part arrived; on any failure or cancellation it is removed, leaving the target untouched.
    A target that is a symbolic link is written through: the temporary file goes next to the
    file the link resolves to and replaces that file. The new file keeps the permission bits of
    the one it replaces (a new file gets the umask's). ``source`` (the ``AsyncS3Path``) is
    handed to the progress callback as an ``S3Path``.
    Local errors name ``local_path``, never the temporary file; a target that is a directory
    (``IsADirectoryError``) or whose directory is missing (``FileNotFoundError``) fails at
    once, before any request.
    Memory: one part per part in flight (``max_concurrency`` x ``multipart_chunksize``).
    """
    shown = os.fspath(local_path)  # the name errors give: the caller's, not the temporary's
    # Through symbolic links: the file they lead to is the one replaced. A destination that
    # cannot be written fails here, before any request. (In a worker thread: both read the
    # file system.)
    destination = await asyncio.to_thread(_writable_destination, shown)
    config = target.transfer
    head = await head_for_open(target)
    size, etag = int(head.get("ContentLength", 0)), head.get("ETag")
    callback_class = target.resolved.callback_class
    progress = None
    if callback_class is not None:
        progress = await progress_callback(
            callback_class, _sync_twin(source) if source is not None else target.uri
        )
    limiter = limiter_for(target)
    # Next to the destination, so that the final rename is atomic; its name has a fixed
    # length, so it fits wherever the destination's name does (NAME_MAX, 255 bytes).
    temporary = os.path.join(os.path.dirname(destination), f".aios3path-{uuid.uuid4().hex}.part")
    try:
        async with _open_file(temporary, "wb") as file:
            if size:
                await file.truncate(size)
        if size:
            part = size if size <= config.multipart_threshold else config.part_size_for(size)
            ranges = part_ranges(0, size, max(part, 1))

            spares: list[bytearray] = []  # buffers of written parts, for the next parts

            async def receive(r: tuple[int, int, int]) -> None:
                await _receive_range(target, temporary, r[1], r[2], etag, limiter, progress, spares)

            await map_bounded(receive, ranges, config.max_concurrency)
        await _take_mode(temporary, destination)
        await aiofiles.os.replace(temporary, destination)
    except BaseException as error:
        with contextlib.suppress(OSError):  # gone already (replaced, or never created)
            await run_cleanup(aiofiles.os.remove(temporary))
        if isinstance(error, OSError) and temporary in (error.filename, error.filename2):
            raise _naming(error, shown) from error
        raise
    return size


def _writable_destination(local_path: str) -> str:
    """The file a download to ``local_path`` writes: through symbolic links, checked first.

    Raises at once what the download would otherwise raise only at its end, naming
    ``local_path``: ``IsADirectoryError`` for a directory, ``FileNotFoundError`` for a
    missing parent directory, ``NotADirectoryError`` for a parent that is a file.
    """
    destination = os.path.realpath(local_path)
    try:
        is_directory = stat.S_ISDIR(os.stat(destination).st_mode)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(destination)):
            raise _os_error(errno.ENOENT, local_path) from None
        return destination  # a new file
    except OSError as error:
        raise _naming(error, local_path) from None
    if is_directory:
        raise _os_error(errno.EISDIR, local_path)
    return destination


def _os_error(code: int, filename: str) -> OSError:
    """The ``OSError`` subclass of ``code`` (``FileNotFoundError``…) about ``filename``."""
    return OSError(code, os.strerror(code), filename)


def _naming(error: OSError, filename: str) -> OSError:
    """``error`` (of the same class) about ``filename`` instead of the files it names."""
    if error.errno is None:
        return type(error)(f"{filename}: {error}")
    return type(error)(error.errno, error.strerror, filename)


async def _take_mode(temporary: str, replaced: str) -> None:
    """Give ``temporary`` the permission bits of ``replaced``, the file it is to replace.

    Nothing to do when there is no such file: the temporary file has the umask's mode.
    """
    try:
        mode = (await aiofiles.os.stat(replaced)).st_mode
    except FileNotFoundError:
        return
    await asyncio.to_thread(os.chmod, temporary, stat.S_IMODE(mode))


async def _receive_range(
    target: Target,
    temporary: str,
    first: int,
    last: int,
    etag: str | None,
    limiter: BandwidthLimiter | None,
    progress: Progress | None,
    spares: list[bytearray],
) -> None:
    async with _open_file(temporary, "r+b") as file:
        await file.seek(first)
        if limiter is None:  # the whole part in one GET, written with one call
            length = last - first + 1
            spare = spares.pop() if spares and len(spares[-1]) == length else None
            data = await fetch_part(target, first, length, etag, spare)
            await file.write(data)
            spares.append(data)  # written: the next part can be received into it
            if progress is not None:
                progress(len(data))
            return
        chunks = iter_range(target, first, last, etag, limiter)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                await file.write(chunk)
                if progress is not None:
                    progress(len(chunk))
