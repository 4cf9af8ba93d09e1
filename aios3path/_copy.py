"""Copying one object: server-side when both ends share an endpoint, streamed otherwise.

* Same endpoint, up to ``multipart_copy_threshold`` (5 GiB by default): one ``CopyObject``.
* Same endpoint, larger: multipart ``UploadPartCopy``, parts in parallel.
* Different endpoints: ranged GETs from the source feed ``PutObject`` or a multipart upload
  on the target, at most ``max_concurrency`` parts in memory, at most ``max_bandwidth``
  bytes of the object a second (server-side copies move nothing through this process and
  are not limited).

The copy keeps the source's content type, content headers, user metadata and tags (unless
the target's registered parameters set ``Tagging``); the target prefix's registered
parameters that concern storage (encryption, storage class, …) apply. Parts are at least
S3's 5 MiB minimum, whatever the configured part size. A failed or cancelled multipart copy
is aborted, leaving no parts behind.

Shared with the writers and uploads: :func:`kept_arguments` (what a rewrite of an object
needs to keep its attributes) and :func:`start_multipart_upload` (a
``CreateMultipartUpload`` that a cancellation cannot orphan).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from . import _s3
from ._concurrency import map_bounded, protected, run_cleanup
from ._errors import pinned_to
from ._target import Target
from ._transfer_config import MIN_PART_SIZE, part_ranges

_CONTENT_HEADERS = (
    "ContentType",
    "ContentEncoding",
    "ContentLanguage",
    "ContentDisposition",
    "CacheControl",
    "Metadata",
)


def content_arguments(head: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments that recreate the source's content type and metadata on a new write."""
    return {name: head[name] for name in _CONTENT_HEADERS if head.get(name)}


def storage_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The registered parameters without those that describe content."""
    return {k: v for k, v in params.items() if k not in _s3.CONTENT_ARGUMENTS}


def _tag_count(head: Mapping[str, Any]) -> int:
    """The number of tags a ``HeadObject`` reports (``x-amz-tagging-count``; 0 if absent)."""
    count = head.get("TagCount")
    if count is None:  # the lean path keeps it among the raw headers
        count = head.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-tagging-count")
    return int(count or 0)


async def tagging(source: Target, head: Mapping[str, Any]) -> str | None:
    """The tags of the object ``source`` (whose ``HeadObject`` is ``head``), as ``Tagging=``.

    One ``GetObjectTagging``, sent only when the HEAD reports tags (their count,
    ``x-amz-tagging-count``, comes with the HEAD of a tagged object on S3 and moto); ``None``
    without tags. A store that does not report the count has its tags left behind.
    """
    if _tag_count(head) <= 0:
        return None
    tags = await _s3.get_object_tagging(
        source.client, source.uri, source.bucket, source.key, source.params
    )
    return urlencode(tags, quote_via=quote) if tags else None


async def kept_arguments(
    source: Target, head: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """The arguments that give a new write the attributes of the object ``source``.

    Its content type and other content headers, its user metadata (from ``head``, its
    ``HeadObject``) and its tags (see :func:`tagging`), except the tags when the write's
    ``params`` set ``Tagging`` themselves.
    """
    arguments = content_arguments(head)
    if "Tagging" not in params:
        tags = await tagging(source, head)
        if tags is not None:
            arguments["Tagging"] = tags
    return arguments


async def start_multipart_upload(
    target: Target, params: Mapping[str, Any], **arguments: Any
) -> str:
    """``CreateMultipartUpload`` of ``target`` that a cancellation cannot orphan.

    Returns the upload id. A request cancelled on its way may have created the upload all
    the same (the server got it; its answer had not arrived), and nobody would know its id.
    So the request is shielded: when the caller is cancelled meanwhile, the request runs to
    its end and the upload it created is aborted before ``CancelledError`` propagates.
    """
    creating = protected(
        _s3.create_multipart_upload(
            target.client, target.uri, target.bucket, target.key, params, **arguments
        )
    )
    try:
        return await asyncio.shield(creating)
    except asyncio.CancelledError:
        await run_cleanup(_abort_created(target, creating))  # even past a 2nd cancellation
        raise


async def _abort_created(target: Target, creating: asyncio.Future[str]) -> None:
    """Abort the upload ``creating`` makes, if it makes one (errors are nobody's to see)."""
    with contextlib.suppress(Exception):
        upload_id = await creating
        await _s3.abort_multipart_upload(
            target.client, target.uri, target.bucket, target.key, upload_id
        )


async def multipart_upload(
    target: Target,
    params: Mapping[str, Any],
    arguments: Mapping[str, Any],
    ranges: list[tuple[int, int, int]],
    send_part: Callable[[str, tuple[int, int, int]], Awaitable[dict[str, Any]]],
) -> None:
    """Create a multipart upload, send every range through ``send_part``, complete it.

    ``params`` (registered parameters) and ``arguments`` go to ``CreateMultipartUpload``;
    at most ``max_concurrency`` parts are sent at once. Any failure or cancellation aborts
    the upload before the error propagates.
    """
    upload_id = await start_multipart_upload(target, params, **arguments)
    try:
        parts = await map_bounded(
            lambda r: send_part(upload_id, r), ranges, target.transfer.max_concurrency
        )
        await _s3.complete_multipart_upload(
            target.client, target.uri, target.bucket, target.key, upload_id, parts
        )
    except BaseException:
        with contextlib.suppress(Exception):  # the original error matters more
            await run_cleanup(
                _s3.abort_multipart_upload(
                    target.client, target.uri, target.bucket, target.key, upload_id
                )
            )
        raise


async def copy_object(source: Target, target: Target, head: Mapping[str, Any]) -> None:
    """Copy the object ``source`` (whose ``HeadObject`` is ``head``) to ``target``.

    Every request reading the source is conditional on the ETag in ``head``: a source written
    again meanwhile raises :class:`S3ObjectChangedError`, never a copy mixing two objects.
    """
    with pinned_to(source.uri, head.get("ETag"), "copied"):
        await _copy_object(source, target, head)


async def _copy_object(source: Target, target: Target, head: Mapping[str, Any]) -> None:
    size = int(head.get("ContentLength", 0))
    etag = head.get("ETag")
    config = target.transfer
    version_id = source.params.get("VersionId")  # a versioned path copies its version
    if source.same_endpoint(target):
        if size <= config.multipart_copy_threshold:
            await _s3.copy_object(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                source.bucket,
                source.key,
                target.params,
                source_etag=etag,
                source_version_id=version_id,
            )
            return

        async def copy_part(upload_id: str, r: tuple[int, int, int]) -> dict[str, Any]:
            return await _s3.upload_part_copy(
                target.client,
                target.uri,
                target.bucket,
                target.key,
                upload_id,
                r[0],
                source.bucket,
                source.key,
                (r[1], r[2]),
                source_etag=etag,
                source_version_id=version_id,
            )

        part = max(config.part_size_for(size, config.multipart_copy_chunksize), MIN_PART_SIZE)
        await multipart_upload(
            target,
            storage_parameters(target.params),
            await kept_arguments(source, head, target.params),
            part_ranges(0, size, part),
            copy_part,
        )
        return
    await _stream_copy(source, target, head, size)


async def _stream_copy(source: Target, target: Target, head: Mapping[str, Any], size: int) -> None:
    """Copy across endpoints through this process, one part per request.

    With the target's ``max_bandwidth``, each part (or the whole small object) waits for its
    share of the rate before its GET, as writes and uploads do before their PUTs; its bytes
    count once, although they come in and go out.
    """
    from ._file import limiter_for  # imported late: _file depends on this module

    config = target.transfer
    limiter = limiter_for(target)
    get_params = {"IfMatch": head["ETag"]} if head.get("ETag") else {}
    get_params.update(source.params)
    arguments = await kept_arguments(source, head, target.params)
    if size <= config.multipart_threshold:
        if limiter is not None:
            await limiter.consume(size)
        body = await _s3.get_object(
            source.client, source.uri, source.bucket, source.key, get_params
        )
        await _s3.put_object(
            target.client,
            target.uri,
            target.bucket,
            target.key,
            body,
            storage_parameters(target.params),
            **arguments,
        )
        return

    async def move_part(upload_id: str, r: tuple[int, int, int]) -> dict[str, Any]:
        if limiter is not None:
            await limiter.consume(r[2] - r[1] + 1)
        data = await _s3.get_object(
            source.client,
            source.uri,
            source.bucket,
            source.key,
            get_params,
            byte_range=(r[1], r[2]),
        )
        return await _s3.upload_part(
            target.client, target.uri, target.bucket, target.key, upload_id, r[0], data
        )

    part = max(config.part_size_for(size), MIN_PART_SIZE)
    await multipart_upload(
        target, storage_parameters(target.params), arguments, part_ranges(0, size, part), move_part
    )
