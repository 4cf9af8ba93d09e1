"""``ListObjectsV2`` paging: lazy page-by-page iteration, flat or one level deep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from . import _s3
from ._s3 import ListPage


async def iter_pages(
    client: Any,
    uri: str,
    bucket: str,
    prefix: str,
    *,
    delimiter: str | None = None,
    start_after: str | None = None,
    max_keys: int | None = None,
    params: Mapping[str, Any] = {},
) -> AsyncIterator[ListPage]:
    """Every ``ListObjectsV2`` page under ``prefix``, fetched one at a time as iterated."""
    token: str | None = None
    while True:
        page = await _s3.list_page(
            client,
            uri,
            bucket,
            prefix,
            delimiter=delimiter,
            token=token,
            start_after=start_after if token is None else None,
            max_keys=max_keys,
            params=params,
        )
        yield page
        token = page.next_token
        if token is None:
            return
