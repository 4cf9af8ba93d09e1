"""Operations on whole prefixes ("directories"): deleting every key under one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import _s3
from ._errors import S3Error
from ._listing import iter_pages

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


async def delete_keys(
    client: Any,
    uri: str,
    bucket: str,
    keys: Sequence[str],
    params: Mapping[str, Any] = {},
) -> None:
    """Delete ``keys``, 1,000 per ``DeleteObjects``; raise naming every key that failed."""
    failures: list[_s3.DeleteFailure] = []
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        failures.extend(await _s3.delete_objects(client, uri, bucket, batch, params))
    raise_for_failures(uri, failures, len(keys) - len(failures))


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
