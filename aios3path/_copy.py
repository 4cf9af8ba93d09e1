"""Copying one object: server-side when both ends share an endpoint, streamed otherwise.

* Same endpoint, up to ``multipart_copy_threshold`` (5 GiB by default): one ``CopyObject``.
* Same endpoint, larger: multipart ``UploadPartCopy``, parts in parallel.
* Different endpoints: ranged GETs from the source feed ``PutObject`` or a multipart upload
  on the target, at most ``max_concurrency`` parts in memory.

The copy keeps the source's content type and user metadata; the target prefix's registered
parameters that concern storage (encryption, storage class, …) apply. A failed or cancelled
multipart copy is aborted, leaving no parts behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from . import _s3
from ._concurrency import map_bounded
from ._target import Target
from ._transfer_config import part_ranges

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


async def _multipart(
    target: Target,
    head: Mapping[str, Any],
    ranges: list[tuple[int, int, int]],
    send_part: Callable[[str, tuple[int, int, int]], Awaitable[dict[str, Any]]],
) -> None:
    """Create a multipart upload, send every range through ``send_part``, complete it.

    Any failure or cancellation aborts the upload before the error propagates.
    """
    upload_id = await _s3.create_multipart_upload(
        target.client,
        target.uri,
        target.bucket,
        target.key,
        storage_parameters(target.params),
        **content_arguments(head),
    )
    try:
        parts = await map_bounded(
            lambda r: send_part(upload_id, r), ranges, target.transfer.max_concurrency
        )
        await _s3.complete_multipart_upload(
            target.client, target.uri, target.bucket, target.key, upload_id, parts
        )
    except BaseException:
        abort = asyncio.ensure_future(
            _s3.abort_multipart_upload(
                target.client, target.uri, target.bucket, target.key, upload_id
            )
        )
        with contextlib.suppress(Exception):  # the original error matters more
            await asyncio.shield(abort)
        raise


async def copy_object(source: Target, target: Target, head: Mapping[str, Any]) -> None:
    """Copy the object ``source`` (whose ``HeadObject`` is ``head``) to ``target``."""
    size = int(head.get("ContentLength", 0))
    etag = head.get("ETag")
    config = target.transfer
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
            )

        part = config.part_size_for(size, config.multipart_copy_chunksize)
        await _multipart(target, head, part_ranges(0, size, part), copy_part)
        return
    await _stream_copy(source, target, head, size)


async def _stream_copy(source: Target, target: Target, head: Mapping[str, Any], size: int) -> None:
    """Copy across endpoints through this process, one part per request."""
    config = target.transfer
    get_params = {"IfMatch": head["ETag"]} if head.get("ETag") else {}
    get_params.update(source.params)
    if size <= config.multipart_threshold:
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
            **content_arguments(head),
        )
        return

    async def move_part(upload_id: str, r: tuple[int, int, int]) -> dict[str, Any]:
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

    part = config.part_size_for(size)
    await _multipart(target, head, part_ranges(0, size, part), move_part)
