"""Operations on whole prefixes ("directories"): deleting, copying and moving every key."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from . import _s3
from ._concurrency import map_bounded
from ._copy import copy_object
from ._errors import NO_OBJECT_CODES, S3Error, S3FileNotFoundError
from ._listing import iter_pages
from ._target import Target

#: ``DeleteObjects`` accepts at most this many keys per request.
DELETE_BATCH = 1000


class S3DeleteError(S3Error):
    """Some keys could not be deleted; ``failures`` names each with S3's reason.

    ``deleted`` counts the keys that were deleted before the error was raised.
    """

    def __init__(
        self,
        message: str,
        response: Mapping[str, Any] | None = None,
        operation_name: str = "DeleteObjects",
        failures: Sequence[_s3.DeleteFailure] = (),
        deleted: int = 0,
    ) -> None:
        super().__init__(message, response, operation_name)
        self.failures = list(failures)
        self.deleted = deleted

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.strerror, self.response, self.operation_name, self.failures, self.deleted),
        )


def raise_for_failures(uri: str, failures: Sequence[_s3.DeleteFailure], deleted: int) -> None:
    """Raise :class:`S3DeleteError` naming the keys of ``failures`` (if there are any)."""
    if not failures:
        return
    shown = ", ".join(f"{f.key!r} ({f.code})" for f in failures[:5])
    more = f" and {len(failures) - 5} more" if len(failures) > 5 else ""
    first = failures[0]
    raise S3DeleteError(
        f"{uri}: could not delete {len(failures)} key(s): {shown}{more}",
        {"Error": {"Code": first.code, "Message": first.message}},
        failures=failures,
        deleted=deleted,
    )


async def delete_moved_object(source: Target, etag: str | None, target_uri: str) -> None:
    """Delete the object ``source`` after it was copied to ``target_uri`` (a move's last step).

    The delete is conditional on ``etag``, the ETag of the copied object: a source written
    again since it was copied is not deleted but kept, and :class:`S3TransferError` says so (its
    ``not_deleted`` names the key). A source deleted meanwhile by someone else is fine: it is
    gone, as the move wanted. A store that does not implement conditional deletes (answering
    ``NotImplemented``) gets a plain delete; one that ignores the condition deletes as before.

    A versioned source's delete acts on the plain key, on the same condition: the key is
    deleted only while its current object has the copied version's content.
    """
    versioned = "VersionId" in source.params
    source = source.plain()
    if_match = etag or None
    delete = _s3.delete_object
    try:
        await delete(
            source.client, source.uri, source.bucket, source.key, source.params, if_match=if_match
        )
    except S3Error as error:
        if if_match is None:
            raise
        if error.code == "NotImplemented":
            await delete(source.client, source.uri, source.bucket, source.key, source.params)
        elif error.code == "PreconditionFailed" and await _still_there(source, source.key):
            why = (
                "its current object is another version, and is kept"
                if versioned
                else "it was written again during the move, so it holds newer data than the "
                "copy, and is kept"
            )
            raise S3TransferError(
                f"{source.uri}: copied to {target_uri} but not deleted: {why}",
                error.response,
                "DeleteObject",
                not_deleted=[source.key],
            ) from error
        elif error.code not in NO_OBJECT_CODES and error.code != "PreconditionFailed":
            raise


async def _still_there(source: Target, key: str) -> bool:
    """Whether ``key`` exists, asked after a conditional delete of it failed its condition.

    S3 answers ``NoSuchKey`` for a key that is gone, but some stores (SeaweedFS) answer
    ``PreconditionFailed``: a ``HeadObject`` tells a source written again from one deleted.
    """
    try:
        await _s3.head_object(source.client, source.uri, source.bucket, key, source.params)
    except FileNotFoundError:
        return False
    return True


async def delete_moved_keys(
    source: Target, etags: Mapping[str, str | None]
) -> list[_s3.DeleteFailure]:
    """Delete the keys of ``etags`` (at most 1,000) after they were copied: a move's last step.

    Each key is deleted only while it holds the copied object, whose ETag ``etags`` maps it to;
    the keys written again since are kept, and returned among the failures (with S3's
    ``PreconditionFailed``). Keys deleted meanwhile by someone else are not failures. Keys a store
    refuses to delete conditionally (``NotImplemented``) are deleted without the condition.
    """
    source = source.plain()
    failures = await _s3.delete_objects(
        source.client, source.uri, source.bucket, list(etags), source.params, etags=etags
    )
    unsupported = [f.key for f in failures if f.code == "NotImplemented"]
    if unsupported:
        failures = [f for f in failures if f.code != "NotImplemented"]
        failures += await _s3.delete_objects(
            source.client, source.uri, source.bucket, unsupported, source.params
        )
    failures = [f for f in failures if f.code not in NO_OBJECT_CODES]  # gone: the aim
    changed = [f.key for f in failures if f.code == "PreconditionFailed"]
    if changed:
        there = await map_bounded(
            lambda key: _still_there(source, key), changed, source.transfer.max_concurrency
        )
        gone = {key for key, present in zip(changed, there, strict=True) if not present}
        failures = [f for f in failures if f.key not in gone]
    return failures


async def delete_prefix(
    client: Any, uri: str, bucket: str, prefix: str, params: Mapping[str, Any] = {}
) -> int:
    """Delete every key that starts with ``prefix``; returns how many were deleted.

    Each listing page (at most 1,000 keys) becomes one ``DeleteObjects`` request. Per-key
    failures are collected and raised together at the end, naming the keys.
    """
    deleted = 0
    failures: list[_s3.DeleteFailure] = []
    async for page in iter_pages(client, uri, bucket, prefix, params=params):
        keys = [entry.key for entry in page.objects]
        if not keys:
            continue
        failed = await _s3.delete_objects(client, uri, bucket, keys, params)
        failures.extend(failed)
        deleted += len(keys) - len(failed)
    raise_for_failures(uri, failures, deleted)
    return deleted


class S3TransferError(S3Error):
    """A copy or move of several keys stopped part-way.

    Nothing is lost: every key is at its source, its target, or both. ``moved`` counts the keys
    that reached the target (and, for a move, left the source); ``failed`` maps the keys that
    could not be copied to their error; ``not_deleted`` lists keys copied but still at the
    source because S3 refused to delete them (or the request to delete them failed). Keys
    after the first failure were not attempted and are still at the source.
    """

    def __init__(
        self,
        message: str,
        response: Mapping[str, Any] | None = None,
        operation_name: str = "",
        moved: int = 0,
        failed: Mapping[str, BaseException] | None = None,
        not_deleted: Sequence[str] = (),
    ) -> None:
        super().__init__(message, response, operation_name)
        self.moved = moved
        self.failed = dict(failed or {})
        self.not_deleted = list(not_deleted)

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (
                self.strerror,
                self.response,
                self.operation_name,
                self.moved,
                {k: OSError(str(v)) for k, v in self.failed.items()},
                self.not_deleted,
            ),
        )


def raise_transfer_failures(
    source_uri: str,
    target_uri: str,
    *,
    delete_source: bool,
    moved: int,
    failed: Mapping[str, BaseException],
    not_deleted: Sequence[str],
    delete_errors: Sequence[BaseException] = (),
) -> None:
    """Raise :class:`S3TransferError` saying what a prefix copy or move did and did not do
    (if some key failed to copy, or was copied but not deleted)."""
    if not failed and not not_deleted:
        return
    verb = "moved" if delete_source else "copied"
    parts = [f"{source_uri}: {verb} {moved} key(s) to {target_uri}"]
    if failed:
        shown = ", ".join(f"{k!r} ({e})" for k, e in list(failed.items())[:3])
        parts.append(
            f"could not copy {len(failed)} key(s): {shown}; "
            "keys not yet copied were left at the source"
        )
    if not_deleted:
        parts.append(
            f"{len(not_deleted)} key(s) were copied but could not be deleted from the "
            f"source (they are in both places): {list(not_deleted[:5])!r}"
        )
    if delete_errors:
        parts.append(f"deleting sources failed: {delete_errors[0]}")
    first = next(iter(failed.values()), None) or next(iter(delete_errors), None)
    response = getattr(first, "response", None)
    raise S3TransferError(
        "; ".join(parts),
        response,
        "CopyObject" if failed else "DeleteObjects",
        moved=moved,
        failed=failed,
        not_deleted=not_deleted,
    )


async def transfer_prefix(
    source: Target,
    target: Target,
    source_prefix: str,
    target_prefix: str,
    *,
    delete_source: bool,
) -> int:
    """Copy (or move) every key under ``source_prefix`` to the same key under ``target_prefix``.

    Keys are copied with at most ``max_concurrency`` in flight (server-side when both ends share
    an endpoint). For a move, sources are deleted 1,000 per ``DeleteObjects``, each only after
    its copy succeeded. The first copy failure stops new copies; what was and was not moved is
    raised as :class:`S3TransferError`. Returns how many keys were copied.
    """
    limit = max(1, target.transfer.max_concurrency)
    queue: asyncio.Queue[_s3.ObjectEntry | None] = asyncio.Queue(maxsize=limit * 4)
    copied: dict[str, str | None] = {}  # key -> ETag of the copied object, until deleted
    failed: dict[str, BaseException] = {}
    not_deleted: list[str] = []
    delete_errors: list[Exception] = []
    moved = 0
    stop = asyncio.Event()

    async def flush_deletes(final: bool = False) -> None:
        nonlocal moved
        while copied and (final or len(copied) >= DELETE_BATCH):
            batch = {key: copied.pop(key) for key in list(itertools.islice(copied, DELETE_BATCH))}
            if not delete_source:
                moved += len(batch)
                continue
            try:
                failures = await delete_moved_keys(source, batch)
            except Exception as error:  # the batch is copied: it is in both places
                delete_errors.append(error)
                not_deleted.extend(batch)
                stop.set()
                continue
            not_deleted.extend(f.key for f in failures)
            moved += len(batch) - len(failures)

    async def produce() -> None:
        async for page in iter_pages(
            source.client, source.uri, source.bucket, source_prefix, params=source.params
        ):
            if stop.is_set():
                break
            for entry in page.objects:
                if stop.is_set():
                    break
                await queue.put(entry)
        # Only when listing ended normally: after a failure or a cancellation the workers
        # are cancelled, and nobody would take these from a full queue.
        for _ in range(limit):
            await queue.put(None)

    async def work() -> None:
        while (entry := await queue.get()) is not None:
            if stop.is_set():
                continue
            key = target_prefix + entry.key[len(source_prefix) :]
            try:
                await _copy_entry(source.at(entry.key), target.at(key), entry)
            except Exception as error:
                failed[entry.key] = error
                stop.set()
                continue
            copied[entry.key] = entry.etag
            if len(copied) >= DELETE_BATCH:
                await flush_deletes()

    producer = asyncio.ensure_future(produce())
    workers = [asyncio.ensure_future(work()) for _ in range(limit)]
    try:
        await asyncio.gather(producer, *workers)
    except BaseException:
        for task in (producer, *workers):
            task.cancel()
        await asyncio.gather(producer, *workers, return_exceptions=True)
        raise
    await flush_deletes(final=True)
    raise_transfer_failures(
        source.uri,
        target.uri,
        delete_source=delete_source,
        moved=moved,
        failed=failed,
        not_deleted=not_deleted,
        delete_errors=delete_errors,
    )
    return moved


async def _copy_entry(source: Target, target: Target, entry: _s3.ObjectEntry) -> None:
    """Copy one listed object; a ``HeadObject`` only where its metadata must be rewritten.

    A ``dir/`` marker that the store will not copy (SeaweedFS answers ``NoSuchKey`` for one) is
    made anew at the target: an empty object, with the target's registered parameters.
    """
    head: Mapping[str, Any] = {"ContentLength": entry.size, "ETag": entry.etag}
    if not source.same_endpoint(target) or entry.size > target.transfer.multipart_copy_threshold:
        head = await _s3.head_object(
            source.client, source.uri, source.bucket, source.key, source.params
        )
    try:
        await copy_object(source, target, head)
    except S3FileNotFoundError as error:
        if entry.size or not entry.key.endswith("/") or error.code != "NoSuchKey":
            raise
        await _s3.put_object(
            target.client, target.uri, target.bucket, target.key, b"", target.params
        )
