"""``ListObjectsV2`` paging: lazy page-by-page iteration, flat or one level deep.

While the caller works through one page, the next one is already being fetched (one page of
read-ahead, never more), so a listing costs the server's time or the caller's, not both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Mapping
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
    """Every ``ListObjectsV2`` page under ``prefix``, one page ahead of the caller at most."""

    def fetch(token: str | None) -> Awaitable[ListPage]:
        return _s3.list_page(
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

    upcoming: asyncio.Future[ListPage] | None = None
    try:
        page = await fetch(None)
        while True:
            if page.next_token is not None:
                upcoming = asyncio.ensure_future(fetch(page.next_token))
                # Let it send its request now: the caller's work on this page may never
                # yield to the event loop before it asks for the next page.
                await asyncio.sleep(0)
            yield page
            if upcoming is None:
                return
            page = await upcoming
            upcoming = None
    finally:
        if upcoming is not None:
            upcoming.cancel()
            with contextlib.suppress(BaseException):
                await upcoming
